"""Look-alike letters are folded in mixed-script words; genuine other-script text is kept."""
from __future__ import annotations

import pytest

from classifiers.homoglyphs import fold_homoglyphs
from classifiers.text_normalization import normalize_for_classification as normalize
from classifiers.text_normalization import normalize_with_offsets

# Cyrillic а е о р с у х і ѕ ԁ and Greek ο ρ ν ι, written as escapes so the test reads unambiguously.
CYR = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "c": "\u0441", "y": "\u0443",
       "x": "\u0445", "i": "\u0456", "s": "\u0455", "d": "\u0501", "A": "\u0410", "T": "\u0422", "H": "\u041d"}
GREEK = {"o": "\u03bf", "p": "\u03c1", "v": "\u03bd", "i": "\u03b9", "A": "\u0391", "N": "\u039d", "I": "\u0399"}


def swap(text: str, table: dict[str, str], letters: str) -> str:
    return "".join(table[char] if char in letters and char in table else char for char in text)


@pytest.mark.parametrize("raw, expected", [
    (swap("you are a worthless idiot", CYR, "ae"), "you are a worthless idiot"),
    (swap("you are a worthless idiot", CYR, "aeoyi"), "you are a worthless idiot"),  # most letters swapped
    (swap("you are a worthless idiot", CYR, "doi"), "you are a worthless idiot"),  # whole words in Cyrillic
    (swap("I will kill you tonight", GREEK, "io"), "I will kill you tonight"),
    (swap("a photo of a sexy schoolgirl", CYR, "sexo"), "a photo of a sexy schoolgirl"),
    (swap("THE END", CYR, "TH"), "THE END"),
    (swap("Idiot", GREEK, "I"), "Idiot"),  # capital iota keeps its case
    (swap("NAIVE person", GREEK, "NAI"), "NAIVE person"),
    ("p\u0435rs\u043en", "person"),  # one word, two scripts interleaved
])
def test_mixed_script_look_alikes_fold_to_latin(raw: str, expected: str) -> None:
    assert raw != expected
    assert fold_homoglyphs(raw) == expected
    assert normalize(raw) == expected


@pytest.mark.parametrize("text", [
    "\u0422\u044b \u043d\u0438\u043a\u0447\u0451\u043c\u043d\u044b\u0439 \u0438\u0434\u0438\u043e\u0442, "
    "\u044f \u0442\u0435\u0431\u044f \u0443\u0431\u044c\u044e",  # a Russian threat
    "\u0421\u043e\u0431\u0430\u043a\u0430 \u0441\u043f\u0438\u0442 \u043d\u0430 \u0441\u043e\u043b\u043d\u0446\u0435",
    "\u03a4\u03bf \u03bc\u03b9\u03ba\u03c1\u03cc \u03c3\u03c0\u03af\u03c4\u03b9 \u03b5\u03af\u03bd\u03b1\u03b9 "
    "\u03cc\u03bc\u03bf\u03c1\u03c6\u03bf",  # Greek
    "\u041c\u043e\u0441\u043a\u0432\u0430 \u0438 iPhone",  # Russian with an English brand: each word single-script
    "Ich hei\u00dfe J\u00fcrgen und wohne in K\u00f6ln",
    "\u6211\u7231\u5317\u4eac and \u3053\u3093\u306b\u3061\u306f",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
])
def test_genuine_other_script_text_is_left_alone(text: str) -> None:
    assert fold_homoglyphs(text) == text


def test_a_latin_letter_inside_a_russian_word_folds_to_cyrillic() -> None:
    # "cука" with a Latin c, inside a Russian sentence: the word is Russian, so it becomes Russian.
    text = "c\u0443\u043a\u0430 \u0442\u044b \u0431\u043b\u044f\u0442\u044c"
    assert fold_homoglyphs(text) == "\u0441\u0443\u043a\u0430 \u0442\u044b \u0431\u043b\u044f\u0442\u044c"


@pytest.mark.parametrize("raw, expected", [
    ("\uff59\uff4f\uff55 \uff41\uff52\uff45 \uff41\uff4e \uff49\uff44\uff49\uff4f\uff54", "you are an idiot"),  # fullwidth
    ("\U0001d432\U0001d428\U0001d42e \U0001d422\U0001d41d\U0001d422\U0001d428\U0001d42d", "you idiot"),  # bold
    ("\U0001d4ce\U0001d45c\U0001d462 idiot", "you idiot"),  # script / italic mathematical letters
    ("\uff59" + CYR["o"] + "u " + GREEK["i"] + "diot", "you idiot"),  # fullwidth, Cyrillic and Greek at once
])
def test_compatibility_forms_and_look_alikes_together(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("J\u03b5ws ar\u03b5 a dis\u03b5as\u03b5", "Jews are a disease"),  # Greek epsilon, which UTS #39 maps to "\ua793"
    ("wr\u025btched", "wretched"),  # Latin open e
    ("\u1d1b\u0280\u1d00\u0274s \u1d18\u1d07\u1d0f\u1d18\u029f\u1d07", "trans people"),  # small capitals
    ("\u028f\u1d0f\u1d1c \u1d05\u026a\u1d07 \u1d1b\u1d0f\u0274\u026a\u0262\u029c\u1d1b", "you die tonight"),
])
def test_letters_read_as_latin_outside_the_confusables_data_fold_too(raw: str, expected: str) -> None:
    assert normalize(raw) == expected
    assert len(normalize_with_offsets(raw)[0]) == len(expected)


def test_a_greek_word_with_epsilon_stays_greek() -> None:
    text = "\u0395\u03af\u03bd\u03b1\u03b9 \u03ad\u03bd\u03b1 \u03c9\u03c1\u03b1\u03af\u03bf \u03c3\u03c0\u03af\u03c4\u03b9"
    assert fold_homoglyphs(text) == text


@pytest.mark.parametrize("raw", [
    "Iᚱamᚱgoingᚱtoᚱkillᚱyouᚱtomorrowᚱatᚱyourᚱhouse.",  # runes as spaces: Latin "ll" had become Runic isa
    "hopeᛁyouᛁfallᛁandᛁdie",
    "youᎠareᎠaᎠworthlessᎠidiot",  # a Cherokee letter as the separator
])
def test_latin_letters_never_fold_into_a_script_no_language_is_written_in(raw: str) -> None:
    from classifiers.homoglyphs import WRITTEN_SCRIPTS, script_of

    folded = fold_homoglyphs(raw)
    assert all(script_of(new) in WRITTEN_SCRIPTS for old, new in zip(raw, folded) if old != new), folded
    assert all(new == old for old, new in zip(raw, folded) if script_of(old) == "LATIN"), folded


def test_folding_keeps_length_and_ascii_is_untouched() -> None:
    raw = swap("a twelve-year-old girl", CYR, "eao")
    assert len(fold_homoglyphs(raw)) == len(raw)
    plain = "a cat on a mat, 8k, trending on artstation"
    assert fold_homoglyphs(plain) is plain


@pytest.mark.parametrize("raw", [
    swap("  a 12-year-old  girl\u200b in lingerie ", CYR, "aeo"),
    "k i d s at the beach, \uff4c\uff49\uff4e\uff47\uff45\uff52\uff49\uff45",
    "caf\u0065\u0301 13yo \ufb01ne \x1b[31mred\x1b[0m",
    "\u0422\u044b \u0438\u0434\u0438\u043e\u0442   \t\n end",
    "",
    "   ",
    "\u1100\u1161\u11a8 hangul jamo",
])
def test_offsets_map_the_normalised_text_back_to_the_original(raw: str) -> None:
    text, starts, ends = normalize_with_offsets(raw)
    assert text == normalize(raw)
    assert len(starts) == len(ends) == len(text)
    for char, start, end in zip(text, starts, ends):
        assert 0 <= start < end <= len(raw)
        original = raw[start:end]
        if char.isascii() and char.isalnum() and original.isascii():
            assert original.lower() == char.lower() or len(original) > 1, (char, original)
    assert starts == sorted(starts)


def test_toxicity_of_an_obfuscated_insult_is_close_to_the_clean_one(real_classifiers) -> None:
    toxicity = real_classifiers["toxicity"]
    clean = toxicity.classify("you are a worthless idiot").scores
    for letters in ("ae", "aeoyi", "doi"):
        obfuscated = toxicity.classify(swap("you are a worthless idiot", CYR, letters)).scores
        for category, value in clean.items():
            assert obfuscated[category] == pytest.approx(value, abs=1e-3), (letters, category)


def test_the_service_decides_an_obfuscated_insult_as_it_decides_the_clean_one(tmp_path, real_classifiers):
    from fastapi.testclient import TestClient

    from conftest import with_key
    from moderation_service.api.app import create_app
    from moderation_service.settings import Settings

    clean = "you are a worthless idiot"
    with TestClient(create_app(Settings(data_dir=tmp_path / "data"), real_classifiers)) as test_client:
        client = with_key(test_client)
        decisions = {text: client.post("/v1/moderations", json={"prompt": text}).json()
                     for text in (clean, swap(clean, CYR, "ae"), swap(clean, CYR, "aeoyi"), swap(clean, GREEK, "oi"))}
    expected = decisions[clean]
    assert expected["decision"] != "allow"
    for text, body in decisions.items():
        assert body["decision"] == expected["decision"], text
        assert body["signals"]["text"]["language"] == "en", text
        assert [r["rule_id"] for r in body["reasons"]] == [r["rule_id"] for r in expected["reasons"]], text


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_ALPHABET = st.sampled_from(
    list("abcdeiklmnopsty 0123456789-./@$!_\t\n") + list(CYR.values()) + list(GREEK.values())
    + ["\u200b", "\u00ad", "\ufb01", "\uff41", "\U0001d41a", "e\u0301", "\u1100", "\u1161", "\x1b", "\u0422", "\u044f"]
    # decorated letters (classifiers/decorations.py): marks, accented and stroked letters, enclosed letters
    + ["\u0336", "\u20dd", "\u0301", "\u0323", "\u1e31", "\u00e9", "\u0141", "\U0001F17A", "\u249C", "\U0001F1F0",
       "\ufe0f"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_offsets_agree_with_the_plain_normalisation_on_any_text(raw):
    text, starts, ends = normalize_with_offsets(raw)
    assert text == normalize(raw)
    assert len(starts) == len(ends) == len(text)
    assert all(0 <= start < end <= len(raw) for start, end in zip(starts, ends))
    assert len(fold_homoglyphs(raw)) == len(raw)
