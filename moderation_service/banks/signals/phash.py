"""imagehash's 64-bit pHash, as the image_hash classifier writes it."""
from moderation_service.banks.signals import SignalType


class PhashSignal(SignalType):
    name = "phash"
    bits = 64
    # datasets/hash_robustness.py: no false match up to 13 bits; 10 keeps a 4-bit margin (README).
    default_threshold = 10
    max_threshold = 16
