"""Re-evaluates stored signals under a candidate policy; models are not run again.

The prompt a `prompt.*` condition reads is the raw one, which is stored only
encrypted and only with MODERATION_STORE_RAW_PROMPTS. Without it, the stored
prompt is exact only when PII found nothing to redact; otherwise the item is
"not replayable without raw text" when a `prompt.*` rule could change its
decision, and is counted apart rather than guessed at.
"""
from __future__ import annotations

import csv
import dataclasses
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator, TextIO

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from moderation_service.db.tables import ModerationItem
from moderation_service.policy import CompiledPolicy, evaluate
from moderation_service.policy.engine import SEVERITY
from moderation_service.service import prompt_facts


@dataclass
class ReplaySummary:
    items: int = 0
    changes: Counter = field(default_factory=Counter)  # (stored, replayed) -> count
    examples: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    # Items whose outcome depends on a prompt.* condition and whose raw prompt is not available.
    not_replayable: int = 0
    not_replayable_examples: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(self.changes.values())


NOT_REPLAYABLE = "not replayable without raw text"
TEXT_SIGNALS = ("toxicity", "pii")  # the bundled text classifiers
_PROMPT_PATH = re.compile(r"(?<![\w.])prompt\.")


def stored_facts(item: ModerationItem, unseal: Callable[[str], str] | None = None
                 ) -> tuple[dict[str, Any], dict[str, str], bool]:
    """Signals as the policy saw them, less the model identity, and whether the prompt
    in them is exactly the one the live policy read: the raw prompt when it was kept and
    ``unseal`` can decrypt it, the stored one when PII redacted nothing, or no prompt."""
    signals, failed = {}, {}
    for name, fields in (item.signals or {}).items():
        if "error" in fields:
            failed[name] = fields["error"]
        else:
            signals[name] = {key: value for key, value in fields.items() if key != "model"}
    if item.prompt_raw and unseal:
        return {**signals, **prompt_facts(unseal(item.prompt_raw))}, failed, True
    pii = signals.get("pii")
    if item.prompt_redacted is not None and pii is not None and not pii.get("entities"):
        return {**signals, **prompt_facts(item.prompt_redacted)}, failed, True
    # A prompt was sent if a text classifier ran or failed; with none, "no prompt" is exact.
    had_prompt = item.prompt_redacted is not None or any(
        name in signals or name in failed for name in TEXT_SIGNALS)
    return signals, failed, not had_prompt


def reads_prompt(condition: Any) -> bool:
    """Whether a rule's condition reads prompt.text or prompt.length anywhere."""
    if isinstance(condition, str):
        return bool(_PROMPT_PATH.search(condition))
    if isinstance(condition, dict):
        return any(reads_prompt(value) for value in condition.values())
    if isinstance(condition, list):
        return any(reads_prompt(value) for value in condition)
    return False


def _without_prompt_rules(policy: CompiledPolicy) -> tuple[CompiledPolicy, list[str]]:
    """The policy less its prompt.* rules (reference evaluation), and those rules' actions."""
    kept = tuple(rule for rule in policy.rules if not reads_prompt(rule.spec.when))
    actions = [rule.spec.then.action for rule in policy.rules if reads_prompt(rule.spec.when)]
    return dataclasses.replace(policy, rules=kept, fires=None), actions


def _depends_on_prompt(known_action: str, known_fired: bool, prompt_actions: list[str]) -> bool:
    """Whether some prompt.* rule, by firing, could change the action: the most severe
    action wins, so only a more severe one can, or any other one when nothing else fired."""
    return any(action != known_action and (not known_fired or SEVERITY[action] > SEVERITY[known_action])
               for action in prompt_actions)


def replay(sessions: sessionmaker, policy: CompiledPolicy, surface: str | None, since: datetime | None,
           csv_path: Path | None, examples_per_change: int = 5,
           unseal: Callable[[str], str] | None = None, csv_stream: TextIO | None = None) -> ReplaySummary:
    """``csv_path`` (or ``csv_stream``) gets one row per item; neither: no rows."""
    summary = ReplaySummary()
    without_prompt, prompt_actions = _without_prompt_rules(policy)
    writer_file = open(csv_path, "w", newline="") if csv_path else None
    try:
        output = writer_file or csv_stream
        writer = csv.writer(output) if output else None
        if writer:
            writer.writerow(["item_id", "surface", "created_at", "stored_decision", "replayed_decision",
                             "stored_policy_sha256", "replayed_rules"])
        for item in _items(sessions, surface, since):
            facts, failed, prompt_exact = stored_facts(item, unseal)
            summary.items += 1
            if prompt_exact or not prompt_actions:
                decision = evaluate(policy, facts, failed)
            else:
                decision = evaluate(without_prompt, facts, failed)
                if _depends_on_prompt(decision.action, bool(decision.reasons), prompt_actions):
                    summary.not_replayable += 1
                    if len(summary.not_replayable_examples) < examples_per_change:
                        summary.not_replayable_examples.append(item.id)
                    if writer:
                        writer.writerow([item.id, item.surface, item.created_at.isoformat(), item.decision,
                                         NOT_REPLAYABLE, item.policy_sha256, ""])
                    continue
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
    replayed = summary.items - summary.not_replayable
    lines = [f"{replayed} items replayed; {summary.changed} decisions would change"]
    if summary.not_replayable:
        lines.append(f"{summary.not_replayable} items {NOT_REPLAYABLE}: a prompt.* rule could decide them and only "
                     f"the redacted prompt is stored (set MODERATION_STORE_RAW_PROMPTS to keep it, encrypted) "
                     f"(e.g. {', '.join(summary.not_replayable_examples)})")
    for (stored, replayed), count in summary.changes.most_common():
        examples = ", ".join(summary.examples.get((stored, replayed), []))
        lines.append(f"  {stored} -> {replayed}: {count}  (e.g. {examples})")
    return "\n".join(lines)
