"""Every signal type a bank may hold, by name."""
from __future__ import annotations

from moderation_service.banks.signals import HashFormatError, SignalType
from moderation_service.banks.signals.exact import ImageSha256Signal, PromptSha256Signal
from moderation_service.banks.signals.pdq import PdqSignal
from moderation_service.banks.signals.phash import PhashSignal

SIGNAL_TYPES: dict[str, type[SignalType]] = {
    t.name: t for t in (PhashSignal, PdqSignal, ImageSha256Signal, PromptSha256Signal)
}


def signal_type(name: str) -> type[SignalType]:
    try:
        return SIGNAL_TYPES[name]
    except (KeyError, TypeError):
        raise HashFormatError("unknown_signal_type",
                              f"unknown signal type {str(name)[:40]!r}; known: {', '.join(SIGNAL_TYPES)}") from None
