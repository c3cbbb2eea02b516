"""Train the text safety model (``moderation train text``) on the 2-core CPU.

Recipe (chosen to rebuild in well under an hour on this project's CPU):

1. Rows: every train-use shared set, mapped by ``classifiers.text_training_data``
   (seeded per-source sample), plus the train split of ``datasets/text_templates.py``
   (repeated ``TEMPLATE_REPEATS`` times per epoch), plus ``PADDING_AUGMENTED`` rows
   where benign COCO captions are put before or after a labelled text (labels
   kept): benign context must neither dilute nor hide a harmful sentence.
2. Split by a hash of the normalised text: 80% train, 10% validation, 10% test,
   the same whatever the seed or the caps.
3. The frozen lower MiniLM layers run once; their token states are cached (fp16).
   The top ``TOP_LAYERS`` layers and the mean+max head are fine-tuned over them
   with a masked multi-label BCE: a source teaches only the categories it labels.
4. The epoch with the best mean validation AUPRC is kept; validation is then scored
   as the service scores it (whole texts, windowed) and each category calibrated and
   thresholded on those scores (``classifiers.text_calibration``).
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from classifiers.text_calibration import calibration_fields, served_raw_scores
from classifiers.text_model import (
    MODEL_DIR, WINDOW_STRIDE, WINDOW_TOKENS, TextSafetyModel, bundled_encoder, load_model,
)
from classifiers.text_normalization import normalize_for_classification
from classifiers.text_training_data import (
    CATEGORIES, SOURCE_CAPS, LabelledText, category_counts, load_all, load_source, make_row,
)

@dataclass(frozen=True)
class TrainingConfig:
    top_layers: int = 3
    head_inner: int = 256
    train_max_tokens: int = 48
    threads: int = 2
    epochs: int = 4
    batch_size: int = 32
    layer_learning_rate: float = 1e-4
    head_learning_rate: float = 1e-3
    weight_decay: float = 0.01
    max_positive_weight: float = 5.0
    template_repeats: int = 3
    padding_augmented: int = 1000
    style_tag_rows: int = 600
    long_scene_rows: int = 800
    caps: dict[str, int] = field(default_factory=lambda: dict(SOURCE_CAPS))


def split_of(text: str) -> str:
    """'train' / 'val' / 'test' from a hash of the text: stable across seeds, caps and machines."""
    bucket = int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16) % 10
    return "val" if bucket == 0 else "test" if bucket == 1 else "train"


# Style tags of text-to-image prompts, written here: the usual wrapping of a prompt's one clause.
STYLE_TAGS = (
    "masterpiece", "best quality", "ultra detailed", "8k", "4k uhd", "golden hour", "35mm film", "bokeh",
    "soft rim light", "volumetric fog", "cinematic composition", "award-winning photography", "sharp focus",
    "depth of field", "highly detailed", "octane render", "unreal engine", "trending on artstation",
    "concept art", "studio lighting", "dramatic lighting", "film grain", "hdr", "wide angle", "portrait",
    "photorealistic", "hyperrealistic", "digital painting", "oil painting", "watercolor", "pastel colors",
    "muted tones", "vibrant colors", "symmetrical", "rule of thirds", "f/1.8", "85mm lens", "high contrast",
    "moody", "ethereal", "intricate details", "smooth", "illustration", "anime style", "by greg rutkowski",
)


def padding_augmented(rows: Sequence[LabelledText], captions: Sequence[str], count: int, seed: int) -> list[LabelledText]:
    """``count`` rows whose text sits before, after or between benign context, labels unchanged: half
    among 2-5 captions, half among 4-24 comma-separated style tags (a text-to-image prompt's wrapping)."""
    rng = random.Random(seed)
    positives = [row for row in rows if any(l and m for l, m in zip(row.labels, row.mask))]
    pool = positives + rng.sample(list(rows), min(len(rows), count // 3))
    out = []
    for index, row in enumerate(rng.sample(pool, min(count, len(pool)))):
        if index % 2:
            context = rng.sample(STYLE_TAGS, rng.randint(4, 24))
            cut = rng.randint(0, len(context))
            text = ", ".join(context[:cut] + [row.text] + context[cut:])
        else:
            context = rng.sample(list(captions), rng.randint(2, 5))
            cut = rng.randint(0, len(context))
            text = " ".join(context[:cut] + [row.text] + context[cut:])
        out.append(LabelledText(text, row.source + "+padding", row.labels, row.mask))
    return out


def style_tag_rows(count: int, seed: int) -> list[LabelledText]:
    """``count`` benign rows of 1-3 or 6-20 style tags: every window and clause window reads such
    fragments alone, and the model scored some at random (self-harm 0.45 for "trending on artstation")."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        tags = rng.sample(STYLE_TAGS, rng.randint(1, 3) if index % 2 else rng.randint(6, 20))
        rows.append(make_row(", ".join(tags), "style-tags", {category: 0.0 for category in CATEGORIES}))
    return list({row.text: row for row in rows}.values())


def long_scene_rows(captions: Sequence[str], count: int, seed: int) -> list[LabelledText]:
    """``count`` benign rows of 3-8 captions run together with commas or full stops: long descriptive
    prompts, which the model read as self-harm/intent (0.60 for a 14-clause harbour scene)."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        parts = [caption.rstrip(". ") for caption in rng.sample(list(captions), rng.randint(3, 8))]
        text = ", ".join(parts) if index % 2 else ". ".join(parts) + "."
        rows.append(make_row(text, "long-scenes", {category: 0.0 for category in CATEGORIES}))
    return rows


def build_splits(shared_datasets: Path, config: TrainingConfig, seed: int) -> dict[str, list[LabelledText]]:
    rows = load_all(shared_datasets, config.caps) + style_tag_rows(config.style_tag_rows, seed=7)
    if config.long_scene_rows:
        rows += long_scene_rows([row.text for row in load_source(shared_datasets, "coco")], config.long_scene_rows, seed=8)
    rows = [LabelledText(normalize_for_classification(row.text, decorations=False), row.source, row.labels, row.mask)
            for row in rows]
    rows = [row for row in rows if row.text]
    splits: dict[str, list[LabelledText]] = {"train": [], "val": [], "test": []}
    for row in rows:
        splits[split_of(row.text)].append(row)
    if config.padding_augmented:
        captions = [row.text for row in load_source(shared_datasets, "coco")]
        for name in splits:
            base = [row for row in splits[name] if row.source != "coco"]
            count = config.padding_augmented if name == "train" else config.padding_augmented // 8
            splits[name] += padding_augmented(base, captions, count, seed + len(name))
    return splits


# --------------------------------------------------------------------------- caching


def tokenize(tokenizer: Any, texts: Sequence[str], max_tokens: int) -> list[list[int]]:
    return tokenizer(list(texts), truncation=True, max_length=max_tokens)["input_ids"]


def _batches_by_length(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    order = sorted(range(len(lengths)), key=lambda index: lengths[index])
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def _pad(ids: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(row) for row in ids)
    input_ids = torch.zeros((len(ids), width), dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, values in enumerate(ids):
        input_ids[row, : len(values)] = torch.tensor(values)
        mask[row, : len(values)] = 1
    return input_ids, mask


def cache_lower_states(model: TextSafetyModel, ids: Sequence[Sequence[int]], batch_size: int = 64) -> list[torch.Tensor]:
    """Per text: (tokens, hidden) fp16 states after the frozen layers."""
    states: list[torch.Tensor | None] = [None] * len(ids)
    with torch.inference_mode():
        for batch in _batches_by_length([len(row) for row in ids], batch_size):
            input_ids, mask = _pad([ids[index] for index in batch])
            lower = model.lower_states(input_ids, mask, torch.zeros_like(input_ids))
            for row, index in enumerate(batch):
                states[index] = lower[row, : len(ids[index])].to(torch.float16).clone()
    return states  # type: ignore[return-value]


def _stack(states: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(state.shape[0] for state in states)
    batch = torch.zeros((len(states), width, states[0].shape[1]), dtype=torch.float32)
    mask = torch.zeros((len(states), width), dtype=torch.long)
    for row, state in enumerate(states):
        batch[row, : state.shape[0]] = state.float()
        mask[row, : state.shape[0]] = 1
    return batch, mask


# --------------------------------------------------------------------------- fitting


def targets(rows: Sequence[LabelledText]) -> tuple[torch.Tensor, torch.Tensor]:
    labels = torch.tensor([row.labels for row in rows], dtype=torch.float32).reshape(-1, len(CATEGORIES))
    mask = torch.tensor([row.mask for row in rows], dtype=torch.float32).reshape(-1, len(CATEGORIES))
    return labels, mask


def masked_bce(logits, labels, mask, pos_weight) -> torch.Tensor:
    losses = nn.functional.binary_cross_entropy_with_logits(logits, labels, pos_weight=pos_weight, reduction="none")
    return (losses * mask).sum() / mask.sum().clamp(min=1.0)


def positive_weights(labels: torch.Tensor, mask: torch.Tensor, cap: float) -> torch.Tensor:
    """sqrt(neg/pos) per category, capped: rare categories count more without swamping."""
    positives = (labels * mask).sum(dim=0)
    negatives = ((1 - labels) * mask).sum(dim=0)
    return (negatives / positives.clamp(min=1.0)).sqrt().clamp(min=1.0, max=cap)


def predict_raw(model: TextSafetyModel, states: Sequence[torch.Tensor], batch_size: int = 128) -> np.ndarray:
    model.eval()
    out = np.zeros((len(states), len(model.categories)), dtype=np.float32)
    with torch.inference_mode():
        for batch in _batches_by_length([state.shape[0] for state in states], batch_size):
            stacked, mask = _stack([states[index] for index in batch])
            out[batch] = torch.sigmoid(model.upper_logits(stacked, mask)).numpy()
    return out


def auprc_per_category(scores: np.ndarray, labels: torch.Tensor, mask: torch.Tensor) -> dict[str, float]:
    from sklearn.metrics import average_precision_score

    result = {}
    for column, category in enumerate(CATEGORIES):
        rows = mask[:, column].numpy() > 0
        truth = labels[rows, column].numpy()
        if truth.size and 0 < truth.sum() < truth.size:
            result[category] = float(average_precision_score(truth, scores[rows, column]))
    return result


def fit(model: TextSafetyModel, train_states, train_rows, val_states, val_rows, config: TrainingConfig, seed: int,
        log=print) -> dict[str, Any]:
    torch.manual_seed(seed)
    rng = random.Random(seed)
    labels, mask = targets(train_rows)
    val_labels, val_mask = targets(val_rows)
    pos_weight = positive_weights(labels, mask, config.max_positive_weight)
    upper = [p for layer in model.encoder.encoder.layer[model.split_layer :] for p in layer.parameters()]
    optimizer = torch.optim.AdamW(
        [{"params": upper, "lr": config.layer_learning_rate}, {"params": model.head.parameters(), "lr": config.head_learning_rate}],
        weight_decay=config.weight_decay,
    )
    order = [index for index, row in enumerate(train_rows) for _ in range(config.template_repeats if row.source == "templates" else 1)]
    lengths = [train_states[index].shape[0] for index in range(len(train_rows))]
    steps_per_epoch = math.ceil(len(order) / config.batch_size)
    total = steps_per_epoch * config.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / max(1, total // 20)) * max(0.0, 1 - step / total)
    )
    best = {"score": -1.0, "epoch": -1, "state": None, "auprc": {}}
    for epoch in range(config.epochs):
        model.train()
        model.encoder.encoder.layer[: model.split_layer].eval()
        rng.shuffle(order)
        # Batches of similar length (less padding), in random order.
        chunks = [order[start : start + config.batch_size * 20] for start in range(0, len(order), config.batch_size * 20)]
        batches = []
        for chunk in chunks:
            chunk.sort(key=lambda index: lengths[index])
            batches += [chunk[start : start + config.batch_size] for start in range(0, len(chunk), config.batch_size)]
        rng.shuffle(batches)
        started, running = time.perf_counter(), 0.0
        for step, batch in enumerate(batches):
            stacked, attention = _stack([train_states[index] for index in batch])
            loss = masked_bce(model.upper_logits(stacked, attention), labels[batch], mask[batch], pos_weight)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
            if step % 200 == 0:
                log(f"epoch {epoch} step {step}/{len(batches)} loss {running:.4f} ({time.perf_counter() - started:.0f} s)")
        auprc = auprc_per_category(predict_raw(model, val_states), val_labels, val_mask)
        score = float(np.mean(list(auprc.values()))) if auprc else 0.0
        log(f"epoch {epoch}: validation mean AUPRC {score:.4f} {json.dumps({k: round(v, 3) for k, v in auprc.items()})}")
        if score > best["score"]:
            best = {"score": score, "epoch": epoch, "state": copy.deepcopy(model.trainable_state()), "auprc": auprc}
    model.load_trainable_state(best["state"])
    return {"best_epoch": best["epoch"], "val_mean_auprc": round(best["score"], 4),
            "val_auprc": {k: round(v, 4) for k, v in best["auprc"].items()}}


# --------------------------------------------------------------------------- entry point


def save_model(model: TextSafetyModel, config: dict[str, Any], out_dir: Path) -> str:
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().to(torch.float16).contiguous().clone() for name, tensor in model.trainable_state().items()}
    weights = out_dir / "model.safetensors"
    save_file(state, str(weights))
    weights.chmod(0o644)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    config = {**config, "version": f"v2-seed{config['seed']}-{digest[:12]}"}
    (out_dir / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    return digest


def train_text_model(shared_datasets: Path, out_dir: Path = MODEL_DIR, seed: int = 13,
                     config: TrainingConfig = TrainingConfig(), log=print) -> dict[str, Any]:
    """Build the splits, cache, fine-tune, calibrate, save; returns the figures the model card quotes."""
    started = time.perf_counter()
    torch.set_num_threads(config.threads)
    torch.manual_seed(seed)
    splits = build_splits(Path(shared_datasets), config, seed)
    log(f"rows: { {name: len(rows) for name, rows in splits.items()} }")
    encoder, tokenizer = bundled_encoder()
    model = TextSafetyModel(encoder, config.top_layers, CATEGORIES, config.head_inner)
    for parameter in model.encoder.parameters():
        parameter.requires_grad_(False)
    for layer in model.encoder.encoder.layer[model.split_layer :]:
        for parameter in layer.parameters():
            parameter.requires_grad_(True)
    states = {}
    for name, rows in splits.items():
        states[name] = cache_lower_states(model, tokenize(tokenizer, [row.text for row in rows], config.train_max_tokens))
        log(f"cached {name}: {len(rows)} rows ({time.perf_counter() - started:.0f} s)")
    caching_seconds = time.perf_counter() - started
    history = fit(model, states["train"], splits["train"], states["val"], splits["val"], config, seed, log)

    # Calibrate the weights as saved (fp16), read as served.
    model.load_trainable_state({name: tensor.to(torch.float16).float() for name, tensor in model.trainable_state().items()})
    model_config = {
        "categories": list(CATEGORIES),
        "encoder": "sentence-transformers/all-MiniLM-L6-v2",
        "top_layers": config.top_layers,
        "head_inner": config.head_inner,
        "pooling": "concat(masked mean, masked max) over tokens",
        "window_tokens": WINDOW_TOKENS, "window_stride": WINDOW_STRIDE, "window_pooling": "max over windows per category",
        "normalization": "classifiers.text_normalization.normalize_for_classification",
        "seed": seed,
        "training": {key: value for key, value in asdict(config).items()},
        "best_epoch": history["best_epoch"],
        "counts": {name: category_counts(rows) for name, rows in splits.items()},
    }
    val_raw = served_raw_scores(model, tokenizer, model_config, [row.text for row in splits["val"]])
    model_config.update(calibration_fields(val_raw, splits["val"], seed))
    log(f"calibrated on served validation scores ({time.perf_counter() - started:.0f} s)")
    digest = save_model(model, model_config, Path(out_dir))
    test_raw = predict_raw(model, states["test"])
    return {
        "seed": seed, "sizes": {name: len(rows) for name, rows in splits.items()}, **history,
        "test_auprc": {k: round(v, 4) for k, v in auprc_per_category(test_raw, *targets(splits["test"])).items()},
        "calibration_log_loss": model_config["calibration_log_loss"],
        "thresholds_by_precision": model_config["thresholds_by_precision"],
        "model_sha256": digest, "caching_seconds": round(caching_seconds, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
    }


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder: a crash leaves the old file."""
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(text)
    scratch.replace(path)


def recalibrate_text_model(shared_datasets: Path, model_dir: Path = MODEL_DIR, log=print) -> dict[str, Any]:
    """Refit a saved model's calibration and operating thresholds from its weights (``moderation train text
    --recalibrate``): the validation split its recipe builds (``config.json``'s training settings and seed),
    scored as served, then ``classifiers.text_calibration``. Weights and version stay; ``config.json`` is
    rewritten. Returns the new operating thresholds and the ones they replace.

    Raises ``FileNotFoundError`` when ``model_dir`` holds no model, ``DatasetMissingError`` when a shared
    set is missing; ``config.json`` is replaced only once the new one is complete.
    """
    started = time.perf_counter()
    model, tokenizer, model_config = load_model(Path(model_dir))
    recipe = TrainingConfig(**model_config["training"])
    torch.set_num_threads(recipe.threads)
    val_rows = build_splits(Path(shared_datasets), recipe, model_config["seed"])["val"]
    log(f"validation: {len(val_rows)} rows ({time.perf_counter() - started:.0f} s)")
    before = dict(model_config.get("thresholds", {}))
    val_raw = served_raw_scores(model, tokenizer, model_config, [row.text for row in val_rows])
    model_config.update(calibration_fields(val_raw, val_rows, model_config["seed"]))
    _write_atomically(Path(model_dir) / "config.json", json.dumps(model_config, indent=2, sort_keys=True) + "\n")
    return {"version": model_config["version"], "thresholds": model_config["thresholds"], "before": before,
            "total_seconds": round(time.perf_counter() - started, 1)}
