"""``moderation models promote``: make a candidate the live model of its signal, in every process.

Refused when the candidate's report shows an AUPRC drop on any compared category beyond the
configured margin, unless forced with a reason. The promotion row (who, when, why, the report
it rested on) is the audit entry; every process applies it on its next roster sync.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import sessionmaker

from moderation_service.db.tables import ModelPromotion, ShadowScore
from moderation_service.candidates.report import drops
from sqlalchemy import select


class PromotionRefused(Exception):
    pass


@dataclass(frozen=True)
class Promoted:
    signal: str
    entry: str
    forced: bool
    promotion_id: int


def promote(sessions: sessionmaker, entry: str, report: dict[str, Any], actor: str, margin: float,
            force: bool = False, reason: str | None = None) -> Promoted:
    """Raises PromotionRefused naming the categories that dropped (or why nothing can be judged)."""
    if force and not (reason and reason.strip()):
        raise PromotionRefused("--force needs --reason: the promotion log records why")
    signal = report.get("signal")
    if signal is None:
        raise PromotionRefused(f"no item was scored by both {entry!r} and the live model yet: run it in shadow "
                               "first (`shadow: true` in the classifier configuration)")
    dropped = drops(report, margin)
    if dropped and not force:
        details = ", ".join(f"{name} {report['categories'][name]['live']['auprc']:.3f} -> "
                            f"{report['categories'][name]['candidate']['auprc']:.3f}" for name in dropped)
        raise PromotionRefused(f"{entry} scores worse than the live model beyond the margin {margin}: {details}. "
                               "Use --force --reason '...' to promote anyway.")
    with sessions.begin() as session:
        model = session.scalar(select(ShadowScore.model).where(ShadowScore.entry == entry)
                               .order_by(ShadowScore.id.desc()).limit(1))
        row = ModelPromotion(signal=signal, entry=entry, model=model, actor=actor, reason=reason,
                             forced=bool(force and dropped), report=report, promoted_at=datetime.now(timezone.utc))
        session.add(row)
        session.flush()
        return Promoted(signal, entry, row.forced, row.id)
