"""The one interface every classifier implements.

Text classifiers take ``str``; image classifiers take ``DecodedImage``.
A classifier takes a batch of inputs of one modality and returns one typed
signal per input, in order. Weights load in ``__init__`` (once per process);
``classify_batch`` must not touch the network or the disk.
"""
from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Sequence, TypeVar

if TYPE_CHECKING:
    import PIL.Image

from pydantic import BaseModel, ConfigDict


class Modality(str, Enum):
    TEXT = "text"
    IMAGE = "image"


@dataclass(frozen=True)
class ModelIdentity:
    name: str
    version: str
    weights_sha256: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "weights_sha256": self.weights_sha256}


@dataclass(frozen=True)
class ImageView:
    """One picture a viewer may see: a sampled frame, on one background.

    ``frame`` is the 0-based frame index (0 for a still image); ``background``
    is ``"light"`` (white) or ``"dark"`` (black) when transparency was
    composited, and None for an opaque picture.
    """

    rgb: "PIL.Image.Image"
    frame: int = 0
    background: str | None = None

    def label(self) -> dict[str, object]:
        """How signals name this view: ``{"frame": 3, "background": "dark"}``."""
        return {"frame": self.frame, "background": self.background}


@dataclass(frozen=True)
class DecodedImage:
    """An image decoded once per request and shared by every image classifier.

    ``rgb`` is the first frame, converted to RGB with EXIF orientation applied
    (transparency on white). ``views`` are every picture to classify and hash:
    the sampled frames of an animation, each on a light and a dark background
    when it has meaningful transparency. Empty means ``rgb`` alone (the common,
    cheap case of a still opaque image). ``frame_count`` counts all frames.
    """

    rgb: "PIL.Image.Image"
    format: str
    width: int
    height: int
    sha256: str
    views: tuple[ImageView, ...] = ()
    frame_count: int = 1

    def all_views(self) -> tuple[ImageView, ...]:
        return self.views or (ImageView(self.rgb),)


class Signal(BaseModel):
    """Base of every typed signal. Subclasses add their own fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


InputT = TypeVar("InputT")
SignalT = TypeVar("SignalT", bound=Signal)


class Classifier(ABC, Generic[InputT, SignalT]):
    """``name`` keys the signal in decisions and policies (``toxicity.scores.hate``)."""

    name: ClassVar[str]
    modality: ClassVar[Modality]
    # False for per-item work (hashes) that a batch cannot speed up: the service
    # runs it on its thread pool instead of funnelling it through one batch thread.
    batchable: ClassVar[bool] = True
    identity: ModelIdentity
    device: str = "cpu"

    @abstractmethod
    def classify_batch(self, inputs: Sequence[InputT]) -> list[SignalT]:
        """Return one signal per input, in the same order."""

    def prepare(self, item: InputT) -> Any:
        """Per-item work before the batched step (resizing, normalising). The service
        runs it on the request's own thread, so requests prepare in parallel while
        the model's batch thread only runs the model. Default: nothing to do."""
        return item

    def classify_prepared(self, prepared: Sequence[Any]) -> list[SignalT]:
        """The batched step on ``prepare``'s results; equals ``classify_batch`` on the inputs."""
        return self.classify_batch(prepared)

    @classmethod
    def from_config(cls, options: dict[str, Any],
                    configuration: dict[str, dict[str, Any]] | None = None) -> "Classifier[InputT, SignalT]":
        """Build from the options in the classifier configuration. ``configuration`` is the whole
        configuration (entry name -> options), for a classifier that shares another entry's setup."""
        return cls(**options)

    @classmethod
    def field_vocabulary(cls, options: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        """Closed sets a policy may compare with, for these configuration options, by
        dotted path inside this classifier's signal: ``"scores"`` names the keys of a
        dict field, ``"entities.type"`` the values of a list item's field. A rule naming
        anything else can never fire, and lint says so. Default: nothing is closed."""
        return {}

    @classmethod
    def renamed_fields(cls) -> dict[str, str]:
        """Old dotted path inside the signal -> its new name (``{"scores.insult": "toxic"}``),
        so lint tells a rule on the old name what it is called now."""
        return {}

    @classmethod
    def field_ranges(cls, options: dict[str, Any]) -> dict[str, tuple[float | None, float | None]]:
        """Bounds that depend on the options (a hash's bit length), by dotted path; fixed
        bounds belong on the signal model as ``Field(ge=..., le=...)``."""
        return {}

    def classify(self, item: InputT) -> SignalT:
        return self.classify_batch([item])[0]


def sha256_of_files(*paths: Path) -> str:
    """Digest of the weight files, in the given order, streamed."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def pick_torch_device(preference: str = "auto") -> str:
    """``auto`` picks CUDA when torch sees a GPU and the CPU otherwise."""
    if preference != "auto":
        return preference
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
