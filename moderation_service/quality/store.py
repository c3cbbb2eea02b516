"""The quality sample in the database: today's counts, and the strata behind the enforcement estimates."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import sessionmaker

from moderation_service.db.tables import ModerationItem, ReviewQueueEntry
from moderation_service.quality.estimates import FLAGGED_DECISIONS, Stratum, enforcement_estimates
from moderation_service.quality.sampling import UNIFORM

DECISIONS = ("allow", "redact", "block", "review")


def count_since(sessions: sessionmaker, kind: str, since: datetime) -> int:
    """Samples of ``kind`` taken since ``since`` (the daily budget's count)."""
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(ReviewQueueEntry).where(
            ReviewQueueEntry.sampling == kind, ReviewQueueEntry.enqueued_at >= since)) or 0


def strata(sessions: sessionmaker, since: datetime | None = None, until: datetime | None = None,
           surface: str | None = None) -> tuple[list[Stratum], dict[str, int]]:
    """Per policy decision: how many items, and the labelled sample of them (with probabilities).

    ``allow``, ``redact`` and ``block`` are sampled uniformly (``review_queue.sampling = 'uniform'``);
    ``review`` items are labelled by their own review (probability 1, blind or not). Also returns
    how many sampled items still wait for a verdict, per stratum.
    """
    window = []
    if since is not None:
        window.append(ModerationItem.created_at >= since)
    if until is not None:
        window.append(ModerationItem.created_at < until)
    if surface is not None:
        window.append(ModerationItem.surface == surface)
    sizes_query = select(ModerationItem.decision, func.count()).where(*window).group_by(ModerationItem.decision)
    in_sample = or_(ReviewQueueEntry.sampling == UNIFORM,
                    and_(ReviewQueueEntry.sampling.is_(None), ModerationItem.decision == "review"))
    units_query = (select(ModerationItem.decision, ReviewQueueEntry.status, ReviewQueueEntry.verdict,
                          ReviewQueueEntry.sampling_probability)
                   .join(ReviewQueueEntry, ReviewQueueEntry.item_id == ModerationItem.id).where(in_sample, *window))
    labelled: dict[str, list[tuple[bool, float]]] = {decision: [] for decision in DECISIONS}
    waiting = dict.fromkeys(DECISIONS, 0)
    with sessions() as session:
        sizes = dict(session.execute(sizes_query).all())
        for decision, status, verdict, probability in session.execute(units_query).yield_per(5000):
            if decision not in labelled:
                continue
            if status != "decided" or verdict not in ("approve", "reject"):
                waiting[decision] += 1
            else:
                labelled[decision].append((verdict == "reject", probability if decision != "review" else 1.0))
    return [Stratum(d, int(sizes.get(d, 0)), labelled[d]) for d in DECISIONS], waiting


def enforcement_report(sessions: sessionmaker, since: datetime | None = None, until: datetime | None = None,
                       surface: str | None = None, confidence: float = 0.95) -> dict:
    """What ``GET /v1/stats/enforcement`` returns: estimates with intervals, and the sample behind them."""
    found, waiting = strata(sessions, since, until, surface)
    estimates = enforcement_estimates(found, confidence)
    return {
        "since": since.isoformat() if since else None, "until": until.isoformat() if until else None,
        "surface": surface, "confidence": confidence,
        "flagged_means": list(FLAGGED_DECISIONS), "harmful_means": "a reviewer rejected it",
        "strata": {s.decision: {"items": s.population, "labelled": len(s.labelled),
                                "labelled_harmful": sum(1 for harmful, _ in s.labelled if harmful),
                                "waiting": waiting[s.decision]} for s in found},
        "estimates": {name: value.as_dict() for name, value in estimates.items()},
        "method": "post-stratified by decision, 1/p weights within a stratum; Wilson intervals on the "
                  "design-effective sample size",
    }
