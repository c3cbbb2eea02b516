"""A candidate text model from reviewers' labels: the live model, fine-tuned further on reviewed items.

``moderation train text --reviewed EXPORT... --from DIR`` starts from a trained model folder (the
committed one by default) and fine-tunes the same trainable part (its top encoder layer and head)
on reviewed rows, each weighted (``moderation_service.reviewed_training``), with the masked
multi-label loss of the full training; optionally mixed with a replay sample of the shared
training data so that categories the reviews do not mention are not forgotten. It keeps the base
model's calibration and thresholds (a warm start moves the raw scores little; a full
``moderation train text`` recalibrates). Shapes: rows of text -> the same (categories,) scores.
"""
from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from classifiers.text_model import MODEL_DIR, load_model
from classifiers.text_model_training import _stack, cache_lower_states, positive_weights, save_model, targets, tokenize
from classifiers.text_normalization import normalize_for_classification
from classifiers.text_training_data import CATEGORIES, LabelledText, make_row


def reviewed_rows(examples: Sequence[Any]) -> tuple[list[LabelledText], list[float]]:
    """``ReviewedExample``s (text, values, weight) as training rows and their weights."""
    rows = [make_row(example.text, "reviewed", example.values) for example in examples]
    return rows, [float(example.weight) for example in examples]


def finetune_text_model(rows: Sequence[LabelledText], weights: Sequence[float], out_dir: Path,
                        base_dir: Path = MODEL_DIR, replay: Sequence[LabelledText] = (), epochs: int = 4,
                        learning_rate: float = 5e-4, batch_size: int = 16, max_tokens: int = 64, seed: int = 13,
                        provenance: dict[str, Any] | None = None, log=print) -> dict[str, Any]:
    """Fine-tunes ``base_dir``'s model on ``rows`` (weighted) plus ``replay`` (weight 1); writes ``out_dir``.

    Returns the figures the model card records. Raises ValueError when there is nothing to train on.
    """
    if not rows:
        raise ValueError("no reviewed rows to train on: check the export and datasets/reason_codes.yaml")
    started = time.perf_counter()
    torch.manual_seed(seed)
    model, tokenizer, base_config = load_model(Path(base_dir))
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    trainable = [p for layer in model.encoder.encoder.layer[model.split_layer:] for p in layer.parameters()]
    trainable += list(model.head.parameters())
    for parameter in trainable:
        parameter.requires_grad_(True)
    all_rows = [LabelledText(normalize_for_classification(r.text), r.source, r.labels, r.mask)
                for r in [*rows, *replay]]
    row_weights = torch.tensor([*weights, *([1.0] * len(replay))], dtype=torch.float32)
    states = cache_lower_states(model, tokenize(tokenizer, [row.text for row in all_rows], max_tokens))
    labels, mask = targets(all_rows)
    weighted_mask = mask * row_weights[:, None]
    pos_weight = positive_weights(labels, mask, 5.0)
    optimizer = torch.optim.AdamW(trainable, lr=learning_rate, weight_decay=0.01)
    rng = random.Random(seed)
    order = list(range(len(all_rows)))
    for epoch in range(epochs):
        model.train()
        model.encoder.encoder.layer[: model.split_layer].eval()
        rng.shuffle(order)
        total = 0.0
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            stacked, attention = _stack([states[index] for index in batch])
            logits = model.upper_logits(stacked, attention)
            losses = nn.functional.binary_cross_entropy_with_logits(logits, labels[batch], pos_weight=pos_weight,
                                                                    reduction="none")
            loss = (losses * weighted_mask[batch]).sum() / weighted_mask[batch].sum().clamp(min=1e-6)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            total += loss.item() * len(batch)
        log(f"epoch {epoch}: weighted loss {total / len(order):.4f}")
    model.eval()
    config = {key: value for key, value in base_config.items() if key != "version"}
    config["finetuned_from"] = {"version": base_config.get("version"), "folder": str(base_dir)}
    config["finetune"] = {"epochs": epochs, "learning_rate": learning_rate, "batch_size": batch_size,
                          "max_tokens": max_tokens, "seed": seed, "reviewed_rows": len(rows),
                          "replay_rows": len(replay), "calibration": "kept from the base model"}
    config["reviewed"] = provenance or {}
    config["seed"] = seed
    digest = save_model(model, config, Path(out_dir))
    return {"out": str(out_dir), "model_sha256": digest, "reviewed_rows": len(rows), "replay_rows": len(replay),
            "categories": list(CATEGORIES), "seconds": round(time.perf_counter() - started, 1)}
