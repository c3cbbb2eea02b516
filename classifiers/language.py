"""The language of a prompt, for policies: lingua-language-detector, offline.

The signal is named ``text``: ``text.language`` is an ISO 639-1 code in lower
case (``en``, ``ru``), or ``und`` (undetermined) when the prompt has no letters
to go by; ``text.language_confidence`` is lingua's confidence in that language
relative to the other configured ones (0..1; 0 for ``und``).

Cost and accuracy decide the options (``benchmarks/language_detection.py``
measures them side by side): lingua's high-accuracy mode on a restricted set of
languages, with every model loaded at start-up so no request pays for a load.
Its low-accuracy mode is ten times lighter but calls short English prompts
confidently Italian or Danish, which a rule that reviews uncovered languages
cannot live with.
"""
from __future__ import annotations

import hashlib
from importlib.metadata import version
from pathlib import Path
from typing import Any, Sequence

import lingua
from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

from classifiers.base import Classifier, Modality, ModelIdentity, Signal, sha256_of_files
from classifiers.text_normalization import normalize_for_classification

UNDETERMINED = "und"
# Widely written languages: those the text model covers plus the uncovered ones a
# rule must be able to name. Every Latin or Cyrillic language costs about 20 MB.
DEFAULT_LANGUAGES = (
    "en", "de", "es", "fr", "it", "pt", "nl", "pl", "tr", "ru", "uk", "ar", "fa", "he", "hi", "zh", "ja",
    "ko", "el", "th", "vi", "id",
)


class TextSignal(Signal):
    language: str
    language_confidence: float


class LanguageClassifier(Classifier[str, TextSignal]):
    name = "text"
    modality = Modality.TEXT
    # A fraction of a millisecond per prompt, item by item: nothing for a batch to share.
    batchable = False

    def __init__(self, languages: Sequence[str] = DEFAULT_LANGUAGES, low_accuracy: bool = False,
                 preload: bool = True) -> None:
        """``languages``: ISO 639-1 codes lingua knows (at least two). Raises ValueError otherwise."""
        self.languages = tuple(code.lower() for code in languages)
        chosen = [_language(code) for code in self.languages]
        if len(set(chosen)) < 2:
            raise ValueError("text: configure at least two distinct languages")
        builder = LanguageDetectorBuilder.from_languages(*chosen)
        if low_accuracy:
            builder = builder.with_low_accuracy_mode()
        if preload:
            builder = builder.with_preloaded_language_models()
        self._detector = builder.build()
        setup = f"{'low' if low_accuracy else 'high'}:{','.join(sorted(self.languages))}"
        self.identity = ModelIdentity(
            name="lingua-language-detector",
            version=f"{version('lingua-language-detector')}+{hashlib.sha256(setup.encode()).hexdigest()[:12]}",
            weights_sha256=sha256_of_files(*sorted(Path(lingua.__file__).parent.glob("*.so"))),
        )

    @classmethod
    def field_vocabulary(cls, options: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        """``language`` takes one of the configured codes or ``und``."""
        codes = options.get("languages") or DEFAULT_LANGUAGES
        return {"language": (*sorted(code.lower() for code in codes), UNDETERMINED)}

    def prepare(self, item: str) -> str:
        # The normalised text: look-alike letters folded, so "уоu" counts as English.
        return normalize_for_classification(item)

    def classify_batch(self, inputs: Sequence[str]) -> list[TextSignal]:
        return self.classify_prepared([self.prepare(item) for item in inputs])

    def classify_prepared(self, prepared: Sequence[str]) -> list[TextSignal]:
        return [self._signal(text) for text in prepared]

    def _signal(self, text: str) -> TextSignal:
        values = self._detector.compute_language_confidence_values(text) if text else []
        if not values or values[0].value <= 0.0:
            return TextSignal(language=UNDETERMINED, language_confidence=0.0)
        top = values[0]
        return TextSignal(language=top.language.iso_code_639_1.name.lower(),
                          language_confidence=round(float(top.value), 4))


def _language(code: str) -> Language:
    try:
        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
    except (AttributeError, ValueError):
        raise ValueError(f"text: unknown ISO 639-1 language code {code!r}") from None
