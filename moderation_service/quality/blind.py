"""Blind review: what a reviewer sees of an item drawn for the quality sample.

The policy's decision, the rules that fired, the scores and the earlier decisions on
near-duplicates are withheld until the verdict, so the human label is not anchored
on what the system already thought.
"""
from __future__ import annotations

from typing import Any

WITHHELD = ("reasons", "signals", "near_duplicates")


def is_blind(entry: Any) -> bool:
    """True for a quality-sample entry that still waits for its verdict."""
    return entry is not None and bool(getattr(entry, "sampling", None)) and entry.status != "decided"


def blind_view(view: dict[str, Any]) -> dict[str, Any]:
    """``view`` (the reviewer's item view) without what would anchor the label; ``blind`` marks it."""
    shown = {key: value for key, value in view.items() if key not in WITHHELD}
    shown["policy"] = {key: value for key, value in (view.get("policy") or {}).items() if key != "decision"}
    shown.update(reasons=[], signals={}, near_duplicates=[], blind=True)
    return shown
