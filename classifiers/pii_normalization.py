"""Text as the PII recognizers see it, with a map back to the original characters.

People hide personal data from scrubbers with characters a reader does not
notice: a zero-width space inside an e-mail address, a fullwidth ``＠``, card
digits grouped by no-break spaces. ``normalize_for_pii`` undoes those (NFKC per
character, invisible and bidi controls dropped, every Unicode space made a
plain space) and keeps, for each character of the result, the span of original
characters it came from, so a span found on the normalised text redacts the
right characters of the original one.

``ner_view`` makes a same-length copy for spaCy only: symbols and emoji become
spaces and over-long runs without a space are cut, because spaCy's tokenizer
splits affixes one at a time and is quadratic on a long run of emoji or
punctuation (8,000 emoji took seconds). Same length means same offsets.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Zero-width characters, soft hyphen, word joiners, BOM, bidi controls, and C0/C1
# controls other than tab/newline: invisible, and they split a value for a regex.
_INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069"
    "\u3164\ufeff\uffa0"
) | frozenset(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r") | frozenset(
    chr(c) for c in range(0x7F, 0xA0)
)
# Runs of non-space characters longer than this are cut for spaCy (no name is this long).
MAX_NER_RUN = 64


@dataclass(frozen=True)
class NormalizedText:
    """``text``: the normalised text; ``starts[i]``/``ends[i]``: the original span of its ``i``-th character."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original ``[start, end)`` covering normalised ``[start, end)``; ``end > start`` expected."""
        if not self.text:
            return 0, 0
        start = min(max(start, 0), len(self.text) - 1)
        end = min(max(end, start + 1), len(self.text))
        return self.starts[start], self.ends[end - 1]


def normalize_for_pii(text: str) -> NormalizedText:
    """NFKC per character, invisibles removed, Unicode spaces made ``" "``; offsets kept (see module doc)."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    index = 0
    while index < len(text):
        char = text[index]
        end = index + 1
        if char in _INVISIBLE:
            index = end
            continue
        if char.isspace() and char not in "\t\n\r":
            replacement = " "  # NBSP, narrow NBSP, figure, ideographic and other spaces
        elif char.isascii() and not (end < len(text) and _is_combining(text[end])):
            replacement = char
        else:
            # A character with its combining marks, so "e" + U+0301 composes to "é".
            while end < len(text) and _is_combining(text[end]):
                end += 1
            cluster = "".join(c for c in text[index:end] if c not in _INVISIBLE)
            replacement = "".join(c for c in unicodedata.normalize("NFKC", cluster) if c not in _INVISIBLE)
            if replacement.isspace():
                replacement = " "
        for piece in replacement:
            pieces.append(piece)
            starts.append(index)
            ends.append(end)
        index = end
    return NormalizedText(text, "".join(pieces), tuple(starts), tuple(ends))


_LONG_RUN = re.compile(rf"\S{{{MAX_NER_RUN},}}")
# Punctuation repeated past three ("!!!!!!"): each one is a spaCy token, and no name needs them.
_REPEATED_PUNCTUATION = re.compile(r"([^\w\s])\1{3,}")


def ner_view(text: str) -> str:
    """Same length as ``text``: symbols (emoji, dingbats) and repeated punctuation become spaces, long runs are cut."""
    view = "".join(" " if _is_symbol(c) else c for c in text)
    view = _REPEATED_PUNCTUATION.sub(lambda m: m.group(0)[:3] + " " * (len(m.group(0)) - 3), view)
    if _LONG_RUN.search(view) is None:
        return view
    return _LONG_RUN.sub(lambda m: "".join(
        " " if i % MAX_NER_RUN == MAX_NER_RUN - 1 else c for i, c in enumerate(m.group(0))), view)


def _is_symbol(char: str) -> bool:
    if char.isascii():
        return False
    category = unicodedata.category(char)
    return category[0] in "SC"


def _is_combining(char: str) -> bool:
    return not char.isascii() and unicodedata.combining(char) != 0
