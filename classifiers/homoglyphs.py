"""Fold look-alike letters (homoglyphs) of mixed-script words into one script.

"уou аrе а wоrthlеss іdіоt" with Cyrillic а/е/о/у/і reads as English to a person
but is a different string to a model. The look-alikes come from Unicode's
confusables data (UTS #39) as shipped by ``confusable-homoglyphs``; a letter's
script is that package's script alias (LATIN, CYRILLIC, GREEK, ...).

The rule, per word (a run of ``\\w``):

- The text's script is the one most of its *distinctive* letters use: letters
  with no look-alike in another script (Latin "t", "g"; Cyrillic "б", "я"; Greek
  "λ"). Where it has none, Latin (the model's main language).
- A word whose letters come from two or more scripts, one of them the text's,
  is folded into the text's script: every letter of another script that has a
  single-letter look-alike there is replaced by it. "wоrthlеss" (2 Cyrillic
  letters) becomes "worthless"; in a Russian text "cука" with a Latin "c"
  becomes "сука". A mixed word without the text's script is folded into a script
  that can spell all of it (Latin first), else into its majority script.
- A word written entirely in one non-Latin script, in a text whose script is
  Latin, is folded into Latin when all its letters have a Latin look-alike:
  "ѕеху" spelt in Cyrillic becomes "sexy", the article "а" becomes "a".
- Anything else is left alone: a Russian or Greek sentence keeps its words (its
  script is not Latin and its words are single-script), so the language detector
  and the model read the real text. A very short text made only of letters that
  exist in both scripts ("сор") counts as Latin and is folded; that is the price
  of catching "ѕеху" on its own.

Folding is one code point for one code point, so offsets stay valid.
Fullwidth and mathematical letters ("ｙｏｕ", "𝐲𝐨𝐮") are not look-alikes in this
sense: NFKC, which runs first, already maps them to ASCII.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from confusable_homoglyphs.categories import aliases_categories
from confusable_homoglyphs.confusables import confusables_data

LATIN = "LATIN"
# The scripts of the language detector's (lingua's) languages not written in Latin, as
# ``script_of`` names them; the language signal counts letters of other scripts as unidentified.
_NON_LATIN_SCRIPTS = {
    "ar": ("ARABIC",), "fa": ("ARABIC",), "ur": ("ARABIC",), "he": ("HEBREW",), "el": ("GREEK",),
    "be": ("CYRILLIC",), "bg": ("CYRILLIC",), "kk": ("CYRILLIC",), "mk": ("CYRILLIC",), "mn": ("CYRILLIC",),
    "ru": ("CYRILLIC",), "sr": ("CYRILLIC",), "uk": ("CYRILLIC",),
    "hi": ("DEVANAGARI",), "mr": ("DEVANAGARI",), "bn": ("BENGALI",), "gu": ("GUJARATI",), "pa": ("GURMUKHI",),
    "ta": ("TAMIL",), "te": ("TELUGU",), "th": ("THAI",), "ka": ("GEORGIAN",), "hy": ("ARMENIAN",),
    "zh": ("HAN",), "ja": ("HAN", "HIRAGANA", "KATAKANA"), "ko": ("HANGUL",),
}
# Scripts some language is written in, so text a model may read: look-alikes fold toward one of
# these where a text or word has one. Folding toward a script no language uses made
# "Iᚱamᚱgoingᚱtoᚱkill" (runes as spaces) "...kiᛁᛁ": Latin l into Runic isa.
WRITTEN_SCRIPTS = frozenset({LATIN}.union(*_NON_LATIN_SCRIPTS.values()))
_NO_SCRIPT = frozenset({"COMMON", "INHERITED", "Unknown"})
_WORD = re.compile(r"\w+")
# Letters a reader takes for a Latin one that UTS #39 does not map to ASCII: the small capitals
# ("ʏᴏᴜ ᴀʀᴇ", which NFKC keeps) and open e ("wrɛtched"), Latin letters read as ASCII in any word;
# and Greek epsilon ("arε a cancεr"; the data maps it to "ꞓ"), folded only where the confusables
# rule folds a letter (a mixed-script word, or a Greek-only word in Latin text).
_READ_AS_ASCII = str.maketrans(dict(zip(
    "\u1d00\u0299\u1d04\u1d05\u1d07\ua730\u0262\u029c\u026a\u1d0a\u1d0b\u029f\u1d0d\u0274\u1d0f\u1d18"
    "\ua7af\u0280\ua731\u1d1b\u1d1c\u1d20\u1d21\u028f\u1d22\u025b\u0190",
    "abcdefghijklmnopqrstuvwyzeE")))
_EPSILON = {"\u03b5": "e", "\u0395": "E"}


@lru_cache(maxsize=4096)
def script_of(char: str) -> str | None:
    """The script alias of a letter (LATIN, CYRILLIC, ...), or None for anything else."""
    alias, category = aliases_categories(char)
    if not category.startswith("L") or alias in _NO_SCRIPT:
        return None
    return alias


def fold_homoglyphs(text: str) -> str:
    """``text`` with the look-alikes of mixed-script words folded (see module doc).

    Same length as ``text``; ASCII text is returned as is, at no cost.
    """
    if text.isascii():
        return text
    text = text.translate(_READ_AS_ASCII)
    ambiguous = _ambiguous_letters()
    counts = Counter(script for char in text if (script := script_of(char)) and char not in ambiguous)
    dominant = _preferred(counts) or LATIN
    return _WORD.sub(lambda match: _fold_word(match.group(0), dominant), text)


def _fold_word(word: str, dominant: str) -> str:
    if word.isascii():
        return word
    scripts = [script_of(char) for char in word]
    counts = Counter(script for script in scripts if script)
    if len(counts) >= 2:
        if dominant in counts:
            target = dominant
        else:
            spellable = [target for target in counts if all(
                script in (None, target) or char in _table(target) for char, script in zip(word, scripts))]
            target = (LATIN if LATIN in spellable else _preferred(Counter(spellable))) if spellable else _preferred(counts)
        table = _table(target)
        return "".join(table.get(char, char) if script not in (None, target) else char
                       for char, script in zip(word, scripts))
    if len(counts) == 1 and dominant == LATIN and LATIN not in counts:
        table = _table(LATIN)
        if all(script is None or char in table for char, script in zip(word, scripts)):
            return "".join(table.get(char, char) for char in word)
    return word


def scripts_of(code: str) -> tuple[str, ...]:
    """The scripts a lingua language (ISO 639-1 code) is written in."""
    return _NON_LATIN_SCRIPTS.get(code.lower(), (LATIN,))


def _preferred(counts: Counter) -> str | None:
    """The most common script of ``counts`` that a language is written in (``WRITTEN_SCRIPTS``),
    else the most common; None when empty."""
    ranked = [script for script, _ in counts.most_common()]
    return next((script for script in ranked if script in WRITTEN_SCRIPTS), ranked[0] if ranked else None)


@lru_cache(maxsize=1)
def _direct() -> dict[str, list[str]]:
    """Letter -> its single-letter look-alikes (any script), from the confusables data."""
    direct: dict[str, list[str]] = {}
    for char, entries in confusables_data.items():
        if len(char) == 1 and script_of(char) is not None:
            direct[char] = [entry["c"] for entry in entries if len(entry["c"]) == 1 and script_of(entry["c"])]
    return direct


@lru_cache(maxsize=1)
def _ambiguous_letters() -> frozenset[str]:
    """Letters with a look-alike in another script: they say nothing about a text's script."""
    return frozenset(char for char, looks in _direct().items()
                     if any(script_of(look) != script_of(char) for look in looks))


@lru_cache(maxsize=None)
def _table(target: str) -> dict[str, str]:
    """Letter of another script -> its single-letter look-alike in ``target``.

    For Latin the look-alike must be an ASCII letter, reached directly or through
    one non-ASCII Latin letter (Greek "τ" -> "ᴛ" -> "T"); the case follows the
    source letter's where the data allows it (Greek "Ι" folds as "ι" -> "I").
    """
    direct = _direct()

    def candidates(char: str) -> list[str]:
        looks = direct.get(char, [])
        if target != LATIN:
            return [look for look in looks if script_of(look) == target]
        found = [look for look in looks if look.isascii()]
        for look in looks:
            if script_of(look) == LATIN and not look.isascii():
                found.extend(hop for hop in direct.get(look, []) if hop.isascii())
        return found

    table: dict[str, str] = {}
    for char in direct:
        if script_of(char) == target:
            continue
        options = candidates(char)
        same_case = [option for option in options if option.isupper() == char.isupper()]
        lower = char.lower()
        if not same_case and char.isupper() and lower != char:
            same_case = [option.upper() for option in candidates(lower)]
        if same_case or options:
            table[char] = (same_case or options)[0]
    if target == LATIN:
        table.update(_EPSILON)
    return table
