"""Exact matches: the sha256 of the image bytes, and of the normalised prompt."""
from __future__ import annotations

import hashlib

from classifiers.text_normalization import normalize_for_classification
from moderation_service.banks.signals import SignalType


class ImageSha256Signal(SignalType):
    name = "sha256"
    bits = 256
    default_threshold = 0
    max_threshold = 0


class PromptSha256Signal(SignalType):
    name = "text_sha256"
    bits = 256
    default_threshold = 0
    max_threshold = 0


def prompt_hash(prompt: str) -> str:
    """The same normalisation the classifiers see, then case and spacing folded,
    so "Kill  ALL" and "kill all" are one banned prompt."""
    folded = " ".join(normalize_for_classification(prompt).casefold().split())
    return hashlib.sha256(folded.encode("utf-8", "surrogatepass")).hexdigest()
