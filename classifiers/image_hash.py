"""Perceptual hashes of an image: 64-bit pHash and dHash (imagehash's), with a pHash quality.

Matching against earlier items happens in the service's hash index; this
classifier only computes the hashes, so it stays a pure function of the image.

Quality: every flat image, of any colour and size down to 1x1, has pHash
``8000000000000000``, and a near-flat one a hash of its noise. ``quality`` is
the root-mean-square, in grey levels, of the 63 low-frequency DCT
coefficients the hash thresholds (DC left out), orthonormally scaled: by
Parseval it is how much the picture's low-frequency structure varies, 0 for a
flat image. Below ``min_quality`` (default 2.0; a text page scores about 7,
photos 10 to 100, a flat JPEG 0, a flat image with noise of 20 grey levels
0.4) both hashes are withheld (None), so they never match and are never indexed;
so are they when the DCT ties at its median (``ties_at_the_median``): a
gradient's pHash is the flat image's at quality 74.

An image with several views (sampled animation frames, light and dark
backgrounds) is hashed per view: ``views`` lists each, and the top-level
hashes are those of the first view with enough quality.
"""
from __future__ import annotations

import hashlib
from importlib.metadata import version
from typing import Sequence

import imagehash
import numpy as np
import scipy.fftpack
from PIL import Image
from pydantic import Field

from classifiers.base import Classifier, DecodedImage, ImageView, Modality, ModelIdentity, Signal


class NearDuplicate(Signal):
    """An earlier item whose image hash is within the built-in ``earlier-items`` bank's threshold."""

    item_id: str
    distance: int = Field(ge=0)  # bits, in ``signal_type``'s hash; at most its length (field_ranges)
    decision: str  # the earlier item's decision in force
    # What its image alone carries: "block" only if image signals or a reviewer's reject of the image blocked it.
    image_decision: str = "allow"
    signal_type: str = "phash"
    frame: int = 0                 # the view of this image that matched
    background: str | None = None


class ViewHash(Signal):
    frame: int
    background: str | None
    phash: str | None
    dhash: str | None
    quality: float


class ImageHashSignal(Signal):
    phash: str | None  # None when no view reaches min_quality
    dhash: str | None
    quality: float     # of the view whose hashes are given (the best view when none is)
    views: list[ViewHash] = []  # one per view, only when there are several
    # Filled in by the service from its index of earlier items.
    near_duplicates: list[NearDuplicate] = []


class ImageHashClassifier(Classifier[DecodedImage, ImageHashSignal]):
    name = "image_hash"
    modality = Modality.IMAGE
    batchable = False  # per-image work: a batch would only queue it behind one thread

    # The earlier items' hashes the service matches (moderation_service/near_duplicates.py).
    NEAR_DUPLICATE_BITS = {"phash": 64, "pdq": 256}

    @classmethod
    def field_vocabulary(cls, options: dict) -> dict[str, tuple[str, ...]]:
        actions = ("allow", "redact", "review", "block")
        return {"near_duplicates.decision": actions, "near_duplicates.image_decision": actions,
                "near_duplicates.signal_type": tuple(cls.NEAR_DUPLICATE_BITS)}

    @classmethod
    def field_ranges(cls, options: dict) -> dict[str, tuple[float | None, float | None]]:
        # A distance is at most the longest hash's bit length (PDQ's 256 when PDQ hashes are matched).
        return {"near_duplicates.distance": (0, max(cls.NEAR_DUPLICATE_BITS.values()))}

    def __init__(self, hash_size: int = 8, min_quality: float = 2.0) -> None:
        self.hash_size = hash_size
        self.min_quality = min_quality
        # No weights: the "weights" digest names the algorithm and its parameters.
        self.identity = ModelIdentity(
            name="imagehash.phash+dhash",
            version=version("imagehash"),
            weights_sha256=_digest_of_parameters(hash_size, min_quality),
        )

    def classify_batch(self, inputs: Sequence[DecodedImage]) -> list[ImageHashSignal]:
        return [self._hash(image) for image in inputs]

    def _hash(self, image: DecodedImage) -> ImageHashSignal:
        views = [self._hash_view(view) for view in image.all_views()]
        usable = [view for view in views if view.phash is not None]
        chosen = usable[0] if usable else max(views, key=lambda view: view.quality)
        return ImageHashSignal(phash=chosen.phash, dhash=chosen.dhash, quality=chosen.quality,
                               views=views if len(views) > 1 else [])

    def _hash_view(self, view: ImageView) -> ViewHash:
        phash, quality = phash_with_quality(view.rgb, self.hash_size)
        trusted = quality >= self.min_quality and not ties_at_the_median(phash)
        return ViewHash(frame=view.frame, background=view.background,
                        phash=phash if trusted else None,
                        dhash=str(imagehash.dhash(view.rgb, hash_size=self.hash_size)) if trusted else None,
                        quality=quality)


def phash_with_quality(image: Image.Image, hash_size: int = 8, highfreq_factor: int = 4) -> tuple[str, float]:
    """imagehash.phash's hex digits (the same bits, tested) and the quality described above."""
    side = hash_size * highfreq_factor
    pixels = np.asarray(image.convert("L").resize((side, side), Image.Resampling.LANCZOS))
    dct = scipy.fftpack.dct(scipy.fftpack.dct(pixels, axis=0), axis=1)
    low = dct[:hash_size, :hash_size]
    bits = low > np.median(low)
    # scipy's unnormalised DCT-II, made orthonormal: 1/sqrt(4N) for index 0, 1/sqrt(2N) otherwise.
    scale = np.full(hash_size, 1 / np.sqrt(2 * side))
    scale[0] = 1 / np.sqrt(4 * side)
    ortho = low * scale[:, None] * scale[None, :]
    ortho[0, 0] = 0.0  # brightness is not structure
    quality = float(np.sqrt((ortho ** 2).sum() / (side * side)))
    return str(imagehash.ImageHash(bits)), round(quality, 3)


def ties_at_the_median(hex_digits: str) -> bool:
    """Whether a median-split hash (pHash, PDQ) has fewer than 7/16 of its bits set.

    Both set a bit for each DCT coefficient above the coefficients' median, so a picture with
    distinct coefficients has exactly half its bits set (measured: every photo, drawing, text
    page and generated scene, 32 of 64). Fewer means many coefficients tie at the median, which
    happens when most of them are exactly zero: a picture that varies along one axis only (a
    gradient, halves, a striped flag) or a symmetric pattern. Such hashes are shared by whole
    families of unrelated pictures (every horizontal gradient's pHash is the flat image's,
    ``8000000000000000``, at quality 74), so they are withheld like a low-quality one.
    """
    bits = len(hex_digits) * 4
    return int(hex_digits, 16).bit_count() < bits * 7 // 16


def hamming_distance(hex_a: str, hex_b: str) -> int:
    return (int(hex_a, 16) ^ int(hex_b, 16)).bit_count()


def _digest_of_parameters(hash_size: int, min_quality: float) -> str:
    parameters = f"phash+dhash:hash_size={hash_size}:min_quality={min_quality}:median_ties=7/16"
    return hashlib.sha256(parameters.encode()).hexdigest()
