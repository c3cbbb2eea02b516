"""Signal types: how a hash of one kind is parsed, written and compared.

One small file per type, in the manner of python-threatexchange's
``SignalType``: a name, a bit length, ``parse`` (with a clear error) and a
distance. Hashes travel as lower-case hex and live in memory as uint64 words.
"""
from __future__ import annotations

import re
from typing import ClassVar

import numpy as np

_HEX = re.compile(r"^[0-9a-f]*$")


class HashFormatError(ValueError):
    """A hash string that is not a valid hash of its type; ``code`` is stable for the API."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SignalType:
    name: ClassVar[str]
    bits: ClassVar[int]
    # Largest distance at which two hashes are the same content, unless a bank says otherwise.
    default_threshold: ClassVar[int]
    # Exact types (sha256) never match at a distance above 0.
    max_threshold: ClassVar[int]

    @classmethod
    def words(cls) -> int:
        return cls.bits // 64

    @classmethod
    def parse(cls, text: str) -> str:
        """The canonical (lower-case hex) form, or HashFormatError saying what is wrong."""
        if not isinstance(text, str):
            raise HashFormatError("hash_invalid", f"{cls.name}: a hash must be a hex string")
        canonical = text.strip().lower()
        expected = cls.bits // 4
        if not _HEX.match(canonical):
            raise HashFormatError("hash_invalid", f"{cls.name}: {text[:80]!r} is not hexadecimal")
        if len(canonical) != expected:
            raise HashFormatError("hash_wrong_length",
                                  f"{cls.name}: expected {expected} hex digits ({cls.bits} bits), got {len(canonical)}")
        return canonical

    @classmethod
    def to_words(cls, canonical_hex: str) -> np.ndarray:
        """uint64 words, most significant first, so word i holds hex digits [16i, 16i+16)."""
        return np.array([int(canonical_hex[i:i + 16], 16) for i in range(0, len(canonical_hex), 16)], dtype=np.uint64)

    @classmethod
    def distance(cls, hex_a: str, hex_b: str) -> int:
        return (int(hex_a, 16) ^ int(hex_b, 16)).bit_count()

    @classmethod
    def check_threshold(cls, threshold: int) -> int:
        if not isinstance(threshold, int) or isinstance(threshold, bool) or not 0 <= threshold <= cls.max_threshold:
            raise HashFormatError("threshold_invalid",
                                  f"{cls.name}: a threshold is an integer from 0 to {cls.max_threshold}")
        return threshold
