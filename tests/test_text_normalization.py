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


def test_whitespace_is_collapsed_and_empty_text_survives() -> None:
    assert normalize("  hello \n\t world  ") == "hello world"
    assert normalize("") == ""
    assert normalize("\u200b\u200b") == ""


def test_control_characters_and_terminal_escapes_are_removed() -> None:
    from classifiers.text_normalization import normalize_for_classification

    assert normalize_for_classification("you \x07are\x08 \x1b[31mrude\x1b[0m\tnow") == "you are rude now"
