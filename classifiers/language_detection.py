"""A cheap "is this English?" check for the classifiers whose models are English-only.

lingua-language-detector, restricted to English and the six other languages
our users write most (German, French, Spanish, Italian, Portuguese, Dutch),
models preloaded once per process. Prompts are short and full of names, and
names sway a character-n-gram detector ("Nikolaj N Møller will be talking"),
so the detector reads the lowercase words first (function words carry the
language) and the whole text only when there are fewer than two of those.
A text with fewer than two words is taken as English: too little to tell.
"""
from __future__ import annotations

import re
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

LANGUAGES = (Language.ENGLISH, Language.GERMAN, Language.FRENCH, Language.SPANISH, Language.ITALIAN,
             Language.PORTUGUESE, Language.DUTCH)
# Below this confidence in English, with another language on top, a text is not English.
ENGLISH_MIN_CONFIDENCE = 0.15
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


@lru_cache(maxsize=1)
def detector() -> LanguageDetector:
    """The shared detector; its models load on first call (about 0.1 s, a few MB)."""
    return LanguageDetectorBuilder.from_languages(*LANGUAGES).with_preloaded_language_models().build()


def is_english(text: str) -> bool:
    """False only when the text is confidently in one of the other ``LANGUAGES`` (see module doc)."""
    words = _WORD.findall(text)
    lowercase = [word for word in words if word[0].islower()]
    view = " ".join(lowercase) if len(lowercase) >= 2 else text
    if len(_WORD.findall(view)) < 2:
        return True
    confidences = {c.language: c.value for c in detector().compute_language_confidence_values(view)}
    top = max(confidences, key=confidences.get)
    return top is Language.ENGLISH or confidences.get(Language.ENGLISH, 0.0) >= ENGLISH_MIN_CONFIDENCE
