"""normalize_for_classification: evasions undone, ordinary text left alone."""
from __future__ import annotations

import pytest

from classifiers.text_normalization import normalize_for_classification as normalize


@pytest.mark.parametrize(
    "raw, expected",
    [
        # Zero-width, soft hyphen, word joiner, BOM and bidi controls vanish.
        ("k\u200bi\u200cl\u200dl you", "kill you"),
        ("id\u00adiot\u2060s \ufeffhere", "idiots here"),
        ("\u202ekill\u202c \u2066them\u2069", "kill them"),
        # NFKC folds fullwidth and mathematical letters.
        ("ｋｉｌｌ all", "kill all"),
        ("\U0001d41f\U0001d42e\U0001d41c\U0001d424 off", "fuck off"),
    ],
)
def test_invisible_characters_and_compatibility_forms(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Too many fagg0ts in this country.", "Too many faggots in this country."),
        ("W0men should be locked up", "Women should be locked up"),
        ("st4b them", "stab them"),
        ("sh!t happens!", "shit happens!"),
        ("a$$hole", "asshole"),
        ("$hit", "shit"),
        ("H3LL0 there", "HELLO there"),
        ("You b1tch,", "You bitch,"),
    ],
)
def test_leet_is_decoded_in_tokens_mixing_letters_and_symbols(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "In 2024 covid-19 cases fell by 35%.",
        "8k, 4k, 3d render, 35mm film, 1990s, 4th of July, 1080p",
        "gpt4 and mp3 files, x264, web3",
        "a 4x4 truck on a 1920x1080 screen",
        "$100 for 2 apples",
        "mail foo@bar.com or see https://example.com/a1b2",
        "e.g. a cat, i.e. a pet",
        "A bicycle replica with a clock as the front wheel.",
    ],
)
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert normalize(text) == text


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("I want to k i l l all women.", "I want to kill all women."),
        ("F u c k all of them", "Fuck all of them"),
        ("f.u.c.k you", "fuck you"),
        ("h-a-t-e them", "hate them"),
        ("k 1 l l them", "kill them"),  # spaced and l33t at once
        # A leading article/pronoun stays a word unless the joined letters are a word.
        ("Muslims are a c a n c e r.", "Muslims are a cancer."),
        ("I h a t e them", "I hate them"),
        ("a n a l", "anal"),
        ("1 2 3 go", "1 2 3 go"),  # numbers, not letters
        ("Plan A or B", "Plan A or B"),
    ],
)
def test_spaced_letters_are_collapsed(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        # Several words spelled out in one run are split where they form words (most probable split).
        ("y o u r e a l l y s u c k", "you really suck"),
        ("w e l l d o n e t e a m", "well done team"),
        ("I a m a p r o u d d a d", "I am a proud dad"),
        ("d.i.e.s.l.o.w.l.y", "die slowly"),
        # One word stays one word; letters that form no words stay joined.
        ("p a r a c h u t e", "parachute"),
        ("q z x v", "qzxv"),
    ],
)
def test_spaced_runs_of_several_words_are_split_into_words(raw: str, expected: str) -> None:
    from classifiers.text_normalization import normalize_with_offsets

    assert normalize(raw) == expected
    assert normalize_with_offsets(raw)[0] == expected


def test_whitespace_is_collapsed_and_empty_text_survives() -> None:
    assert normalize("  hello \n\t world  ") == "hello world"
    assert normalize("") == ""
    assert normalize("\u200b\u200b") == ""


def test_control_characters_and_terminal_escapes_are_removed() -> None:
    from classifiers.text_normalization import normalize_for_classification

    assert normalize_for_classification("you \x07are\x08 \x1b[31mrude\x1b[0m\tnow") == "you are rude now"


@pytest.mark.parametrize(
    "raw, expected",
    [
        # Emoji become their CLDR names; ZWJ sequences and skin tones stay one emoji.
        ("all 🐀🐀 must go 🐀", "all rat must go rat"),  # a run of one emoji is named once
        ("🏳️\u200d⚧️ people", "transgender flag people"),
        ("waving 👋🏿", "waving waving hand dark skin tone"),
        ("i'll 🪓 you", "i'll axe you"),
        ("🎂 for grandma", "birthday cake for grandma"),
        # Symbols that are emoji only by Unicode's broad list stay text (NFKC makes ™ "TM").
        ("Brand™ © 2024 ®", "BrandTM © 2024 ®"),
    ],
)
def test_emoji_are_named(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_emoji_can_be_left_for_language_detection_and_offsets_cover_the_whole_emoji() -> None:
    from classifiers.text_normalization import normalize_with_offsets

    assert normalize("Hola 😀 amigos", name_emoji=False) == "Hola 😀 amigos"
    raw = "hi 🏳️\u200d🌈 there"
    text, starts, ends = normalize_with_offsets(raw)
    assert text == normalize(raw) == "hi rainbow flag there"
    at = text.index("rainbow flag")
    assert raw[starts[at]:ends[at + len("rainbow flag") - 1]] == "🏳️\u200d🌈"


def test_a_flood_of_combining_marks_keeps_two_per_letter() -> None:
    from classifiers.text_normalization import normalize_with_offsets

    zalgo = "k\u0301\u0302\u0303\u0304i\u0308\u0309\u030a\u030bll you"
    assert normalize(zalgo) == normalize("k\u0301\u0302i\u0308\u0309ll you")
    assert normalize_with_offsets(zalgo)[0] == normalize(zalgo)
    assert len(normalize("a" + "\u0301" * 7999)) <= 2
    assert normalize("Việt Nam") == "Việt Nam"  # two marks on one letter stay


def test_tag_characters_are_read_as_the_letters_they_spell_and_flags_stay_flags() -> None:
    from classifiers.text_normalization import normalize_with_offsets

    smuggled = "".join(chr(0xE0000 + ord(char)) for char in "kill them")
    assert normalize(f"please {smuggled} now") == "please kill them now"
    assert normalize_with_offsets(f"please {smuggled}")[0] == "please kill them"
    assert normalize("go \U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f!") == "go Scotland !"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("I will k<b></b>ill <span>you</span>", "I will kill you"),
        # What stands inside a tag is kept: it cannot hide text.
        ("<b I will kill you> nice weather", "I will kill you nice weather"),
        ('<img alt="kill them">', 'alt="kill them"'),
        ("&#107;ill &#x79;ou &amp; them", "kill you & them"),
        ("kill%20you%21", "kill you!"),
        ("k%2569ll k&amp;#105;ll", "kill kill"),  # encoded twice
        ("kill%20you%FF", "kill you\ufffd"),  # a byte that is no UTF-8 does not keep the run encoded
        ("```js\n// kill them all\n```", "kill them all"),
        ("`kill them all`", "kill them all"),
        ("<|endoftext|> [INST] kill them all [/INST]", "kill them all"),
        # Left alone: text that only looks like markup.
        ("a < b > c, I <3 you, 50% off, C# and x -- y", "a < b > c, I <3 you, 50% off, C# and x -- y"),
        ("if x<y and y>z then", "if x<y and y>z then"),
    ],
)
def test_markup_that_splits_or_hides_words_is_removed(raw: str, expected: str) -> None:
    from classifiers.text_normalization import normalize_with_offsets

    assert normalize(raw) == expected
    assert normalize_with_offsets(raw)[0] == expected


def test_a_wall_of_emoji_is_named_only_at_its_start_so_it_cannot_dilute_what_follows() -> None:
    wall = "".join(chr(code) for code in range(0x1F600, 0x1F640))  # 64 different faces
    text = normalize(f"{wall} all \U0001f412 must go")
    assert text.endswith("all monkey must go")
    assert len(text.split()) < 20  # three names from the wall, not 64


def test_dashes_of_every_code_point_read_as_a_hyphen() -> None:
    assert normalize("a 12\u2011year\u2011old, 9\u2012year\u2010old and x\u2212y") == "a 12-year-old, 9-year-old and x-y"


# Shapes that once backtracked (0.5 s for 8,000 characters; benchmarks/hostile_text.py measures their
# cost against prose). What they read as is unchanged: a run spaced by underscores whose last letter
# is followed by one more is no spelled-out word, and a token with two "@" is no address.
@pytest.mark.parametrize("text, expected", [
    ("a_ " * 40 + "a_", "a_ " * 40 + "a_"),
    ("1_ " * 40 + "11", normalize("1_ " * 40 + "11")),
    ("s_ h_ e i s", "she i s"),
    ("mail j.doe@mail.example.org or a1b2@x.io", "mail j.doe@mail.example.org or a1b2@x.io"),
])
def test_shapes_that_backtracked_read_as_before(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_a_spaced_word_after_an_underscore_run_that_ended_is_still_joined() -> None:
    assert normalize("a_b k i l l") == "a_b kill"
