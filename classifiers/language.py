"""The language of a prompt, for policies: lingua-language-detector, offline.

The signal is named ``text``: ``text.language`` is an ISO 639-1 code in lower
case (``en``, ``ru``), or ``und`` (undetermined) when the prompt has no letters
to go by; ``text.language_confidence`` is lingua's confidence in that language
relative to the other configured ones (0..1; 0 for ``und``).

Padding must not hide a language: three English sentences before a Russian
threat make the whole text English. So the text is also cut into segments (at
sentence punctuation and line breaks, and where the script changes, as from
Latin words to Cyrillic ones), and each segment of at least
``min_segment_letters`` letters is detected on its own:
``text.other_language`` is the most confident segment language other than the
one most of the segments' letters are in (``und`` when none, or when the text is
one segment), with its confidence in ``text.other_language_confidence``. A
policy checks both pairs.

A prompt of a few words has few character n-grams for lingua to go by, and it calls
some short English ones another language at low confidence ("I'm a deaf person":
Italian 0.12). Where its top language is not English and its confidence is under
``english_by_words_below``, the words' frequencies decide (``classifiers.word_evidence``):
when they are more English than each of lingua's ``WORD_CANDIDATES`` likeliest languages
by ``ENGLISH_MARGIN`` Zipf units a word, and none is missing from English's list or much
more common in a candidate, the text is English (``text.english_by_words``). Text in
another language keeps lingua's guess ("morte aos gays", "guten Morgen"), and so does an
English frame around another language's slur ("those ebrei are vermin"), which only the
multilingual head knows.

Cost and accuracy decide the options (``benchmarks/language_detection.py``
measures them side by side): lingua's high-accuracy mode on a restricted set of
languages, with every model loaded at start-up so no request pays for a load.
Its low-accuracy mode is ten times lighter but calls short English prompts
confidently Italian or Danish, which a rule that reviews uncovered languages
cannot live with.
"""
from __future__ import annotations

import hashlib
import threading
import unicodedata
from collections import OrderedDict
from concurrent.futures import Future
from importlib.metadata import version
from pathlib import Path
from typing import Any, Sequence

import lingua
from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

import re

from classifiers.base import Classifier, Modality, ModelIdentity, Signal, sha256_of_files
from classifiers.homoglyphs import script_of, scripts_of
from classifiers.text_normalization import normalize_for_classification
from classifiers.word_evidence import FOREIGN_WORD, WordEvidence

UNDETERMINED = "und"
# Widely written languages: those the text model covers plus the uncovered ones a
# rule must be able to name. Every Latin or Cyrillic language costs about 20 MB.
DEFAULT_LANGUAGES = (
    "en", "de", "es", "fr", "it", "pt", "nl", "pl", "tr", "ru", "uk", "ar", "fa", "he", "hi", "zh", "ja",
    "ko", "el", "th", "vi", "id",
    # Outside the list a language can never be named, only mistaken: "Jag ska döda dig i natt" was
    # Dutch or German under 0.8, so neither the language queue nor a model that reads it decided.
    "sv", "da", "nb", "fi", "cs", "sk", "ro", "hu", "hr",
)


# Per word, in Zipf units (log10 of occurrences per billion words). Chosen on the training sets'
# texts lingua was unsure of (another language on top, under 0.5): with the withholding rule
# (word_evidence.FOREIGN_WORD), 0.5 names 471 of 1,081 English ones English and 2 of 1,550 in
# other languages (ToLD-Br); 0.25, 5 of ToLD-Br's.
ENGLISH_MARGIN = 0.5
# lingua's likeliest languages are the candidates the words are weighed against: five, since the
# text's own language is not always among the first three ("te mato": Italian, Portuguese, Romanian).
WORD_CANDIDATES = 5

_SENTENCE_END = re.compile(r"[.!?;:\n\u3002\uff01\uff1f\u061f]+")
_WORD = re.compile(r"\S+")


class TextSignal(Signal):
    """``unidentified_script``: the Unicode script (``BENGALI``, ``ETHIOPIC``) of the most letters
    that no configured language is written in, "" when none; ``unidentified_letters``: how many
    letters (with their combining marks) are in such scripts. lingua names no language for them
    (``und``), and no model reads them. ``english_by_words``: lingua's guess was another language
    under ``english_by_words_below``, and the words' frequencies named English (module doc);
    ``language`` is then ``en``, and ``language_confidence`` lingua's confidence in English."""

    language: str
    language_confidence: float
    other_language: str = UNDETERMINED
    other_language_confidence: float = 0.0
    unidentified_script: str = ""
    unidentified_letters: int = 0
    english_by_words: bool = False


class LanguageClassifier(Classifier[str, TextSignal]):
    name = "text"
    modality = Modality.TEXT
    # A fraction of a millisecond per prompt, item by item: nothing for a batch to share.
    batchable = False

    def __init__(self, languages: Sequence[str] = DEFAULT_LANGUAGES, low_accuracy: bool = False,
                 preload: bool = True, min_segment_letters: int = 20, max_segments: int = 64,
                 english_by_words_below: float = 0.5) -> None:
        """``languages``: ISO 639-1 codes lingua knows (at least two). Raises ValueError otherwise.
        ``min_segment_letters``: shorter segments are not judged on their own (too few letters
        for a reliable guess). ``max_segments``: each costs a lingua call (about 0.3 ms), so a
        longer text has its neighbouring segments of one script joined to stay within it.
        ``english_by_words_below``: under this confidence in another language, the words'
        frequencies may name English instead (module doc); 0 turns that off. From 0 to 1."""
        if min_segment_letters < 1 or max_segments < 1:
            raise ValueError("text: min_segment_letters and max_segments must be at least 1")
        if not 0.0 <= english_by_words_below <= 1.0:
            raise ValueError("text: english_by_words_below must be between 0 and 1")
        self.english_by_words_below = english_by_words_below
        self.min_segment_letters = min_segment_letters
        self.max_segments = max_segments
        self.languages = tuple(code.lower() for code in languages)
        chosen = [_language(code) for code in self.languages]
        if len(set(chosen)) < 2:
            raise ValueError("text: configure at least two distinct languages")
        # One detector per configuration in the process (the toxicity classifier asks this one too),
        # and one memo: whichever of the two reads a prompt first pays for it.
        self._shared = _shared_detector(tuple(chosen), low_accuracy, preload,
                                        (min_segment_letters, max_segments, english_by_words_below))
        # Letters of other scripts are unidentified: lingua cannot name their language, and no model
        # reads them. Fixed by the configuration, not asked of lingua per text: lingua names no
        # language for some odd letters of read scripts (ʘ, Ѫ), and one such prompt must not
        # switch a script off.
        self.scripts = frozenset(script for code in self.languages for script in scripts_of(code))
        self._detector = self._shared.detector
        self._words = WordEvidence(self.languages, preload) if english_by_words_below and "en" in self.languages else None
        setup = (f"{'low' if low_accuracy else 'high'}:{','.join(sorted(self.languages))}"
                 f":words<{english_by_words_below},{ENGLISH_MARGIN},{WORD_CANDIDATES},{FOREIGN_WORD},"
                 f"wordfreq-{version('wordfreq')}")
        self.identity = ModelIdentity(
            name="lingua-language-detector",
            version=f"{version('lingua-language-detector')}+{hashlib.sha256(setup.encode()).hexdigest()[:12]}",
            weights_sha256=sha256_of_files(*sorted(Path(lingua.__file__).parent.glob("*.so"))),
        )

    @classmethod
    def field_vocabulary(cls, options: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        """``language`` takes one of the configured codes or ``und``."""
        codes = options.get("languages") or DEFAULT_LANGUAGES
        closed = (*sorted(code.lower() for code in codes), UNDETERMINED)
        return {"language": closed, "other_language": closed}

    def prepare(self, item: str) -> str:
        # The normalised text: look-alike letters folded, so "уоu" counts as English; emoji not named.
        return normalize_for_classification(item, name_emoji=False)

    def classify_batch(self, inputs: Sequence[str]) -> list[TextSignal]:
        return self.classify_prepared([self.prepare(item) for item in inputs])

    def classify_prepared(self, prepared: Sequence[str]) -> list[TextSignal]:
        return [self.detect(text) for text in prepared]

    def detect(self, text: str) -> TextSignal:
        """The signal of an already normalised text, computed once per text for every
        classifier sharing this configuration (a bounded memo; a second caller waits for a
        computation in flight rather than repeating it)."""
        return self._shared.memo(text, self._signal)

    def _signal(self, text: str) -> TextSignal:
        values = self._values(text)
        language, confidence = _top(values)
        by_words = self._english_by_words(text, values, language, confidence)
        if by_words:
            language = "en"
            confidence = next((round(float(value.value), 4) for value in values
                               if value.language == Language.ENGLISH), 0.0)
        other, other_confidence = UNDETERMINED, 0.0
        segments = self._segments(text)
        if len(segments) > 1:
            found = [(*_top(self._values(segment)), sum(char.isalpha() for char in segment)) for segment in segments]
            letters: dict[str, int] = {}
            for code, _, count in found:
                letters[code] = letters.get(code, 0) + count
            # The main language is the one most letters are in, segment by segment: a few unique
            # letters (Turkish "ğ") can tip lingua's whole-text guess to the minority language.
            main = max(letters, key=letters.__getitem__)
            for code, code_confidence, _ in found:
                if code not in (main, UNDETERMINED) and code_confidence > other_confidence:
                    other, other_confidence = code, code_confidence
        script, letters = self._unidentified(text)
        return TextSignal(language=language, language_confidence=confidence,
                          other_language=other, other_language_confidence=other_confidence,
                          unidentified_script=script, unidentified_letters=letters, english_by_words=by_words)

    def _english_by_words(self, text: str, values: list, language: str, confidence: float) -> bool:
        """Whether an unsure guess of another language gives way to English by the words' frequencies."""
        if self._words is None or language in ("en", UNDETERMINED) or confidence >= self.english_by_words_below:
            return False
        margin = self._words.english_margin(text, word_candidates(values))
        return margin is not None and margin >= ENGLISH_MARGIN

    def _unidentified(self, text: str) -> tuple[str, int]:
        """The script of the most letters that lingua can name no configured language for, and
        how many letters (with their marks) are in such scripts ("", 0 when none)."""
        counts: dict[str, int] = {}
        for script, start, end in self.unidentified_runs(text):
            counts[script] = counts.get(script, 0) + end - start
        if not counts:
            return "", 0
        return max(counts, key=counts.__getitem__), sum(counts.values())

    def unidentified_runs(self, text: str) -> list[tuple[str, int, int]]:
        """(script, start, end) of each run of letters, with their marks, in a script that no
        configured language is written in (Bengali, Ethiopic, Runic...), in ``text``'s offsets."""
        if text.isascii():
            return []
        runs: list[tuple[str, int, int]] = []
        script, start = None, 0
        for index, char in enumerate(f"{text} "):
            kind = unicodedata.category(char)[0]
            # A mark belongs to its letter's run (an Indic vowel sign is a mark, but half the syllable).
            found = script_of(char) if kind == "L" else script if kind == "M" else None
            if found != script:
                if script is not None:
                    runs.append((script, start, index))
                script, start = found, index
        return [run for run in runs if run[0] not in self.scripts]

    def _values(self, text: str) -> list:
        """lingua's confidence in each configured language, highest first (empty for no text)."""
        return self._detector.compute_language_confidence_values(text) if text else []

    def _segments(self, text: str) -> list[str]:
        """Sentences, cut again where the script of the words changes; long enough ones only,
        neighbours of one script joined when there are more than ``max_segments``."""
        pieces: list[tuple[str | None, str]] = []
        for sentence in _SENTENCE_END.split(text):
            run: list[str] = []
            run_script = None
            for word in _WORD.findall(sentence):
                script = next((s for char in word if (s := script_of(char))), None)
                if script is not None and run_script is not None and script != run_script:
                    pieces.append((run_script, " ".join(run)))
                    run = []
                run.append(word)
                run_script = script or run_script
            pieces.append((run_script, " ".join(run)))
        pieces = [(script, piece) for script, piece in pieces
                  if sum(char.isalpha() for char in piece) >= self.min_segment_letters]
        per_group = -(-len(pieces) // self.max_segments)
        if per_group > 1:
            joined: list[tuple[str | None, list[str]]] = []
            for script, piece in pieces:
                if joined and joined[-1][0] == script and len(joined[-1][1]) < per_group:
                    joined[-1][1].append(piece)
                else:
                    joined.append((script, [piece]))
            return [". ".join(group) for _, group in joined]
        return [piece for _, piece in pieces]


class _SharedDetector:
    """A lingua detector and a memo of the last ``MEMO_SIZE`` texts' signals (futures, so two
    threads asking for one text compute it once)."""

    MEMO_SIZE = 2048

    def __init__(self, detector: Any) -> None:
        self.detector = detector
        self._lock = threading.Lock()
        self._memo: OrderedDict[str, Future] = OrderedDict()

    def memo(self, text: str, compute: Any) -> TextSignal:
        with self._lock:
            future = self._memo.get(text)
            owner = future is None
            if owner:
                future = self._memo[text] = Future()
                while len(self._memo) > self.MEMO_SIZE:
                    self._memo.popitem(last=False)
            else:
                self._memo.move_to_end(text)
        if owner:
            try:
                future.set_result(compute(text))
            except BaseException as exc:
                future.set_exception(exc)
                with self._lock:
                    self._memo.pop(text, None)
        return future.result()


_DETECTORS: dict[tuple, Any] = {}
_SHARED: dict[tuple, _SharedDetector] = {}
_SHARED_LOCK = threading.Lock()


def _shared_detector(languages: tuple, low_accuracy: bool, preload: bool, options: tuple) -> _SharedDetector:
    """One lingua detector per set of languages and mode; one memo per whole configuration (``options``
    change the signal, so two configurations never share a memo)."""
    lingua_key = (tuple(sorted(language.name for language in languages)), low_accuracy, preload)
    with _SHARED_LOCK:
        if lingua_key not in _DETECTORS:
            builder = LanguageDetectorBuilder.from_languages(*languages)
            if low_accuracy:
                builder = builder.with_low_accuracy_mode()
            if preload:
                builder = builder.with_preloaded_language_models()
            _DETECTORS[lingua_key] = builder.build()
        key = (*lingua_key, *options)
        if key not in _SHARED:
            _SHARED[key] = _SharedDetector(_DETECTORS[lingua_key])
        return _SHARED[key]


def word_candidates(values: list) -> list[str]:
    """The ISO 639-1 codes of lingua's ``WORD_CANDIDATES`` likeliest languages other than English
    (``values``: lingua's confidence values, highest first): what the words are weighed against."""
    return [code for value in values[:WORD_CANDIDATES] if (code := _code(value)) != "en"]


def _code(value: Any) -> str:
    return value.language.iso_code_639_1.name.lower()


def _top(values: list) -> tuple[str, float]:
    if not values or values[0].value <= 0.0:
        return UNDETERMINED, 0.0
    return _code(values[0]), round(float(values[0].value), 4)


def _language(code: str) -> Language:
    try:
        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
    except (AttributeError, ValueError):
        raise ValueError(f"text: unknown ISO 639-1 language code {code!r}") from None
