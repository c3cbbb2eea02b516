"""Read decorated letters as the plain letters they show.

"Fancy text" generators restyle a word so that a reader still sees it and a filter does
not: "🅺🅸🅻🅻", "⒦⒤⒧⒧", "🇰🇮🇱🇱" (enclosed letters and regional indicators), "k̶i̶l̶l̶"
(strike-through and other marks drawn over a letter), "ḱíĺĺ ýóú" (an accent on every
letter). Mathematical, fullwidth and circled letters need nothing here: NFKC already maps
them to ASCII. Two steps, both run by ``text_normalization`` around its NFKC:

- ``read_enclosed_letters`` (before NFKC and emoji naming, one code point for one): a run
  of enclosed letters or regional indicators is read as letters, unless it is only
  flags ("🇺🇸🇬🇧") or a lone emoji ("🅰️").
- ``decorated_word_spans`` (after NFKC): a decorated word loses its marks and its letters
  are read as their ASCII base ("ḱíĺĺ" -> "kill", "Łø" beside such a word -> "Lo"). A word
  is decorated when it carries a mark that no orthography uses (overlay, strike-through,
  underline, enclosing: U+0332-0338 and the symbol marks), or when every letter is a Latin
  letter with an accent and either one mark is on all of four or more letters ("ḱíĺĺ") or
  two marks are on each of three or more (Zalgo). Ordinary accented words keep a plain
  letter ("été", "łódź", Vietnamese "được") or mix their alphabet's marks (Czech "říší",
  Yoruba "ṣọ́ọ̀ṣì", Polish "Żółć"), so they stay as written; words of up to three letters
  are read as plain only beside a decorated word.

Base letters come from Unicode's decompositions, and for letters with a stroke or other
non-decomposing shape ("Ł", "Ø", "ɨ") from ``anyascii`` (ISC), taken only when it gives
one ASCII letter. Upside-down text ("ʞıll") is not read: it is written backwards too.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import emoji
from anyascii import anyascii

from classifiers.homoglyphs import script_of

_REGIONAL = range(0x1F1E6, 0x1F200)  # regional indicator symbols A-Z
_VARIATION_SELECTOR = "\ufe0f"


def _enclosed_table() -> dict[int, str]:
    table = {0x1F1E6 + index: chr(ord("A") + index) for index in range(26)}
    for first, letter in ((0x249C, "a"), (0x1F110, "A"), (0x24B6, "A"), (0x24D0, "a"), (0x1F130, "A"),
                          (0x1F150, "A"), (0x1F170, "A")):
        # parenthesized (both cases), circled (both cases), squared, negative circled, negative squared
        table.update({first + index: chr(ord(letter) + index) for index in range(26)})
    return table


_ENCLOSED = _enclosed_table()
_ENCLOSED_CLASS = "[%s]" % "".join(map(chr, _ENCLOSED))
# Between enclosed letters: one space, dot, hyphen or underscore, or invisible characters ("🅺\u200b🅸").
_SEPARATOR = "(?:[ ._\\-]|[\u00ad\u200b-\u200d\u2060])"
# Enclosed letters, each maybe with VS16, and separators between them ("🇰 🇮 🇱 🇱").
_ENCLOSED_RUN = re.compile(f"{_ENCLOSED_CLASS}(?:{_ENCLOSED_CLASS}|{_VARIATION_SELECTOR}|{_SEPARATOR}(?={_ENCLOSED_CLASS}))*")
_ENCLOSED_ONLY = re.compile(_ENCLOSED_CLASS)
# What counts as touching a word: a letter, a digit, or a l33t symbol ("🅺1🅻🅻").
_WORDISH = re.compile(r"[^\W_]|[@$!|]")


def read_enclosed_letters(text: str) -> str:
    """``text`` with each run of enclosed letters read as ASCII letters; same length.

    A run is read when it has two or more letters or touches a letter ("k🅸ll"), unless it
    is a sequence of flags (regional indicators that pair into known flags, "🇺🇸🇬🇧",
    "Bolsonaro🇧🇷"). A lone enclosed letter between spaces ("🅰️", "Ⓜ") is left to be named
    as an emoji. A variation selector left in a word is dropped later, as invisible.
    """
    if text.isascii():
        return text
    return _ENCLOSED_RUN.sub(lambda match: _read_run(match, text), text)


def _read_run(match: re.Match[str], text: str) -> str:
    run = match.group(0)
    letters = _ENCLOSED_ONLY.findall(run)
    groups = [_ENCLOSED_ONLY.findall(group) for group in re.split(_SEPARATOR, run)]
    touching = (match.start() > 0 and _WORDISH.match(text[match.start() - 1])) or \
               (match.end() < len(text) and _WORDISH.match(text[match.end()]))
    # Flags stay flags: "🇺🇸🇬🇧", "Bolsonaro🇧🇷", and one pair split by a space ("🇺 🇸", HateXplain's
    # tokens); spaced letters that only happen to pair into flags are letters ("🇩 🇪 🇦 🇩").
    flags = all(map(_is_flags, groups)) or len(letters) == 2 and _is_flags(letters)
    if flags or (len(letters) == 1 and not touching):
        return run
    return "".join(_ENCLOSED.get(ord(char), char) for char in run)


def _is_flags(letters: list[str]) -> bool:
    """Regional indicators that pair into known flags ("🇺🇸🇬🇧"); not none, not one."""
    if not letters or len(letters) % 2 or not all(ord(char) in _REGIONAL for char in letters):
        return False
    return all(letters[index] + letters[index + 1] in emoji.EMOJI_DATA for index in range(0, len(letters), 2))


# Marks drawn over, under or around a letter that no orthography uses for a sound: low line,
# overlays and strokes (U+0332-0338), overline, and the marks for symbols (enclosing circle, keycap).
_DECORATIVE_MARKS = "\u0305\u0332-\u0338\u033f\u0488\u0489\u20d0-\u20ff"
_DECORATIVE = re.compile(f"[{_DECORATIVE_MARKS}]")
# The combining-mark blocks (diacritical marks, their extended and supplement blocks, the marks
# for symbols, half marks); text_normalization cuts floods of them ("Zalgo") with this range.
COMBINING_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
# A word: letters, digits and combining marks, Cyrillic's too (re's \w leaves marks out, so
# "k̶i̶l̶l̶" would be four words).
_MARK_CLASS = COMBINING_MARKS + "\u0483-\u0489"
_WORD = re.compile(f"(?:[^\\W_]|[{_MARK_CLASS}])+")
_MARKS = re.compile(f"[{_MARK_CLASS}]")
_LETTER = re.compile(f"[{_MARK_CLASS}]*[^{_MARK_CLASS}][{_MARK_CLASS}]*")  # a letter and its marks
_PLAIN_LETTER = re.compile(f"[A-Za-z0-9](?![{_MARK_CLASS}])")


def decorated_word_spans(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, plain)`` for each decorated word of ``text`` (see module doc), in order.

    ``plain`` drops the word's combining marks and reads each accented or stroked Latin
    letter as its ASCII base; other letters stay. Expects NFKC text.
    """
    if text.isascii():
        return []
    words = [(match.start(), match.end(), match.group(0)) for match in _WORD.finditer(text)]
    kinds = [_kind(word) for _, _, word in words]
    # A short word is read as plain beside a decorated one, through runs of short words ("Í áḿ ǵóíńǵ").
    for order in (range(1, len(kinds)), range(len(kinds) - 2, -1, -1)):
        for index in order:
            neighbour = index - 1 if order.step == 1 else index + 1
            if kinds[index] == "short" and kinds[neighbour] == "decorated":
                kinds[index] = "decorated"
    return [(start, end, _plain(word)) for (start, end, word), kind in zip(words, kinds) if kind == "decorated"]


def _kind(word: str) -> str | None:
    """``decorated``, ``short`` (up to three letters, each accented or stroked) or None."""
    if word.isascii():
        return None
    if _DECORATIVE.search(word):
        return "decorated"
    first = _LETTER.match(word)  # None for a word of marks alone
    if first is None or _PLAIN_LETTER.search(word) or not _base(first.group(0)):  # "été", "привет", "我们"
        return None
    letters = _letters_with_marks(word)
    if not all(_base(letter) for letter in letters):
        return None
    marks = [set(_MARKS.findall(unicodedata.normalize("NFD", letter))) for letter in letters]
    # Real words accent every letter too (Czech "říší", Yoruba "ṣọ́ọ̀ṣì", Polish "Żółć"), but with
    # the marks their alphabet mixes. A generator puts one mark on every letter ("ḱíĺĺ"), or stacks
    # two on each (Zalgo, cut to two by the normalisation).
    if len(letters) >= 4 and set.intersection(*marks) or len(letters) >= 3 and all(len(found) >= 2 for found in marks):
        return "decorated"
    return "short" if len(letters) <= 3 else None


def _letters_with_marks(word: str) -> list[str]:
    """Each letter with the combining marks that follow it ("t́" stays one item)."""
    return _LETTER.findall(word)


@lru_cache(maxsize=4096)
def _base(letter: str) -> str | None:
    """The ASCII letter an accented or stroked Latin letter (with its marks) shows, else None.
    A plain ASCII letter without marks has none: it is not decorated."""
    if len(letter) == 1 and letter.isascii():
        return None
    decomposed = unicodedata.normalize("NFD", letter)
    first = decomposed[0]
    if first.isascii():
        return first if first.isalpha() else None
    if script_of(first) != "LATIN":
        return None
    plain = anyascii(first)
    return plain if len(plain) == 1 and plain.isalpha() else None


def plain_alignment(word: str, plain: str) -> list[tuple[int, int]]:
    """For each character of ``plain`` (a decorated word's reading), the ``[start, end)`` range
    of ``word`` it stands for: its letter with that letter's marks."""
    spans = [match.span() for match in _LETTER.finditer(word)]
    if len(spans) != len(plain):
        raise ValueError(f"{plain!r} is not the reading of {word!r}")
    return spans


def _plain(word: str) -> str:
    pieces = []
    for letter in _letters_with_marks(word):
        base = _base(letter)
        pieces.append(base or _MARKS.sub("", letter))
    return "".join(pieces)
