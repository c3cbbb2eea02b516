"""Perceptual hashes of an image: 64-bit pHash and dHash from imagehash.

Matching against earlier items happens in the service's hash index; this
classifier only computes the hashes, so it stays a pure function of the image.
"""
from __future__ import annotations

from importlib.metadata import version
from typing import Sequence

import imagehash

from classifiers.base import Classifier, DecodedImage, Modality, ModelIdentity, Signal


class NearDuplicate(Signal):
    """An earlier item whose image hash is within the built-in ``earlier-items`` bank's threshold."""

    item_id: str
    distance: int  # bits, in ``signal_type``'s hash
    decision: str  # the earlier item's decision in force
    # What its image alone carries: "block" only if image signals or a reviewer's reject of the image blocked it.
    image_decision: str = "allow"
    signal_type: str = "phash"


class ImageHashSignal(Signal):
    phash: str
    dhash: str
    # Filled in by the service from its index of earlier items.
    near_duplicates: list[NearDuplicate] = []


class ImageHashClassifier(Classifier[DecodedImage, ImageHashSignal]):
    name = "image_hash"
    modality = Modality.IMAGE
    batchable = False  # per-image work: a batch would only queue it behind one thread

    def __init__(self, hash_size: int = 8) -> None:
        self.hash_size = hash_size
        # No weights: the "weights" digest names the algorithm and its parameters.
        self.identity = ModelIdentity(
            name="imagehash.phash+dhash",
            version=version("imagehash"),
            weights_sha256=_digest_of_parameters(hash_size),
        )

    def classify_batch(self, inputs: Sequence[DecodedImage]) -> list[ImageHashSignal]:
        return [
            ImageHashSignal(
                phash=str(imagehash.phash(image.rgb, hash_size=self.hash_size)),
                dhash=str(imagehash.dhash(image.rgb, hash_size=self.hash_size)),
            )
            for image in inputs
        ]


def hamming_distance(hex_a: str, hex_b: str) -> int:
    return (int(hex_a, 16) ^ int(hex_b, 16)).bit_count()


def _digest_of_parameters(hash_size: int) -> str:
    import hashlib

    return hashlib.sha256(f"phash+dhash:hash_size={hash_size}".encode()).hexdigest()
