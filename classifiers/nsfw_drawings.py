"""A second opinion on drawn and generated images: nsfwjs's MobileNetV2 on onnxruntime.

open_nsfw was trained on photographs; GantMan's ``nsfw_model`` (shipped by the npm
package ``nsfwjs@4.4.0``, MIT) also tells drawings apart: its classes are drawing,
hentai, neutral, porn and sexy. The graph is converted reproducibly by
``classifiers/nsfw_drawings_conversion.py`` and committed with a model card in
``classifiers/models/nsfw_drawings/``. Preprocessing is nsfwjs' own (RGB / 255, then a
bilinear resize to 224x224 with aligned corners: ``resize_align_corners``), so the model
agrees with the reference implementation (``tests/test_nsfw_drawings.py`` states the
tolerance), with one deliberate difference: a picture longer than 400 pixels on a side is
first box-averaged (``model_input``). nsfwjs' resize reads only the 2x2 neighbours of
224x224 points, about 5% of a 1024x1024 picture, so an uploader could put one picture on
that grid and show viewers another.
"""
from __future__ import annotations

import functools
import math
from typing import Sequence

import numpy as np
from PIL import Image
from pydantic import Field

from classifiers.base import Classifier, DecodedImage, Modality, ModelIdentity, Signal, sha256_of_files
from classifiers.nsfw_drawings_conversion import CLASSES, IMAGE_SIZE, INPUT_NAME, NSFWJS_VERSION, MODEL_NAME, onnx_path
from classifiers.onnx_session import open_session, session_device

_SPARSE_LIMIT = 400  # pixels per side that an aligned-corners resize to 224 reads every one of
_MAX_RUN = 32  # rows per session run: an animated image brings up to 34 views (17 frames, 2 backgrounds)
_HENTAI = CLASSES.index("hentai")
_DRAWN = [CLASSES.index("drawing"), _HENTAI]


class NsfwDrawingsView(Signal):
    frame: int
    background: str | None
    hentai: float


class NsfwDrawingsSignal(Signal):
    """Class probabilities of the image, each the maximum over its views.

    ``scores`` maps drawing, hentai, neutral, porn and sexy to [0, 1] (for one view they
    sum to 1). ``hentai`` is the class for sexual drawings, the one the default policy
    reads: ``porn`` fires on benign small face photos (see the model card), where open_nsfw
    is the better judge. ``frame`` and ``background`` name the view with the highest hentai
    score, and ``drawn`` (drawing + hentai) is that view's belief that it is illustrated;
    ``views`` lists every view's hentai score when there are several.
    """

    scores: dict[str, float]
    drawn: float = Field(ge=0, le=1)
    frame: int = 0
    background: str | None = None
    views: list[NsfwDrawingsView] = []


def resize_align_corners(pixels: np.ndarray, size: int = IMAGE_SIZE, out: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) uint8 -> (size, size, 3) float32 in [0, 1], bilinear with aligned corners.

    The same arithmetic as TensorFlow.js' ``resizeBilinear(..., alignCorners=true)``,
    which nsfwjs applies. Only the four source pixels of each output pixel are read:
    a strong downscale ignores most pixels (see ``model_input``). ``out``, when given,
    is a C-contiguous (size, size, 3) float32 array to write into (a row of a batch).
    """
    height, width = pixels.shape[:2]
    if out is None:
        out = np.empty((size, size, 3), np.float32)
    elif out.shape != (size, size, 3) or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous ({size}, {size}, 3) float32 array")
    if (height, width) == (size, size):
        return np.divide(pixels, np.float32(255), out=out, dtype=np.float32)
    rows, left, right, row_fraction, column_fraction = _grid(height, width, size)
    # Rows [top; bottom] of the 2x2 neighbours, then their left and right columns, as bytes
    # (3 per pixel) in (2 * size, size * 3) arrays: numpy gathers 1-byte items fastest, and
    # arithmetic on whole rows of size * 3 floats runs in long inner loops.
    gathered = np.take(pixels, rows, axis=0).reshape(2 * size, width * 3)
    upper_lower = np.take(gathered, right, axis=1).astype(np.float32)
    at_left = np.take(gathered, left, axis=1).astype(np.float32)
    # In place, the same arithmetic as upper = top_left + (top_right - top_left) * column_fraction
    # (lower likewise), then upper + (lower - upper) * row_fraction.
    upper_lower -= at_left
    upper_lower *= column_fraction
    upper_lower += at_left
    upper, lower = upper_lower[:size], upper_lower[size:]
    lower -= upper
    lower *= row_fraction
    lower += upper
    # Dividing by 255 last (nsfwjs divides first) differs by float rounding only.
    np.multiply(lower, np.float32(1 / 255), out=out.reshape(size, size * 3))  # a view: out is contiguous
    return out


@functools.lru_cache(maxsize=64)
def _grid(height: int, width: int, size: int) -> tuple[np.ndarray, ...]:
    """Where an aligned-corners resize from (height, width) reads, computed once per size:
    the source rows [top; bottom] (2 * size), the byte columns of the left and of the right
    neighbours in an (H, W * 3) view (size * 3 each), the weight of the bottom row, shaped
    (size, 1), and of the right column, repeated per channel (size * 3,)."""
    def axis(length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        source = np.arange(size, dtype=np.float64) * ((length - 1) / (size - 1))
        low = np.floor(source).astype(np.intp)
        return low, np.minimum(low + 1, length - 1), (source - low).astype(np.float32)

    top, bottom, row_fraction = axis(height)
    left, right, column_fraction = axis(width)
    channels = np.arange(3)
    tables = (np.concatenate([top, bottom]), (left[:, None] * 3 + channels).ravel(),
              (right[:, None] * 3 + channels).ravel(), row_fraction[:, None], np.repeat(column_fraction, 3))
    for table in tables:
        table.flags.writeable = False  # shared by every call
    return tables


def model_input(picture: Image.Image, out: np.ndarray | None = None) -> np.ndarray:
    """An RGB picture -> (224, 224, 3) float32 in [0, 1], every pixel counting (into ``out``
    when given, as ``resize_align_corners``).

    nsfwjs' aligned-corners resize samples 224 points per axis. Up to _SPARSE_LIMIT pixels
    per side the points lie less than 1.8 pixels apart, so every pixel weighs in, and the
    input is nsfwjs' exactly. A longer side is first box-averaged by the smallest integer
    factor that brings it within the limit (``Image.reduce``), then resized the same way.
    """
    factors = tuple(math.ceil(side / _SPARSE_LIMIT) for side in picture.size)
    if factors != (1, 1):
        picture = picture.reduce(factors)
    return resize_align_corners(np.asarray(picture), out=out)


class NsfwDrawingsClassifier(Classifier[DecodedImage, NsfwDrawingsSignal]):
    name = "nsfw_drawings"
    modality = Modality.IMAGE

    def __init__(self, device: str = "auto", intra_op_threads: int | None = None, allow_spinning: bool = False) -> None:
        weights = onnx_path()
        if not weights.is_file():
            raise FileNotFoundError(f"{weights} is missing: rebuild it with `moderation convert nsfw-drawings`")
        self.identity = ModelIdentity(name=f"nsfwjs/{MODEL_NAME}", version=f"nsfwjs-{NSFWJS_VERSION}",
                                      weights_sha256=sha256_of_files(weights))
        self._session = open_session(weights, device, intra_op_threads, allow_spinning)
        self.device = session_device(self._session)
        shape = self._session.get_inputs()[0].shape
        if list(shape[1:]) != [IMAGE_SIZE, IMAGE_SIZE, 3]:
            raise ValueError(f"{weights}: expected NHWC input (N, {IMAGE_SIZE}, {IMAGE_SIZE}, 3), found {shape}")

    @classmethod
    def field_vocabulary(cls, options: dict) -> dict[str, tuple[str, ...]]:
        return {"scores": CLASSES}

    def classify_batch(self, inputs: Sequence[DecodedImage]) -> list[NsfwDrawingsSignal]:
        return self.classify_prepared([self.prepare(image) for image in inputs])

    def prepare(self, item: DecodedImage) -> tuple[list[dict], np.ndarray]:
        """Each view's label and the stacked model inputs, (views, 224, 224, 3)."""
        views = item.all_views()
        inputs = np.empty((len(views), IMAGE_SIZE, IMAGE_SIZE, 3), np.float32)
        for view, row in zip(views, inputs):
            model_input(view.rgb, out=row)
        return [view.label() for view in views], inputs

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        """(N, 224, 224, 3) float32 in [0, 1] -> (N, 5) probabilities over CLASSES."""
        return np.concatenate([self._session.run(None, {INPUT_NAME: inputs[start:start + _MAX_RUN]})[0]
                               for start in range(0, len(inputs), _MAX_RUN)])

    def classify_prepared(self, prepared: Sequence[tuple[list[dict], np.ndarray]]) -> list[NsfwDrawingsSignal]:
        if not prepared:
            return []
        stacked = prepared[0][1] if len(prepared) == 1 else np.concatenate([inputs for _, inputs in prepared])
        probabilities = self.probabilities(stacked)
        signals, start = [], 0
        for labels, inputs in prepared:
            own = probabilities[start:start + len(inputs)]
            start += len(inputs)
            worst = int(np.argmax(own[:, _HENTAI]))
            views = [NsfwDrawingsView(hentai=_unit(row[_HENTAI]), **label) for row, label in zip(own, labels)]
            signals.append(NsfwDrawingsSignal(
                scores={name: _unit(value) for name, value in zip(CLASSES, own.max(axis=0))},
                drawn=_unit(own[worst, _DRAWN].sum()), **labels[worst], views=views if len(views) > 1 else []))
        return signals


def _unit(value: float) -> float:
    """A float32 softmax sum can exceed 1 by an ulp; the signal's bounds are [0, 1]."""
    return min(max(float(value), 0.0), 1.0)
