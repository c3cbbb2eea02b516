"""Meta's 256-bit PDQ hash (the pdq classifier, or hashes imported from HMA)."""
from moderation_service.banks.signals import SignalType


class PdqSignal(SignalType):
    name = "pdq"
    bits = 256
    default_threshold = 31  # HMA's default too; see datasets/hash_robustness.py
    max_threshold = 64
