"""Train the multi-label toxicity head on frozen MiniLM embeddings.

Data (``../shared/datasets``, see its README):

* davidson-hate-offensive: ``toxic`` = class 0 or 1, ``hate`` = class 0; the
  other categories are unknown for tweets and masked out of the loss.
* i2p: ``sexual``/``violence``/``self_harm`` = the category is listed in
  ``categories``; a prompt listed only under e.g. "shocking" is a negative for
  them. ``toxic``/``hate`` are masked (i2p's "hate" means hateful imagery, not
  hate speech in the prompt). ``hard`` and ``inappropriate_percentage``
  describe the generated images, not the prompt text, so they are not used.
* coco1k captions: negatives for all five categories.

The train/val/test split is seeded by ``SPLIT_SEED`` rather than by the
training seed, so the held-out test set stays the same whatever seed trains.
"""
from __future__ import annotations

import copy
import csv
import hashlib
import html
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from classifiers.text_normalization import normalize_for_classification
from classifiers.toxicity import CATEGORIES, ENCODER_NAME, SentenceEncoder, ToxicityHead, bundled_encoder_path

SPLIT_SEED = 13
VAL_FRACTION = 0.1
TEST_FRACTION = 0.1
MAX_LENGTH = 128
I2P_CATEGORY_NAMES = {"sexual": "sexual", "violence": "violence", "self-harm": "self_harm"}
DATASET_FILES = {
    "davidson": Path("davidson-hate-offensive") / "labeled_data.csv",
    "i2p": Path("i2p") / "i2p_benchmark.csv",
    "coco": Path("i2p") / "coco1k.csv",
}


@dataclass(frozen=True)
class HeadHyperparameters:
    """Chosen on validation mean AUPRC against linear / 256-wide heads and
    positive weights capped at 3 or 10: class weighting only lowered AUPRC
    (thresholds are tuned per category anyway), so the cap of 1 disables it."""

    hidden_dim: int = 512
    dropout: float = 0.3
    epochs: int = 80
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    max_positive_weight: float = 1.0


class DatasetMissingError(FileNotFoundError):
    pass


@dataclass(frozen=True)
class LabelledText:
    text: str
    source: str
    labels: tuple[float, ...]  # one per CATEGORIES; meaningless where mask is 0
    mask: tuple[float, ...]  # 1 where the source labels that category
    stratum: str


# --------------------------------------------------------------------------- data


def dataset_path(shared_datasets: Path, name: str) -> Path:
    path = Path(shared_datasets) / DATASET_FILES[name]
    if not path.is_file():
        raise DatasetMissingError(
            f"toxicity data set {name!r} not found at {path}; expected the shared data sets described in "
            f"{Path(shared_datasets) / 'README.md'}"
        )
    return path


def clean_source_text(text: str) -> str:
    """Dataset artefacts users' prompts never contain: HTML entities, retweet
    markers, @mentions and links (else the head learns 'tweet-like = toxic')."""
    text = html.unescape(html.unescape(text))
    text = re.sub(r"https?://\S+|www\.\S+", " ", text)
    text = re.sub(r"(?<!\w)@\w+:?", " ", text)
    text = re.sub(r"(?<!\w)RT(?!\w)", " ", text)
    return " ".join(text.split())


def _read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _labels(values: dict[str, float]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    labels = tuple(float(values.get(category, 0.0)) for category in CATEGORIES)
    mask = tuple(1.0 if category in values else 0.0 for category in CATEGORIES)
    return labels, mask


def load_labelled_texts(shared_datasets: Path) -> list[LabelledText]:
    """All labelled texts, de-duplicated per source, in a deterministic order."""
    paths = {name: dataset_path(shared_datasets, name) for name in DATASET_FILES}
    examples: list[LabelledText] = []

    seen: set[str] = set()
    for row in _read_rows(paths["davidson"]):
        text, label_class = clean_source_text(row["tweet"]), int(row["class"])
        if not text or text in seen:
            continue
        seen.add(text)
        labels, mask = _labels({"toxic": float(label_class in (0, 1)), "hate": float(label_class == 0)})
        examples.append(LabelledText(text, "davidson", labels, mask, f"davidson-{label_class}"))

    # The same prompt can appear under several categories: merge them.
    i2p_categories: dict[str, set[str]] = {}
    for row in _read_rows(paths["i2p"]):
        text = clean_source_text(row["prompt"])
        if text:
            listed = {name.strip() for name in row["categories"].split(",")}
            i2p_categories.setdefault(text, set()).update(listed)
    for text, listed in i2p_categories.items():
        values = {ours: float(theirs in listed) for theirs, ours in I2P_CATEGORY_NAMES.items()}
        labels, mask = _labels(values)
        stratum = "i2p-" + ("+".join(sorted(ours for ours, value in values.items() if value)) or "none")
        examples.append(LabelledText(text, "i2p", labels, mask, stratum))

    seen = set()
    for row in _read_rows(paths["coco"]):
        text = clean_source_text(row["prompt"])
        if text and text not in seen:
            seen.add(text)
            labels, mask = _labels({category: 0.0 for category in CATEGORIES})
            examples.append(LabelledText(text, "coco", labels, mask, "coco"))
    return examples


def split_labelled_texts(examples: Sequence[LabelledText]) -> dict[str, list[LabelledText]]:
    """Stratified 80/10/10 train/val/test per source, seeded by SPLIT_SEED."""
    from sklearn.model_selection import train_test_split

    strata = _merge_rare_strata([example.stratum for example in examples])
    indices = np.arange(len(examples))
    train, rest = train_test_split(
        indices, test_size=VAL_FRACTION + TEST_FRACTION, random_state=SPLIT_SEED, stratify=strata
    )
    rest_strata = _merge_rare_strata([strata[index] for index in rest])
    val, test = train_test_split(
        rest, test_size=TEST_FRACTION / (VAL_FRACTION + TEST_FRACTION), random_state=SPLIT_SEED, stratify=rest_strata
    )
    return {name: [examples[index] for index in part] for name, part in (("train", train), ("val", val), ("test", test))}


def _merge_rare_strata(strata: list[str], minimum: int = 10) -> list[str]:
    counts: dict[str, int] = {}
    for stratum in strata:
        counts[stratum] = counts.get(stratum, 0) + 1
    return [stratum if counts[stratum] >= minimum else stratum.split("-")[0] + "-rare" for stratum in strata]


def held_out_test_split(shared_datasets: Path) -> list[LabelledText]:
    return split_labelled_texts(load_labelled_texts(shared_datasets))["test"]


def _first_per_source(examples: list[LabelledText], limit: int | None) -> list[LabelledText]:
    if limit is None:
        return examples
    taken: dict[str, int] = {}
    kept = []
    for example in examples:
        if taken.get(example.source, 0) < limit:
            taken[example.source] = taken.get(example.source, 0) + 1
            kept.append(example)
    return kept


# --------------------------------------------------------------------------- head


def as_tensors(examples: Sequence[LabelledText]) -> tuple[torch.Tensor, torch.Tensor]:
    labels = torch.tensor([example.labels for example in examples], dtype=torch.float32).reshape(-1, len(CATEGORIES))
    mask = torch.tensor([example.mask for example in examples], dtype=torch.float32).reshape(-1, len(CATEGORIES))
    return labels, mask


def masked_bce(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, pos_weight: torch.Tensor) -> torch.Tensor:
    losses = nn.functional.binary_cross_entropy_with_logits(logits, labels, pos_weight=pos_weight, reduction="none")
    return (losses * mask).sum() / mask.sum().clamp(min=1.0)


def positive_weights(labels: torch.Tensor, mask: torch.Tensor, cap: float) -> torch.Tensor:
    """neg/pos per category over labelled rows, capped so rare classes do not swamp."""
    positives = (labels * mask).sum(dim=0)
    negatives = ((1 - labels) * mask).sum(dim=0)
    return (negatives / positives.clamp(min=1.0)).clamp(min=1.0, max=cap)


def fit_head(
    train_x: torch.Tensor,
    train_labels: torch.Tensor,
    train_mask: torch.Tensor,
    val_x: torch.Tensor,
    val_labels: torch.Tensor,
    val_mask: torch.Tensor,
    seed: int,
    hyper: HeadHyperparameters = HeadHyperparameters(),
) -> tuple[ToxicityHead, dict[str, Any]]:
    """Seeded minibatch Adam; keeps the epoch with the best mean validation AUPRC."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    head = ToxicityHead(train_x.shape[1], hyper.hidden_dim, train_labels.shape[1], hyper.dropout)
    optimizer = torch.optim.AdamW(head.parameters(), lr=hyper.learning_rate, weight_decay=hyper.weight_decay)
    pos_weight = positive_weights(train_labels, train_mask, hyper.max_positive_weight)
    best_score, best_epoch, best_state = -1.0, -1, copy.deepcopy(head.state_dict())
    for epoch in range(hyper.epochs):
        head.train()
        for batch in torch.randperm(len(train_x), generator=generator).split(hyper.batch_size):
            optimizer.zero_grad()
            loss = masked_bce(head(train_x[batch]), train_labels[batch], train_mask[batch], pos_weight)
            loss.backward()
            optimizer.step()
        score = mean_auprc(predict_probabilities(head, val_x), val_labels, val_mask)
        if score > best_score:
            best_score, best_epoch, best_state = score, epoch, copy.deepcopy(head.state_dict())
    head.load_state_dict(best_state)
    return head.eval(), {"best_epoch": best_epoch, "val_mean_auprc": best_score}


def predict_probabilities(head: nn.Module, embeddings: torch.Tensor) -> np.ndarray:
    head.eval()
    with torch.inference_mode():
        return torch.sigmoid(head(embeddings)).numpy()


def mean_auprc(probabilities: np.ndarray, labels: torch.Tensor, mask: torch.Tensor) -> float:
    from sklearn.metrics import average_precision_score

    scores = []
    for column in range(labels.shape[1]):
        rows = mask[:, column].numpy() > 0
        truth = labels[rows, column].numpy()
        if truth.size and 0 < truth.sum() < truth.size:
            scores.append(average_precision_score(truth, probabilities[rows, column]))
    return float(np.mean(scores)) if scores else 0.0


def best_f1_threshold(truth: np.ndarray, scores: np.ndarray) -> float:
    """Threshold maximising F1 on validation; 0.5 when there is nothing to tune on."""
    from sklearn.metrics import precision_recall_curve

    if truth.size == 0 or truth.sum() in (0, truth.size):
        return 0.5
    precision, recall, thresholds = precision_recall_curve(truth, scores)
    f1 = 2 * precision[:-1] * recall[:-1] / np.clip(precision[:-1] + recall[:-1], 1e-12, None)
    return round(float(thresholds[int(np.argmax(f1))]), 4)


def binary_metrics(truth: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float | int | None]:
    """Precision/recall/F1 at ``threshold`` plus threshold-free AUPRC."""
    from sklearn.metrics import average_precision_score, precision_recall_fscore_support

    predicted = scores >= threshold
    precision, recall, f1, _ = precision_recall_fscore_support(
        truth.astype(bool), predicted, average="binary", zero_division=0
    )
    has_positives = truth.sum() > 0
    has_both = has_positives and truth.sum() < truth.size
    return {
        "n": int(truth.size),
        "positives": int(truth.sum()),
        "threshold": round(float(threshold), 4),
        "precision": round(float(precision), 4) if predicted.any() else None,
        "recall": round(float(recall), 4) if has_positives else None,  # undefined without positives
        "f1": round(float(f1), 4) if has_positives else None,
        "accuracy": round(float((predicted == truth.astype(bool)).mean()), 4) if truth.size else None,
        "auprc": round(float(average_precision_score(truth, scores)), 4) if has_both else None,
    }


def per_category_metrics(
    probabilities: np.ndarray, labels: torch.Tensor, mask: torch.Tensor, thresholds: dict[str, float]
) -> dict[str, dict[str, Any]]:
    results = {}
    for column, category in enumerate(CATEGORIES):
        rows = mask[:, column].numpy() > 0
        results[category] = binary_metrics(
            labels[rows, column].numpy(), probabilities[rows, column], thresholds.get(category, 0.5)
        )
    return results


# --------------------------------------------------------------------------- entry point


def embed_texts(texts: Sequence[str], encoder: SentenceEncoder, batch_size: int = 64) -> torch.Tensor:
    texts = [normalize_for_classification(text) for text in texts]
    return encoder.encode(texts, batch_size=batch_size, bucketed=False)  # as the committed head was trained


def save_head(head: ToxicityHead, config: dict[str, Any], out_dir: Path) -> str:
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    weights_path = out_dir / "head.safetensors"
    state = {name: tensor.detach().contiguous().clone() for name, tensor in head.state_dict().items()}
    save_file(state, str(weights_path))
    weights_path.chmod(0o644)  # safetensors writes 0600; the head ships with the package
    head_sha256 = hashlib.sha256(weights_path.read_bytes()).hexdigest()
    config = {**config, "version": f"seed{config['seed']}-{head_sha256[:12]}"}
    (out_dir / "head_config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    return head_sha256


def train_toxicity_head(
    shared_datasets: Path,
    out_dir: Path,
    seed: int = 13,
    limit_per_source: int | None = None,
    hyper: HeadHyperparameters = HeadHyperparameters(),
) -> dict[str, Any]:
    """Embed, fit, tune thresholds on val, save head + config, return metrics.

    ``limit_per_source`` keeps the first N examples of each source in every
    split (for fast tests); the default trains on everything.
    """
    started = time.perf_counter()
    torch.set_num_threads(2)  # fixed so float reductions, hence the bytes, repeat
    splits = split_labelled_texts(load_labelled_texts(shared_datasets))
    splits = {name: _first_per_source(part, limit_per_source) for name, part in splits.items()}

    encoder = SentenceEncoder(bundled_encoder_path(), device="cpu", max_length=MAX_LENGTH)
    embeddings = {name: embed_texts([example.text for example in part], encoder) for name, part in splits.items()}
    targets = {name: as_tensors(part) for name, part in splits.items()}
    embedding_seconds = time.perf_counter() - started

    head, history = fit_head(
        embeddings["train"], *targets["train"], embeddings["val"], *targets["val"], seed=seed, hyper=hyper
    )
    val_probabilities = predict_probabilities(head, embeddings["val"])
    val_labels, val_mask = targets["val"]
    thresholds = {}
    for column, category in enumerate(CATEGORIES):
        rows = val_mask[:, column].numpy() > 0
        thresholds[category] = best_f1_threshold(val_labels[rows, column].numpy(), val_probabilities[rows, column])

    config = {
        "categories": list(CATEGORIES),
        "input_dim": int(embeddings["train"].shape[1]),
        "hidden_dim": hyper.hidden_dim,
        "encoder": ENCODER_NAME,
        "pooling": "mean over attention mask, then L2 normalisation",
        "max_length": MAX_LENGTH,
        "normalization": "classifiers.text_normalization.normalize_for_classification",
        "seed": seed,
        "split_seed": SPLIT_SEED,
        "limit_per_source": limit_per_source,
        "hyperparameters": hyper.__dict__,
        "best_epoch": history["best_epoch"],
        "thresholds": thresholds,
    }
    head_sha256 = save_head(head, config, Path(out_dir))
    test_probabilities = predict_probabilities(head, embeddings["test"])
    return {
        "seed": seed,
        "sizes": {name: len(part) for name, part in splits.items()},
        "best_epoch": history["best_epoch"],
        "thresholds": thresholds,
        "val": per_category_metrics(val_probabilities, *targets["val"], thresholds),
        "test": per_category_metrics(test_probabilities, *targets["test"], thresholds),
        "head_sha256": head_sha256,
        "embedding_seconds": round(embedding_seconds, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
    }
