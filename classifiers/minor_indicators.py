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
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from classifiers.base import Classifier, Modality, ModelIdentity, Signal, sha256_of_files
from classifiers.text_normalization import normalize_with_offsets

DEFAULT_LEXICON = Path(__file__).with_name("lexicons") / "minor_indicators.yaml"
KINDS = ("stated_age", "school_grade", "child_term")


class MinorIndicator(Signal):
    kind: str  # one of KINDS
    term: str  # the normalised words that matched
    language: str  # ISO 639-1 code of the lexicon entry
    start: int  # span in the original prompt, in code points
    end: int
    age: int | None = None  # for stated_age


class MinorIndicatorsSignal(Signal):
    indicators: list[MinorIndicator]


class _Lexicon(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_age: int = Field(ge=1, le=17)
    number_words: dict[str, dict[str, int]]
    stated_age: dict[str, list[str]]
    age_words: dict[str, dict[str, int]] = Field(default_factory=dict)
    school_grade: dict[str, list[str]]
    child_term: dict[str, list[str]]


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
        self.languages = tuple(sorted({entry[0] for _, _, entries in self._patterns for entry in entries.values()}))
        self.identity = ModelIdentity(name="minor-indicators-lexicon", version="1",
                                      weights_sha256=sha256_of_files(path))

    @classmethod
    def field_vocabulary(cls, options: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        """``indicators.kind`` is one of KINDS; ``indicators.language`` one of the lexicon's languages."""
        spec = _load(Path(options["lexicon"]) if options.get("lexicon") else DEFAULT_LEXICON)
        languages = sorted({*spec.stated_age, *spec.age_words, *spec.school_grade, *spec.child_term})
        return {"indicators.kind": KINDS, "indicators.language": tuple(languages)}

    def classify_batch(self, inputs: Sequence[str]) -> list[MinorIndicatorsSignal]:
        return [MinorIndicatorsSignal(indicators=self.find(text)) for text in inputs]

    def find(self, prompt: str) -> list[MinorIndicator]:
        """Every indicator in ``prompt``, in order of position; nested ones of one kind dropped."""
        text, starts, ends = normalize_with_offsets(prompt)
        found: list[MinorIndicator] = []
        for kind, pattern, entries in self._patterns:
            for match in pattern.finditer(text):
                language, numbers, index = entries[match.lastgroup]
                age = _age(match, index, numbers, self._spec.max_age) if kind == "stated_age" else None
                if kind == "stated_age" and age is None:
                    continue
                begin, finish = match.span()
                if begin == finish:
                    continue
                found.append(MinorIndicator(kind=kind, term=match.group(0), language=language,
                                            start=starts[begin], end=ends[finish - 1], age=age))
        found.sort(key=lambda indicator: (indicator.start, -indicator.end))
        kept: list[MinorIndicator] = []
        for indicator in found:
            if not any(k.kind == indicator.kind and k.start <= indicator.start and indicator.end <= k.end
                       for k in kept):
                kept.append(indicator)
        return kept


def _age(match: re.Match[str], index: int, numbers: dict[str, int], max_age: int) -> int | None:
    groups = match.groupdict()
    if groups.get(f"w{index}") is not None:
        word = groups[f"w{index}"].casefold()
        stem = next((stem for stem in numbers if word.startswith(stem)), None)
        age = numbers.get(stem) if stem else None
    else:
        raw = groups.get(f"n{index}") or groups.get("n") or ""
        age = int(raw) if raw.isdigit() else numbers.get(raw.casefold())
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
        branches["stated_age"].insert(0, rf"(?P<n>{_number_pattern(every_number)})(?:{'|'.join(after_number)})")
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


def _number_pattern(words: dict[str, int]) -> str:
    """Digits, or one of ``words`` (longest first, so "seventeen" is not read as "seven")."""
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return rf"\d{{1,2}}{'|' + alternatives if alternatives else ''}"
