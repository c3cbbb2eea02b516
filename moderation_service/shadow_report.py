"""Agreement between live and shadow decisions over stored items."""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from moderation_service.db.tables import ModerationItem


def shadow_report(sessions: sessionmaker, since: datetime | None = None, sample_size: int = 20) -> dict[str, Any]:
    query = select(ModerationItem.id, ModerationItem.surface, ModerationItem.policy_name,
                   ModerationItem.decision, ModerationItem.shadow_policy_name,
                   ModerationItem.shadow_decision).where(ModerationItem.shadow_decision.is_not(None))
    if since is not None:
        query = query.where(ModerationItem.created_at >= since)
    pairs: Counter[tuple[str, str, str, str]] = Counter()
    disagreements: list[dict[str, str]] = []
    with sessions() as session:
        for row in session.execute(query.order_by(ModerationItem.created_at.desc())).yield_per(5000):
            pairs[(row.policy_name, row.shadow_policy_name, row.decision, row.shadow_decision)] += 1
            if row.decision != row.shadow_decision and len(disagreements) < sample_size:
                disagreements.append({"item_id": row.id, "surface": row.surface, "live": row.decision,
                                      "shadow": row.shadow_decision})
    by_policy: dict[str, dict[str, Any]] = {}
    for (live_policy, shadow_policy, live, shadow), count in sorted(pairs.items()):
        entry = by_policy.setdefault(f"{live_policy} vs {shadow_policy}",
                                     {"live_policy": live_policy, "shadow_policy": shadow_policy,
                                      "items": 0, "agree": 0, "changes": {}})
        entry["items"] += count
        if live == shadow:
            entry["agree"] += count
        else:
            entry["changes"][f"{live} -> {shadow}"] = count
    for entry in by_policy.values():
        entry["agreement_rate"] = round(entry["agree"] / entry["items"], 4) if entry["items"] else None
    return {"comparisons": list(by_policy.values()), "disagreement_sample": disagreements}
