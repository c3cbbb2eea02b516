"""Re-evaluates stored signals under a candidate policy; models are not run again."""
from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from moderation_service.db.tables import ModerationItem
from moderation_service.policy import CompiledPolicy, evaluate
from moderation_service.service import prompt_facts


@dataclass
class ReplaySummary:
    items: int = 0
    changes: Counter = field(default_factory=Counter)  # (stored, replayed) -> count
    examples: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(self.changes.values())


def stored_facts(item: ModerationItem, unseal: Callable[[str], str] | None = None
                 ) -> tuple[dict[str, Any], dict[str, str]]:
    """Signals as the policy saw them, less the model identity. The prompt is the
    raw one when it was kept and ``unseal`` can decrypt it, else the redacted form."""
    signals, failed = {}, {}
    for name, fields in (item.signals or {}).items():
        if "error" in fields:
            failed[name] = fields["error"]
        else:
            signals[name] = {key: value for key, value in fields.items() if key != "model"}
    prompt = unseal(item.prompt_raw) if (item.prompt_raw and unseal) else item.prompt_redacted
    return {**signals, **prompt_facts(prompt)}, failed


def replay(sessions: sessionmaker, policy: CompiledPolicy, surface: str | None, since: datetime | None,
           csv_path: Path | None, examples_per_change: int = 5,
           unseal: Callable[[str], str] | None = None) -> ReplaySummary:
    summary = ReplaySummary()
    writer_file = open(csv_path, "w", newline="") if csv_path else None
    try:
        writer = csv.writer(writer_file) if writer_file else None
        if writer:
            writer.writerow(["item_id", "surface", "created_at", "stored_decision", "replayed_decision",
                             "stored_policy_sha256", "replayed_rules"])
        for item in _items(sessions, surface, since):
            facts, failed = stored_facts(item, unseal)
            decision = evaluate(policy, facts, failed)
            summary.items += 1
            pair = (item.decision, decision.action)
            if pair[0] != pair[1]:
                summary.changes[pair] += 1
                examples = summary.examples.setdefault(pair, [])
                if len(examples) < examples_per_change:
                    examples.append(item.id)
            if writer:
                writer.writerow([item.id, item.surface, item.created_at.isoformat(), item.decision, decision.action,
                                 item.policy_sha256, " ".join(reason.rule_id for reason in decision.reasons)])
    finally:
        if writer_file:
            writer_file.close()
    return summary


def _items(sessions: sessionmaker, surface: str | None, since: datetime | None) -> Iterator[ModerationItem]:
    query = select(ModerationItem).order_by(ModerationItem.created_at)
    if surface:
        query = query.where(ModerationItem.surface == surface)
    if since:
        query = query.where(ModerationItem.created_at >= since)
    with sessions() as session:
        yield from session.scalars(query.execution_options(yield_per=2000))


def format_summary(summary: ReplaySummary) -> str:
    lines = [f"{summary.items} items replayed; {summary.changed} decisions would change"]
    for (stored, replayed), count in summary.changes.most_common():
        examples = ", ".join(summary.examples.get((stored, replayed), []))
        lines.append(f"  {stored} -> {replayed}: {count}  (e.g. {examples})")
    return "\n".join(lines)
