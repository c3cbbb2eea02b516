"""imagehash's 64-bit pHash, as the image_hash classifier writes it."""
from moderation_service.banks.signals import SignalType


class PhashSignal(SignalType):
    name = "phash"
    bits = 64
    default_threshold = 8  # datasets/hash_robustness.py: recall and false matches by threshold
    max_threshold = 16
