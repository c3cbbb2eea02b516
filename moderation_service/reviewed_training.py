"""Reviewer-labelled items as training rows for the text model (``moderation train text --reviewed``).

Reads exports written by ``moderation dataset export`` (``items.jsonl`` + ``manifest.json``):

- text: the redacted prompt; the raw prompt only when the export carries it (``dataset export
  --raw-prompts``, which needs the raw-prompt key) and the operator asks for it (``use_raw``);
- labels: per category from the verdict and reason code (``datasets/reason_codes.yaml``); a category
  the verdict says nothing about is left out, i.e. masked out of the loss;
- weight: ``reviewed_weight`` (reviewers' labels are on the traffic we serve), times the item's
  share of its near-duplicate group (items whose normalised text is the same, or whose pHashes are
  within ``group_distance`` bits, count once together), times ``1/p`` normalised to mean 1 over the
  items drawn by quality sampling (so an uncertainty sample does not outweigh the uniform one).
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from classifiers.text_normalization import normalize_for_classification
from moderation_service.reviewed_evaluation import read_export
from moderation_service.reviewed_labels import ReasonCodeMap


@dataclass(frozen=True)
class ReviewedExample:
    text: str
    values: dict[str, float]  # category -> 0.0 or 1.0; absent categories are unknown
    weight: float
    item_id: str


def load_reviewed(exports: Sequence[Path], reason_codes: ReasonCodeMap, categories: tuple[str, ...],
                  reviewed_weight: float = 3.0, group_distance: int = 6, use_raw: bool = False
                  ) -> tuple[list[ReviewedExample], dict[str, Any]]:
    """Training rows and the summary the model card records (per export: its manifest's sha256 and
    the labels that went in). Raises FileNotFoundError for a folder that is not an export."""
    records, sources = [], []
    for folder in exports:
        manifest_path = Path(folder) / "manifest.json"
        if not manifest_path.is_file():
            raise FileNotFoundError(f"{manifest_path} not found: write one with `moderation dataset export`")
        manifest = json.loads(manifest_path.read_text())
        rows = read_export(Path(folder))
        records += rows
        sources.append({"export": str(folder), "items_sha256": manifest["files"]["items.jsonl"]["sha256"],
                        "manifest_sha256": hashlib.sha256(manifest_path.read_bytes()).hexdigest(),
                        "items": len(rows)})
    skipped: Counter = Counter()
    candidates = []
    for record in records:
        text = record.get("prompt_raw") if use_raw and record.get("prompt_raw") else record.get("prompt_redacted")
        text = normalize_for_classification(text or "")
        if not text:
            skipped["no text (image only, or purged)"] += 1
            continue
        label = record["label"]
        values = {c: float(v) for c, v in reason_codes.labels_for(label["verdict"], label.get("reason_code"),
                                                                     categories).items()}
        if not values:
            skipped[f"reason code {label.get('reason_code')!r} maps to no category"] += 1
            continue
        candidates.append((record, text, values))
    shares = _group_shares([(r, t) for r, t, _ in candidates], group_distance)
    inverse = [1 / r["label"]["sampling_probability"] for r, _, _ in candidates
               if r["label"].get("sampling_probability")]
    mean_inverse = sum(inverse) / len(inverse) if inverse else 1.0
    examples = []
    for (record, text, values), share in zip(candidates, shares):
        probability = record["label"].get("sampling_probability")
        correction = (1 / probability) / mean_inverse if probability else 1.0
        examples.append(ReviewedExample(text, values, reviewed_weight * share * correction, record["id"]))
    per_category = {c: {"positive": sum(1 for e in examples if e.values.get(c) == 1.0),
                        "negative": sum(1 for e in examples if e.values.get(c) == 0.0)} for c in categories}
    summary = {"exports": sources, "examples": len(examples), "skipped": dict(skipped),
               "verdicts": dict(Counter(r["label"]["verdict"] for r, _, _ in candidates)),
               "groups": len(set(_group_ids([(r, t) for r, t, _ in candidates], group_distance))),
               "per_category": {c: n for c, n in per_category.items() if n["positive"] or n["negative"]},
               "reviewed_weight": reviewed_weight, "text": "raw" if use_raw else "redacted"}
    return examples, summary


def _group_ids(items: list[tuple[dict, str]], distance: int) -> list[int]:
    """Union-find over same normalised text (case and spacing folded) or pHashes within ``distance``."""
    parent = list(range(len(items)))

    def find(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    by_text: dict[str, int] = {}
    with_hash: list[int] = []
    values: list[int] = []
    for index, (record, text) in enumerate(items):
        key = " ".join(text.casefold().split())
        if key in by_text:
            parent[find(index)] = find(by_text[key])
        else:
            by_text[key] = index
        phash = ((record.get("signals") or {}).get("image_hash") or {}).get("phash")
        if phash:
            with_hash.append(index)
            values.append(int(phash, 16))
    hashes = np.array(values, dtype=np.uint64)
    for position in range(1, len(hashes)):  # vectorised: 20k hashed items take about a second
        close = np.flatnonzero(np.bitwise_count(hashes[:position] ^ hashes[position]) <= distance)
        for other in close:
            parent[find(with_hash[position])] = find(with_hash[int(other)])
    return [find(index) for index in range(len(items))]


def _group_shares(items: list[tuple[dict, str]], distance: int) -> list[float]:
    ids = _group_ids(items, distance)
    sizes = Counter(ids)
    return [1.0 / sizes[group] for group in ids]


def write_candidate_card(out_dir: Path, summary: dict[str, Any], metrics: dict[str, Any]) -> Path:
    """MODEL_CARD.md of a candidate trained from reviews: what went in, from which exports."""
    lines = ["# Candidate text model, fine-tuned on reviewers' labels", "",
             f"Base: `{metrics.get('base', 'the committed model')}`; written by `moderation train text --reviewed`. "
             "Calibration and thresholds are the base model's. Compare it with the live model in shadow "
             "(`moderation models report`) before promoting it.", "",
             "## Reviewed items that went in", "",
             f"- rows: {summary['examples']} ({summary['groups']} near-duplicate groups, each counted once), "
             f"weight {summary['reviewed_weight']} each, trained on the {summary['text']} text",
             f"- verdicts: {summary['verdicts']}",
             f"- skipped: {summary['skipped'] or 'none'}",
             f"- replayed rows of the shared training sets: {summary.get('replay_rows', 0)}", "",
             "| category | positive | negative |", "|---|---|---|"]
    lines += [f"| {name} | {counts['positive']} | {counts['negative']} |"
              for name, counts in summary["per_category"].items()]
    lines += ["", "## Exports", "", "| export | items | items.jsonl sha256 | manifest sha256 |", "|---|---|---|---|"]
    lines += [f"| {s['export']} | {s['items']} | `{s['items_sha256']}` | `{s['manifest_sha256']}` |"
              for s in summary["exports"]]
    path = Path(out_dir) / "MODEL_CARD.md"
    path.write_text("\n".join(lines) + "\n")
    return path
