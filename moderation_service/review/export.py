"""Reviewed items as a labelled dataset: ``items.jsonl`` plus ``manifest.json``.

One line per decided item: the redacted prompt (never the raw one), the image
path in the content-addressed store, the signals, the policy's decision and the
final human label. The manifest records the filter, counts and the file's sha256.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Callable

from sqlalchemy import or_, select
from sqlalchemy.orm import sessionmaker

from moderation_service.db.tables import ModerationItem, ReviewQueueEntry
from moderation_service.decision_cause import RETRO_ACTOR
from moderation_service.image_store import ImageStore
from moderation_service.review.clock import aware, utcnow

FORMAT = "moderation-reviewed-items/1"


def export_dataset(sessions: sessionmaker, image_store: ImageStore, out_dir: Path,
                   since: datetime | None = None, unseal: Callable[[str], str] | None = None) -> dict:
    """``unseal`` (decrypts stored raw prompts) adds ``prompt_raw`` where one is stored: only when the
    operator asks (``--raw-prompts``), since the export then holds personal data."""
    out_dir.mkdir(parents=True, exist_ok=True)
    items_path = out_dir / "items.jsonl"
    query = (select(ModerationItem, ReviewQueueEntry)
             .join(ReviewQueueEntry, ReviewQueueEntry.item_id == ModerationItem.id)
             .where(ReviewQueueEntry.status == "decided",
                    # A retro-hunt takedown is a bank's decision, not a person's label.
                    or_(ReviewQueueEntry.decided_by.is_(None), ReviewQueueEntry.decided_by != RETRO_ACTOR))
             .order_by(ReviewQueueEntry.decided_at, ModerationItem.id))
    if since is not None:
        query = query.where(ReviewQueueEntry.decided_at >= since)
    labels: Counter = Counter()
    digest = hashlib.sha256()
    with sessions() as session, items_path.open("w", encoding="utf-8") as handle:
        for item, entry in session.execute(query).yield_per(1000):
            image_path = None
            if item.image_sha256 and item.purged_at is None:
                image_path = str(image_store.path_for(item.image_sha256, item.image_format or ""))
            record = {
                "id": item.id, "external_id": item.external_id, "surface": item.surface,
                "created_at": aware(item.created_at).isoformat(),
                "prompt_redacted": item.prompt_redacted, "image_path": image_path, "image_sha256": item.image_sha256,
                "signals": item.signals,
                "policy": {"name": item.policy_name, "sha256": item.policy_sha256, "decision": item.decision,
                           "rules": [reason.get("rule_id") for reason in item.reasons or []]},
                "label": {"verdict": entry.verdict, "final_decision": entry.final_decision,
                          "reason_code": entry.reason_code, "queue": entry.queue,
                          # How the item was drawn for review: a quality sample's inclusion probability
                          # lets training and estimates weight by 1/p; policy-sent reviews have none.
                          "sampling": entry.sampling, "sampling_probability": entry.sampling_probability,
                          "decided_at": aware(entry.decided_at).isoformat()},
            }
            if unseal is not None and item.prompt_raw:
                record["prompt_raw"] = unseal(item.prompt_raw)
            line = json.dumps(record, sort_keys=True) + "\n"
            handle.write(line)
            digest.update(line.encode())
            labels[entry.verdict] += 1
    manifest = {"format": FORMAT, "created_at": utcnow().isoformat(),
                "since": since.isoformat() if since else None, "count": sum(labels.values()),
                "labels": dict(labels), "contains_raw_prompts": unseal is not None, "files": {"items.jsonl": {"sha256": digest.hexdigest()}},
                "fields": ["id", "external_id", "surface", "created_at", "prompt_redacted", "image_path",
                           "image_sha256", "signals", "policy", "label"]}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
