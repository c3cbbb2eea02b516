"""The text safety model: MiniLM with fine-tuned top layers, pooling and a multi-label head.

Shapes: token ids (batch, tokens) -> ``TextSafetyModel`` -> logits (batch, len(categories)).
The lower encoder layers are the bundled all-MiniLM-L6-v2 weights, unchanged; the
top ``top_layers`` layers and the head come from ``model.safetensors`` (fp16) in
the model folder, with ``config.json`` naming the categories, the calibration
and the thresholds. Pooling is the attention-masked mean concatenated with the
masked max over tokens: the max keeps one harmful sentence visible however much
benign text surrounds it.

Long texts are read whole: ``token_windows`` cuts the full token sequence into
overlapping windows of ``WINDOW_TOKENS`` (stride ``WINDOW_STRIDE``); a text's
score per category is the maximum over its windows.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

MODEL_DIR = Path(__file__).with_name("models") / "toxicity-v2"
WINDOW_TOKENS = 64  # model input, [CLS] and [SEP] included; training read at most 48 tokens
WINDOW_STRIDE = 32  # windows hold 62 text tokens and share 30, so any sentence of up to 30 tokens is whole in one


class MeanMaxHead(nn.Module):
    """(batch, tokens, hidden) + mask -> logits: [masked mean ; masked max] -> MLP."""

    def __init__(self, hidden: int, inner: int, outputs: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.inner = nn.Linear(2 * hidden, inner)
        self.out = nn.Linear(inner, outputs)

    def forward(self, states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        mean = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        maximum = states.masked_fill(mask == 0, -1e4).max(dim=1).values
        pooled = torch.cat([mean, maximum], dim=-1)
        return self.out(self.dropout(nn.functional.gelu(self.inner(self.dropout(pooled)))))


def additive_mask(attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(batch, tokens) 1/0 -> (batch, 1, 1, tokens) 0/-inf-ish, as BERT's attention adds it."""
    return (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


class TextSafetyModel(nn.Module):
    """The bundled BertModel whose top layers are replaced by fine-tuned ones, plus the head."""

    def __init__(self, encoder: nn.Module, top_layers: int, categories: Sequence[str], inner: int = 256) -> None:
        super().__init__()
        self.encoder = encoder
        self.top_layers = top_layers
        self.categories = tuple(categories)
        self.head = MeanMaxHead(encoder.config.hidden_size, inner, len(self.categories))

    @property
    def split_layer(self) -> int:
        """Index of the first fine-tuned layer; layers below it are frozen."""
        return len(self.encoder.encoder.layer) - self.top_layers

    def lower_states(self, input_ids, attention_mask, token_type_ids) -> torch.Tensor:
        """Hidden states after the frozen layers (what training caches)."""
        states = self.encoder.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
        mask = additive_mask(attention_mask, states.dtype)
        for layer in self.encoder.encoder.layer[: self.split_layer]:
            states = _layer_output(layer(states, attention_mask=mask))
        return states

    def upper_logits(self, states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = additive_mask(attention_mask, states.dtype)
        for layer in self.encoder.encoder.layer[self.split_layer :]:
            states = _layer_output(layer(states, attention_mask=mask))
        return self.head(states, attention_mask)

    def forward(self, input_ids, attention_mask, token_type_ids) -> torch.Tensor:
        return self.upper_logits(self.lower_states(input_ids, attention_mask, token_type_ids), attention_mask)

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """The weights this project ships: the top layers and the head."""
        state = {}
        for offset, layer in enumerate(self.encoder.encoder.layer[self.split_layer :]):
            for name, tensor in layer.state_dict().items():
                state[f"layers.{self.split_layer + offset}.{name}"] = tensor
        for name, tensor in self.head.state_dict().items():
            state[f"head.{name}"] = tensor
        return state

    def load_trainable_state(self, state: dict[str, torch.Tensor]) -> None:
        layers: dict[int, dict[str, torch.Tensor]] = {}
        head = {}
        for key, tensor in state.items():
            kind, _, rest = key.partition(".")
            if kind == "layers":
                index, _, name = rest.partition(".")
                layers.setdefault(int(index), {})[name] = tensor.float()
            elif kind == "head":
                head[rest] = tensor.float()
        for index, layer_state in layers.items():
            self.encoder.encoder.layer[index].load_state_dict(layer_state)
        self.head.load_state_dict(head)


def _layer_output(output: Any) -> torch.Tensor:
    return output[0] if isinstance(output, tuple) else output


def bundled_encoder(eager: bool = True) -> tuple[nn.Module, Any]:
    """The bundled all-MiniLM-L6-v2 BertModel and its tokenizer, offline."""
    from transformers import AutoModel, AutoTokenizer

    from classifiers.toxicity import bundled_encoder_path

    path = str(bundled_encoder_path())
    options = {"attn_implementation": "eager"} if eager else {}
    encoder = AutoModel.from_pretrained(path, local_files_only=True, **options)
    return encoder.eval(), AutoTokenizer.from_pretrained(path, local_files_only=True)


def read_config(model_dir: Path = MODEL_DIR) -> dict[str, Any]:
    path = Path(model_dir) / "config.json"
    if not path.is_file() or not (Path(model_dir) / "model.safetensors").is_file():
        raise FileNotFoundError(f"text safety model missing in {model_dir}: rebuild it with `moderation train text`")
    return json.loads(path.read_text())


def load_model(model_dir: Path = MODEL_DIR) -> tuple[TextSafetyModel, Any, dict[str, Any]]:
    from safetensors.torch import load_file

    config = read_config(model_dir)
    encoder, tokenizer = bundled_encoder()
    model = TextSafetyModel(encoder, config["top_layers"], config["categories"], config["head_inner"])
    model.load_trainable_state(load_file(str(Path(model_dir) / "model.safetensors")))
    return model.eval(), tokenizer, config


def weight_files(model_dir: Path = MODEL_DIR) -> list[Path]:
    from classifiers.toxicity import bundled_encoder_path

    return [bundled_encoder_path() / "model.safetensors", Path(model_dir) / "model.safetensors", Path(model_dir) / "config.json"]


# --------------------------------------------------------------------------- windows


SENTENCE_END_TOKENS = [".", "!", "?", ";"]  # WordPiece tokens of the bundled tokenizer
CLAUSE_END_TOKENS = [",", ";", "|", ":"]  # what separates a text-to-image prompt's clauses and tags
# Content tokens a text may have and still get overlapping, sentence and clause windows: about 8,000
# characters of English. Beyond it (text that is mostly symbols, emoji or unknown characters, one
# token each), windows do not overlap, so one prompt's cost stays bounded (about 130 windows).
TOKEN_BUDGET = 2560
# Sentence and clause windows a text may have before neighbours are packed together (at most
# PACKED_TOKENS per window): a list of hundreds of tiny distinct sentences made ~700 windows.
MAX_EXTRA_WINDOWS = 128
PACKED_TOKENS = 30


def token_windows(ids: Sequence[int], cls_id: int, sep_id: int,
                  window: int = WINDOW_TOKENS, stride: int = WINDOW_STRIDE) -> list[list[int]]:
    """Content token ids (no specials) -> model inputs of at most ``window`` tokens covering all of them."""
    body = window - 2
    if len(ids) <= body:
        return [[cls_id, *ids, sep_id]]
    starts = list(range(0, len(ids) - body, stride)) + [len(ids) - body]
    return [[cls_id, *ids[start : start + body], sep_id] for start in sorted(set(starts))]


def sentence_windows(ids: Sequence[int], ends: set[int], cls_id: int, sep_id: int,
                     window: int = WINDOW_TOKENS, min_tokens: int = 3) -> list[list[int]]:
    """Each sentence of a text longer than one window, as a window of its own.

    A sliding window always holds some of the text around a sentence, and benign padding
    around a threat lowers its score (measured: harassment/threatening 0.9 alone, 0.44 with
    ~100 tokens of scene after it). A sentence that fits one window is also read alone; longer
    ones are covered by ``token_windows``. ``ends`` are the token ids that end a sentence.
    A sentence repeated (padding often is) is read once.
    """
    body = window - 2
    if len(ids) <= body:
        return []
    out, seen, start = [], set(), 0
    for position, token in enumerate(ids):
        if token in ends or position == len(ids) - 1:
            sentence = tuple(ids[start : position + 1])
            if min_tokens <= len(sentence) <= body and sentence not in seen:
                seen.add(sentence)
                out.append([cls_id, *sentence, sep_id])
            start = position + 1
    return out


def clause_windows(ids: Sequence[int], separators: set[int], cls_id: int, sep_id: int,
                   window: int = WINDOW_TOKENS, min_tokens: int = 3, min_clauses: int = 4) -> list[list[int]]:
    """Each clause of a tag list (a text-to-image prompt's usual form), alone.

    Quality and style tags around one clause dilute it inside any window that holds them
    (measured: a threat at harassment/threatening 0.90 alone fell under 0.2 among ~250 characters
    of tags), and a comma list is one sentence to ``sentence_windows``. Only a tag list counts:
    at least ``min_clauses`` clauses, half of them shorter than ``min_tokens`` (tags). Clauses of
    ordinary prose read alone lose their context (measured on validation: precision of hate at
    0.60 fell from 0.91 to 0.82, of harassment at 0.55 from 0.96 to 0.80). Tags are not read alone.
    """
    clauses, start = [], 0
    for position, token in enumerate(ids):
        if token in separators or position == len(ids) - 1:
            end = position if token in separators else position + 1
            clauses.append(tuple(ids[start:end]))
            start = position + 1
    tags = sum(len(clause) < min_tokens for clause in clauses)
    if len(clauses) < min_clauses or 2 * tags < len(clauses):
        return []
    return [[cls_id, *clause, sep_id] for clause in dict.fromkeys(clauses) if min_tokens <= len(clause) <= window - 2]


def packed_windows(windows: Sequence[Sequence[int]], cls_id: int, sep_id: int,
                   limit: int = PACKED_TOKENS) -> list[list[int]]:
    """Neighbouring windows' bodies joined, in order, into windows of at most ``limit`` tokens (a body
    longer than that stays alone): every sentence is still read in a short window."""
    out: list[list[int]] = []
    current: list[int] = []
    for window in windows:
        body = list(window[1:-1])
        if current and len(current) + len(body) > limit:
            out.append([cls_id, *current, sep_id])
            current = []
        current += body
    if current:
        out.append([cls_id, *current, sep_id])
    return out


def windowed_inputs(tokenizer: Any, texts: Sequence[str]) -> tuple[list[list[int]], list[int]]:
    """Every window of every text, and for each window the index of its text.

    Windows: ``token_windows`` over the whole text, plus each sentence alone when the text is
    longer than one window (``sentence_windows``) and each clause of a tag list alone
    (``clause_windows``); a text's score is the max over them. A window repeated within a text
    is read once. Past ``MAX_EXTRA_WINDOWS`` sentences and clauses, neighbours share a short window
    (``packed_windows``); past ``TOKEN_BUDGET`` content tokens, only non-overlapping token windows.
    """
    content = tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
    ends = set(tokenizer.convert_tokens_to_ids(SENTENCE_END_TOKENS))
    separators = set(tokenizer.convert_tokens_to_ids(CLAUSE_END_TOKENS)) | ends
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    windows, owners = [], []
    for index, ids in enumerate(content):
        if len(ids) > TOKEN_BUDGET:
            found = token_windows(ids, cls_id, sep_id, stride=WINDOW_TOKENS - 2)
        else:
            extra = sentence_windows(ids, ends, cls_id, sep_id) + clause_windows(ids, separators, cls_id, sep_id)
            if len(extra) > MAX_EXTRA_WINDOWS:
                extra = packed_windows(extra, cls_id, sep_id)
            found = token_windows(ids, cls_id, sep_id) + extra
        for window in dict.fromkeys(map(tuple, found)):
            windows.append(list(window))
            owners.append(index)
    return windows, owners


def max_per_text(window_scores: np.ndarray, owners: Sequence[int], count: int) -> np.ndarray:
    """(windows, categories) -> (texts, categories): the highest window per text."""
    result = np.full((count, window_scores.shape[1]), -np.inf, dtype=np.float32)
    np.maximum.at(result, np.asarray(owners, dtype=np.int64), window_scores)
    return result


def padded_batch(windows: Sequence[Sequence[int]], pad_id: int = 0) -> dict[str, np.ndarray]:
    width = max(len(window) for window in windows)
    input_ids = np.full((len(windows), width), pad_id, dtype=np.int64)
    attention = np.zeros((len(windows), width), dtype=np.int64)
    for row, window in enumerate(windows):
        input_ids[row, : len(window)] = window
        attention[row, : len(window)] = 1
    return {"input_ids": input_ids, "attention_mask": attention, "token_type_ids": np.zeros_like(input_ids)}


# --------------------------------------------------------------------------- calibration


def calibrate(raw: np.ndarray, calibration: dict[str, Any]) -> np.ndarray:
    """Raw sigmoid probabilities (n,) -> calibrated, per ``calibration`` from config.json.

    ``{"method": "isotonic", "x": [...], "y": [...]}``: piecewise-linear over the fitted steps;
    ``{"method": "platt", "a": a, "b": b}``: sigmoid(a * logit + b) (temperature scaling with a bias);
    ``{"method": "none"}``: unchanged (too few validation positives to fit anything honest).
    """
    method = calibration.get("method", "none")
    if method == "isotonic":
        return np.interp(raw, calibration["x"], calibration["y"]).astype(np.float32)
    if method == "platt":
        clipped = np.clip(raw.astype(np.float64), 1e-7, 1 - 1e-7)
        logits = np.log(clipped / (1 - clipped))
        return (1 / (1 + np.exp(-(calibration["a"] * logits + calibration["b"])))).astype(np.float32)
    return raw.astype(np.float32)


def calibrate_all(raw: np.ndarray, categories: Sequence[str], config: dict[str, Any]) -> np.ndarray:
    calibrations = config.get("calibration", {})
    out = np.empty_like(raw, dtype=np.float32)
    for column, category in enumerate(categories):
        out[:, column] = calibrate(raw[:, column], calibrations.get(category, {}))
    return out
