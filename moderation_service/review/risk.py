"""A risk score per queue entry, so that within a queue the worst items come first.

The queue entry is written by the moderation service; a mapper event fills the
score from the item's signals just before the entry is inserted, so every
writer that imports this module gets it without knowing about review.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import event, select

from moderation_service.db.tables import ModerationItem, ReviewQueueEntry


def risk_score(signals: dict[str, Any] | None) -> float:
    """The highest classifier score: nsfw probability or any toxicity category; a failed model counts 0.5."""
    scores = [0.0]
    for name, signal in (signals or {}).items():
        if not isinstance(signal, dict):
            continue
        if "error" in signal:
            scores.append(0.5)
        if isinstance(signal.get("probability"), (int, float)):
            scores.append(float(signal["probability"]))
        if name == "toxicity" and isinstance(signal.get("scores"), dict):
            scores.extend(float(v) for v in signal["scores"].values() if isinstance(v, (int, float)))
    return round(max(scores), 6)


@event.listens_for(ReviewQueueEntry, "before_insert")
def _fill_risk_score(_mapper, connection, entry: ReviewQueueEntry) -> None:
    if entry.risk_score is None:
        signals = connection.execute(select(ModerationItem.signals).where(ModerationItem.id == entry.item_id)).scalar()
        entry.risk_score = risk_score(signals)
