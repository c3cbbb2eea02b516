"""Signs that a prompt is about a minor: stated ages under 18, school grades, words for children.

A transparent signal: a lexicon of patterns per language
(``classifiers/lexicons/minor_indicators.yaml``), matched on the normalised
prompt (NFKC, look-alike letters folded, l33t decoded; see text_normalization),
every language's patterns on every prompt, since language detection on a short
prompt is unreliable. Each indicator carries its kind, the normalised words that
matched, the lexicon's language, the span in the ORIGINAL prompt
(``prompt[start:end]``) and, for a stated age, the age.

An indicator is evidence, not a decision: "a kid's birthday party" has one. The
default policy blocks where an indicator meets a sexual signal.

``sexualising_terms`` are words that sexualise a scene without being explicit
("lingerie", "seductive"; lexicon section ``sexualising``), found only NEAR an
indicator: in the same sentence, at most ``near_words`` words away. Phrases
where the word describes no person (lexicon ``not_about_a_person``: "a naked
mole-rat", "a sexy sports car", "a provocative headline") are not counted.

``grooming_terms`` are words of the stages of online grooming (NCMEC's "online
enticement"): the verb asked for (``groom_request``: "how do I groom", "help me
groom", "I want to groom"), the verb in any other use (``groom``: news, a
parent's question), secrecy ("without her parents knowing"), isolation ("meet
me alone"), trust ("gain their trust") and requests for pictures ("send me
selfies"). Lexicon section ``grooming``, by kind (GROOMING_KINDS); found only
near an indicator, as sexualising words are, and never where the term's last
word is part of a phrase of ``not_grooming`` ("groom my kid's hair", "my groom",
"alone with my toddler", "grooming tips").
"""
from __future__ import annotations

import bisect
import re
from pathlib import Path
from typing import Any, Literal, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from classifiers.base import Classifier, Modality, ModelIdentity, Signal, sha256_of_files
from classifiers.text_normalization import normalize_with_offsets

DEFAULT_LEXICON = Path(__file__).with_name("lexicons") / "minor_indicators.yaml"
KINDS = ("stated_age", "school_grade", "child_term")
GROOMING_KINDS = ("groom_request", "groom", "secrecy", "isolation", "trust", "image_request")


class MinorIndicator(Signal):
    kind: str  # one of KINDS
    term: str  # the normalised words that matched
    language: str  # ISO 639-1 code of the lexicon entry
    start: int  # span in the original prompt, in code points
    end: int
    age: int | None = None  # for stated_age


class LexiconTerm(Signal):
    term: str  # the normalised words that matched
    language: str
    start: int  # span in the original prompt, in code points
    end: int


class SexualisingTerm(LexiconTerm):
    pass


class GroomingTerm(LexiconTerm):
    kind: str  # one of GROOMING_KINDS


class MinorIndicatorsSignal(Signal):
    indicators: list[MinorIndicator]
    sexualising_terms: list[SexualisingTerm] = Field(default_factory=list)  # near an indicator only
    grooming_terms: list[GroomingTerm] = Field(default_factory=list)  # near an indicator only


class _Lexicon(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_age: int = Field(ge=1, le=17)
    number_words: dict[str, dict[str, int]]
    stated_age: dict[str, list[str]]
    age_words: dict[str, dict[str, int]] = Field(default_factory=dict)
    school_grade: dict[str, list[str]]
    child_term: dict[str, list[str]]
    near_words: int = Field(default=20, ge=1, le=50)
    sexualising: dict[str, list[str]] = Field(default_factory=dict)
    not_about_a_person: dict[str, list[str]] = Field(default_factory=dict)
    grooming: dict[str, dict[Literal[GROOMING_KINDS], list[str]]] = Field(default_factory=dict)  # type: ignore[valid-type]
    not_grooming: dict[str, list[str]] = Field(default_factory=dict)


class LexiconError(ValueError):
    pass


class MinorIndicatorsClassifier(Classifier[str, MinorIndicatorsSignal]):
    name = "minor_indicators"
    modality = Modality.TEXT
    batchable = False  # regexes, item by item

    def __init__(self, lexicon: str | Path | None = None) -> None:
        """Loads and compiles the lexicon; raises LexiconError naming the entry at fault."""
        path = Path(lexicon) if lexicon else DEFAULT_LEXICON
        self._spec = _load(path)
        self._patterns = _compile(self._spec)
        self._sexualising = _word_pattern(self._spec.sexualising, "sexualising")
        self._not_about_a_person = _word_pattern(self._spec.not_about_a_person, "not_about_a_person")
        self._grooming = _word_pattern({f"{language}_{kind}": patterns for language, kinds in self._spec.grooming.items()
                                        for kind, patterns in kinds.items()}, "grooming")
        self._not_grooming = _word_pattern(self._spec.not_grooming, "not_grooming")
        self.languages = tuple(sorted({entry[0] for _, _, entries in self._patterns for entry in entries.values()}))
        self.identity = ModelIdentity(name="minor-indicators-lexicon", version="1",
                                      weights_sha256=sha256_of_files(path))

    @classmethod
    def field_vocabulary(cls, options: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        """``indicators.kind`` is one of KINDS and ``grooming_terms.kind`` one of GROOMING_KINDS; each
        ``language`` one of the lexicon's languages."""
        spec = _load(Path(options["lexicon"]) if options.get("lexicon") else DEFAULT_LEXICON)
        languages = sorted({*spec.stated_age, *spec.age_words, *spec.school_grade, *spec.child_term})
        return {"indicators.kind": KINDS, "indicators.language": tuple(languages),
                "sexualising_terms.language": tuple(sorted(spec.sexualising)),
                "grooming_terms.kind": GROOMING_KINDS, "grooming_terms.language": tuple(sorted(spec.grooming))}

    def classify_batch(self, inputs: Sequence[str]) -> list[MinorIndicatorsSignal]:
        return [self.signal(text) for text in inputs]

    def signal(self, prompt: str) -> MinorIndicatorsSignal:
        normalised = normalize_with_offsets(prompt)
        located = self._find(*normalised)
        near = _Near(normalised[0], [(low, high) for _, low, high in located], self._spec.near_words)
        grooming = self._near_terms(normalised, near, self._grooming, self._not_grooming)
        return MinorIndicatorsSignal(
            indicators=[indicator for indicator, _, _ in located],
            sexualising_terms=[SexualisingTerm(term=term, language=label, start=start, end=end) for term, label, start, end
                               in self._near_terms(normalised, near, self._sexualising, self._not_about_a_person)],
            grooming_terms=[GroomingTerm(term=term, language=label.split("_", 1)[0], kind=label.split("_", 1)[1],
                                         start=start, end=end) for term, label, start, end in grooming])

    def find(self, prompt: str) -> list[MinorIndicator]:
        """Every indicator in ``prompt``, in order of position; nested ones of one kind dropped."""
        return [indicator for indicator, _, _ in self._find(*normalize_with_offsets(prompt))]

    def _find(self, text: str, starts: list[int], ends: list[int]) -> list[tuple[MinorIndicator, int, int]]:
        """Indicators with their span in the normalised text."""
        found: list[tuple[MinorIndicator, int, int]] = []
        for kind, pattern, entries in self._patterns:
            for match in pattern.finditer(text):
                language, numbers, index = entries[match.lastgroup]
                age = _age(match, index, numbers, self._spec.max_age) if kind == "stated_age" else None
                if kind == "stated_age" and age is None:
                    continue
                begin, finish = match.span()
                if begin == finish:
                    continue
                found.append((MinorIndicator(kind=kind, term=match.group(0), language=language,
                                             start=starts[begin], end=ends[finish - 1], age=age), begin, finish))
        found.sort(key=lambda item: (item[0].start, -item[0].end))
        kept: list[tuple[MinorIndicator, int, int]] = []
        reach: dict[str, int] = {}  # per kind, the furthest end kept so far: sorted by start, a match ending
        for item in found:          # within it is nested in a kept one
            indicator = item[0]
            if indicator.end > reach.get(indicator.kind, -1):
                kept.append(item)
                reach[indicator.kind] = indicator.end
        return kept

    @staticmethod
    def _near_terms(normalised: tuple[str, list[int], list[int]], near: _Near, pattern: _Labelled | None,
                    excluding: _Labelled | None) -> list[tuple[str, str, int, int]]:
        """Matches of ``pattern`` near an indicator (``near``), whose last character is not inside a
        match of ``excluding`` (the phrase the term ends in is an ordinary one): (normalised words,
        label, start and end in the original prompt)."""
        if not near or pattern is None:
            return []
        text, starts, ends = normalised
        excluded = _Spans([match.span() for match in excluding[0].finditer(text)] if excluding else [])
        found = []
        for match in pattern[0].finditer(text):
            begin, finish = match.span()
            if begin == finish or excluded.contain(finish - 1, finish):
                continue
            if near(begin, finish):
                found.append((match.group(0), pattern[1][match.lastgroup], starts[begin], ends[finish - 1]))
        return found


class _Near:
    """Whether a span of the normalised text shares a sentence with an indicator, at most ``limit``
    words away; built once per prompt, false for every span when there is no indicator."""

    def __init__(self, text: str, indicators: Sequence[tuple[int, int]], limit: int) -> None:
        self._indicators = _Spans(indicators)
        self._gaps = _Gaps(text) if indicators else None
        self._limit = limit

    def __bool__(self) -> bool:
        return self._gaps is not None

    def __call__(self, begin: int, finish: int) -> bool:
        return self._gaps is not None and any(self._gaps.near(begin, finish, low, high, self._limit)
                                              for low, high in self._indicators.closest(begin, finish))


class _Gaps:
    """What lies between two spans of one text, in O(log n): the words (runs of non-space, as
    ``str.split`` counts them in the slice) and whether a sentence ends there."""

    def __init__(self, text: str) -> None:
        self._text = text
        runs = [match.span() for match in re.finditer(r"\S+", text)]
        self._run_starts = [start for start, _ in runs]
        self._run_ends = [end for _, end in runs]
        self._stops = [match.start() for match in _SENTENCE_STOP.finditer(text)]

    def near(self, begin: int, finish: int, low: int, high: int, limit: int) -> bool:
        """Whether [begin, finish) and [low, high) share a sentence with at most ``limit`` words between."""
        gap = (finish, low) if finish <= low else (high, begin) if high <= begin else None
        if gap is None:
            return True
        left, right = gap
        words = bisect.bisect_left(self._run_starts, right) - bisect.bisect_right(self._run_ends, left)
        stop = bisect.bisect_left(self._stops, left)
        ends_sentence = (stop < len(self._stops) and self._stops[stop] < right) or (
            right > left and self._text[right - 1] in ".!?")
        return not ends_sentence and words <= limit


class _Spans:
    """Spans of the normalised text, for the two questions asked of every match, in O(log n) each
    rather than one test per span (a prompt of 8,000 characters can hold a thousand indicators)."""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        self._spans = sorted(spans)
        self._lows = [low for low, _ in self._spans]
        self._widest: list[int] = []  # per prefix of the sorted spans, the index of the one ending last
        for index, (_, high) in enumerate(self._spans):
            best = self._widest[-1] if self._widest else index
            self._widest.append(index if high > self._spans[best][1] else best)

    def contain(self, begin: int, finish: int) -> bool:
        """Whether some span holds [begin, finish)."""
        index = bisect.bisect_right(self._lows, begin)
        return index > 0 and self._spans[self._widest[index - 1]][1] >= finish

    def closest(self, begin: int, finish: int) -> list[tuple[int, int]]:
        """The spans nearest [begin, finish) on each side (or overlapping it): the text between
        it and any other span holds at least as many words and sentence ends."""
        index = bisect.bisect_left(self._lows, finish)
        found = [self._spans[self._widest[index - 1]]] if index > 0 else []
        return found + [self._spans[index]] if index < len(self._spans) else found


def _age(match: re.Match[str], index: int, numbers: dict[str, int], max_age: int) -> int | None:
    groups = match.groupdict()
    if groups.get(f"w{index}") is not None:
        word = groups[f"w{index}"].casefold()
        stem = next((stem for stem in numbers if word.startswith(stem)), None)
        age = numbers.get(stem) if stem else None
    else:
        raw = groups.get(f"n{index}") or groups.get("n") or ""
        digits = raw.replace(" ", "")  # "1 2 years old" is 12
        age = int(digits) if digits.isdigit() else numbers.get(raw.casefold())
    return age if age is not None and 1 <= age <= max_age else None


def _load(path: Path) -> _Lexicon:
    try:
        return _Lexicon.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise LexiconError(f"minor_indicators lexicon {path}: {exc}") from exc


def _compile(spec: _Lexicon) -> list[tuple[str, re.Pattern[str], dict[str, tuple[str, dict[str, int], int]]]]:
    """Per kind, one pattern with a named branch per lexicon entry, and per branch name its
    (language, number words or age-word stems, index). One pass per kind, and the age patterns
    that start with the number share one number group (every language's words), so a prompt of
    8,000 characters costs three passes and one number test per word, not one per entry."""
    branches: dict[str, list[str]] = {kind: [] for kind in KINDS}
    after_number: list[str] = []  # stated_age patterns that begin with {n}, without it
    entries: dict[str, dict[str, tuple[str, dict[str, int], int]]] = {kind: {} for kind in KINDS}

    def add(kind: str, language: str, source: str, numbers: dict[str, int], into: list[str]) -> None:
        index = sum(len(found) for found in entries.values())
        source = source.replace("(?P<n>", f"(?P<n{index}>").replace("(?P<w>", f"(?P<w{index}>")
        try:
            re.compile(source, re.IGNORECASE)
        except re.error as exc:
            raise LexiconError(f"minor_indicators lexicon: {kind}.{language}: {source!r}: {exc}") from None
        into.append(f"(?P<e{index}>{source})")
        entries[kind][f"e{index}"] = (language, numbers, index)

    every_number: dict[str, int] = {}
    for language, words in spec.number_words.items():
        for word, value in words.items():
            if every_number.setdefault(word.casefold(), value) != value:
                raise LexiconError(f"minor_indicators lexicon: number word {word!r} has two values")
    for language, patterns in spec.stated_age.items():
        words = {word.casefold(): value for word, value in spec.number_words.get(language, {}).items()}
        for source in patterns:
            if "{n}" not in source:
                raise LexiconError(f"minor_indicators lexicon: stated_age.{language}: {source!r} has no {{n}}")
            if source.startswith("{n}") and "{n}" not in source[3:]:
                add("stated_age", language, source[3:], every_number, after_number)
            else:
                number = rf"(?P<n>{_number_pattern(words)})"
                add("stated_age", language, source.replace("{n}", number, 1).replace("{n}", r"\d{1,2}"), words,
                    branches["stated_age"])
    if after_number:
        # A number written with spaces between its two digits, as text-to-image prompts often carry
        # them, is read whole ("a young man of 2 5 years old" is 25, not 5; "1 2 year olds" is 12),
        # and never from its last digit.
        branches["stated_age"].insert(
            0, rf"(?<!\d )(?P<n>\d \d(?!\d)|{_number_pattern(every_number)})(?:{'|'.join(after_number)})")
    for language, stems in spec.age_words.items():
        lowered = {stem.casefold(): age for stem, age in stems.items()}
        alternatives = "|".join(re.escape(stem) for stem in sorted(lowered, key=len, reverse=True))
        add("stated_age", language, rf"(?P<w>(?:{alternatives})\w*)", lowered, branches["stated_age"])
    for kind in ("school_grade", "child_term"):
        for language, patterns in getattr(spec, kind).items():
            for source in patterns:
                add(kind, language, source, {}, branches[kind])
    # Whole words only: no word character on either side of the match.
    return [(kind, re.compile(rf"(?<!\w)(?:{'|'.join(branches[kind])})(?!\w)", re.IGNORECASE), entries[kind])
            for kind in KINDS if branches[kind]]


# A sentence ends at . ! ? before a space (or at the end of the gap), or at a newline or semicolon.
_SENTENCE_STOP = re.compile(r"[.!?](?=\s)|[\n;]")


_Labelled = tuple[re.Pattern[str], dict[str, str]]  # a pattern, and the label of each named branch


def _word_pattern(section: dict[str, list[str]], name: str) -> _Labelled | None:
    """One whole-word, case-insensitive pattern for a lexicon section, with a named branch per key
    (a language, or "language_kind"), and the key of each branch's name."""
    branches, labels = [], {}
    for index, (label, patterns) in enumerate(sorted(section.items())):
        for source in patterns:
            try:
                re.compile(source, re.IGNORECASE)
            except re.error as exc:
                raise LexiconError(f"minor_indicators lexicon: {name}.{label.replace('_', '.', 1)}: {source!r}: {exc}") from None
        branches.append(f"(?P<l{index}>{'|'.join(f'(?:{source})' for source in patterns)})")
        labels[f"l{index}"] = label
    if not branches:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(branches)})(?!\w)", re.IGNORECASE), labels


def _number_pattern(words: dict[str, int]) -> str:
    """Digits, or one of ``words`` (longest first, so "seventeen" is not read as "seven")."""
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return rf"\d{{1,2}}{'|' + alternatives if alternatives else ''}"
