"""Meta's PDQ perceptual hash (256 bits) with its quality score, via pdqhash.

Hashes below ``min_quality`` (flat or tiny images) match too much to be
trusted, so they are not given; nor are hashes with many DCT coefficients tied
at the median (a picture that varies along one axis:
``image_hash.ties_at_the_median``). ``dihedral`` holds the hashes of the seven
flips and rotations, so a bank lookup also catches a mirrored repost.

An image with several views (sampled animation frames, light and dark
backgrounds) is hashed per view: ``views`` lists each, and the top-level
fields are those of the first view with enough quality.
"""
from __future__ import annotations

import hashlib
from importlib.metadata import version
from typing import Sequence

import numpy as np
from pydantic import Field

from classifiers.base import Classifier, DecodedImage, ImageView, Modality, ModelIdentity, Signal
from classifiers.image_hash import ties_at_the_median

MAX_SIDE = 512  # PDQ downsamples to 64x64 itself; a smaller input is faster and hashes the same content


class PdqView(Signal):
    frame: int
    background: str | None
    hash: str | None
    quality: int
    dihedral: list[str] = []


class PdqSignal(Signal):
    hash: str | None  # None when quality < min_quality
    quality: int = Field(ge=0, le=100)
    dihedral: list[str] = []
    views: list[PdqView] = []  # one per view, only when there are several


class PdqHashClassifier(Classifier[DecodedImage, PdqSignal]):
    name = "pdq"
    modality = Modality.IMAGE
    batchable = False  # per-image work: a batch would only queue it behind one thread

    def __init__(self, min_quality: int = 50, dihedral: bool = True) -> None:
        import pdqhash  # noqa: F401 - fail at start-up, not on the first request

        self.min_quality = min_quality
        self.dihedral = dihedral
        self.identity = ModelIdentity(
            name="pdqhash.pdq", version=version("pdqhash"),
            weights_sha256=hashlib.sha256(f"pdq:min_quality={min_quality}:dihedral={dihedral}:median_ties=7/16"
                                          .encode()).hexdigest(),
        )

    def classify_batch(self, inputs: Sequence[DecodedImage]) -> list[PdqSignal]:
        return [self._hash(image) for image in inputs]

    def _hash(self, image: DecodedImage) -> PdqSignal:
        views = [self._hash_view(view) for view in image.all_views()]
        usable = [view for view in views if view.hash is not None]
        chosen = usable[0] if usable else max(views, key=lambda view: view.quality)
        return PdqSignal(hash=chosen.hash, quality=chosen.quality, dihedral=chosen.dihedral,
                         views=views if len(views) > 1 else [])

    def _hash_view(self, view: ImageView) -> PdqView:
        import pdqhash

        rgb = view.rgb
        if max(rgb.size) > MAX_SIDE:
            rgb = rgb.copy()
            rgb.thumbnail((MAX_SIDE, MAX_SIDE))
        pixels = np.asarray(rgb.convert("RGB"))
        if self.dihedral:
            hashes, qualities = pdqhash.compute_dihedral(pixels)
            quality = int(qualities)
        else:
            vector, quality = pdqhash.compute(pixels)
            hashes, quality = [vector], int(quality)
        if quality < self.min_quality:
            return PdqView(frame=view.frame, background=view.background, hash=None, quality=quality)
        hexes = [bits_to_hex(bits) for bits in hashes]
        if ties_at_the_median(hexes[0]):  # a generic hash, like a flat image's (image_hash.ties_at_the_median)
            return PdqView(frame=view.frame, background=view.background, hash=None, quality=quality)
        return PdqView(frame=view.frame, background=view.background, hash=hexes[0], quality=quality,
                       dihedral=hexes[1:])


def bits_to_hex(bits: np.ndarray) -> str:
    """pdqhash's 256 0/1 values, as the 64 hex digits HMA and ThreatExchange use."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()
