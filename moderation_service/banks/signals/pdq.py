"""Meta's 256-bit PDQ hash (the pdq classifier, or hashes imported from HMA)."""
from moderation_service.banks.signals import SignalType


class PdqSignal(SignalType):
    name = "pdq"
    bits = 256
    # HMA's default; measured recall 0.57 at 31 and 0.65 at 50, no false match below 88 (README).
    # A bank may raise it; the index then probes more keys per query.
    default_threshold = 31
    max_threshold = 64
