"""Decorated letters ("fancy text") read as the plain letters they show; ordinary accents stay.

Before this, "Í áḿ ǵóíńǵ t́ó ḱíĺĺ ýóú" (an accent on every letter) was read by the
multilingual head alone as some other language and allowed; enclosed letters ("🅺🅸🅻🅻",
"⒦⒤⒧⒧", regional indicators) reached the models as emoji names or "(k)(i)(l)(l)"; marks
drawn through letters ("g̶r̶o̶o̶m̶") hid lexicon words.
"""
from __future__ import annotations

import pytest

from classifiers.decorations import decorated_word_spans, read_enclosed_letters
from classifiers.text_normalization import normalize_for_classification as normalize
from classifiers.text_normalization import normalize_with_offsets


def marked(text: str, mark: str) -> str:
    return "".join(char + mark if char.isalpha() else char for char in text)


def enclosed(text: str, first: int) -> str:
    return "".join(chr(first + ord(char.lower()) - ord("a")) if char.isascii() and char.isalpha() else char
                   for char in text)


STYLES = {
    "acute on every letter": lambda text: marked(text, "\u0301"),
    "grave and dot below": lambda text: marked(text, "\u0300\u0323"),
    "strike-through": lambda text: marked(text, "\u0336"),
    "slash overlay": lambda text: marked(text, "\u0338"),
    "underline": lambda text: marked(text, "\u0332"),
    "enclosing circle": lambda text: marked(text, "\u20dd"),
    "negative circled": lambda text: enclosed(text, 0x1F150),
    "negative squared": lambda text: enclosed(text, 0x1F170),
    "parenthesized": lambda text: enclosed(text, 0x249C),
    "regional indicators": lambda text: enclosed(text, 0x1F1E6),
}
PHRASES = ["you filthy traitor", "burn their houses down", "we should get rid of them"]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("phrase", PHRASES)
def test_each_style_reads_as_the_plain_phrase(style: str, phrase: str) -> None:
    assert normalize(STYLES[style](phrase)).casefold() == normalize(phrase).casefold()


def test_one_decorated_word_in_plain_text_is_read_too() -> None:
    assert normalize("they are all ṕáŕáśít́éś and must go") == "they are all parasites and must go"
    assert normalize("you are v̶e̶r̶m̶i̶n̶") == "you are vermin"
    assert normalize("k🅸ll them") == "kIll them"  # an enclosed letter inside a word


@pytest.mark.parametrize("raw, plain", [
    # Spaced letters that happen to pair into flags (DE AD) are still letters (a hostile review's find).
    ("you are \U0001F1E9 \U0001F1EA \U0001F1E6 \U0001F1E9", "you are DEAD"),
    ("\U0001F1F8 \U0001F1F9 \U0001F1EE \U0001F1FB \U0001F1EA", "STIVE"),
    # Separated by invisible characters, dots or hyphens, or touching a l33t digit.
    ("\U0001F17B\u200b\U0001F174\u200b\U0001F170\u200b\U0001F185\u200b\U0001F174", "LEAVE"),
    ("\U0001F1F7\u200b\U0001F1E6\u200b\U0001F1F9", "RAT"),
    ("\U0001F15B.\U0001F154.\U0001F150.\U0001F165.\U0001F154", "LEAVE"),
    ("\U0001F17B-\U0001F174-\U0001F170-\U0001F185-\U0001F174", "LEAVE"),
    ("\U0001F1814\U0001F183", "RAT"),  # "R4T": the digit is l33t for a letter
    ("sc\U0001F170m", "scAm"),  # one enclosed letter inside a word
    ("\U0001F11B\U0001F114\U0001F110\U0001F125\U0001F114", "LEAVE"),  # parenthesized capitals
])
def test_enclosed_letters_read_as_letters_in_every_spacing(raw: str, plain: str) -> None:
    assert normalize(raw) == plain


def test_spaced_regional_indicators_are_letters_unless_they_pair_into_flags() -> None:
    assert normalize("\U0001F1FA\U0001F1F8 \U0001F1EC\U0001F1E7 flags") == "United States United Kingdom flags"
    # One flag split by a tokenizer (HateXplain's text) stays as it was, not "F R".
    assert normalize("\U0001F1EB \U0001F1F7 wins") == "\U0001F1EB \U0001F1F7 wins"


@pytest.mark.parametrize("text", [
    "Nous avons passé l'été à Sète, près de la mer.",
    "Die Straße ist schön, übermorgen fahren wir nach Köln.",
    "W Łodzi źdźbło trawy rośnie między płytami.",
    "Bu akşam ışığı kapatmayı unutma.",
    "Chúng tôi được mời đến dự tiệc tối nay.",
    "Ọ̀rẹ́ mi wá sílé lánàá.",
    "Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Ela não está aí, já saiu às três.",
    # Every letter accented, with the marks their alphabets mix (a hostile review's finds).
    "Ṣọ́ọ̀ṣì wa tóbi, ọṣẹ wà níbẹ̀.",
    "Ve říší pověstí a Šíř je jméno.",
    "Pan Łukasz Żółć mieszka w Łodzi.",
    "Ūžė vėjas per laukus.",
    "Üçü de ışığı gördü.",
    "Žĺť je farba jesene.",
])
def test_ordinary_accented_text_is_left_as_written(text: str) -> None:
    assert decorated_word_spans(text) == []
    assert normalize(text) == " ".join(text.split())


@pytest.mark.parametrize("text, named", [
    ("we love \U0001F1EF\U0001F1F5 and \U0001F1F0\U0001F1F7", "we love Japan and South Korea"),
    ("Go team\U0001F1E7\U0001F1F7!", "Go team Brazil !"),  # a flag touching a word stays a flag
    ("blood type \U0001F170\ufe0f", "blood type A button (blood type)"),  # a lone enclosed letter is an emoji
])
def test_flags_and_lone_enclosed_emoji_are_still_named(text: str, named: str) -> None:
    assert normalize(text) == named


def test_two_stacked_marks_on_every_letter_are_read_plain() -> None:
    zalgo = "".join(char + "\u0300\u0301" if char.isalpha() else char for char in "burn it down")
    assert normalize(zalgo) == "burn it down"


def test_each_letter_of_a_decorated_word_maps_to_its_own_letter_and_marks() -> None:
    raw = "\u0199\u0336\u0268\u0336\u026d\u0336\u026d\u0336 them"  # stroked and hooked letters, struck through
    text, starts, ends = normalize_with_offsets(raw)
    assert text.startswith("kill")
    assert [raw[start:end] for start, end in zip(starts[:4], ends[:4])] == ["\u0199\u0336", "\u0268\u0336",
                                                                          "\u026d\u0336", "\u026d\u0336"]


@pytest.mark.parametrize("text", ["\u0301", "a \u0301\u0301 b", "\u0301\u0336", "x \u20e3"])
def test_marks_without_a_letter_do_not_break_normalisation(text: str) -> None:
    assert normalize_with_offsets(text)[0] == normalize(text)


def test_enclosed_letters_keep_length_so_offsets_stay() -> None:
    raw = "I \U0001F17A\U0001F178\U0001F17B\U0001F17B you"
    assert len(read_enclosed_letters(raw)) == len(raw)


@pytest.mark.parametrize("raw, word, decorated", [
    ("I will ḱíĺĺ them", "kill", "ḱíĺĺ"),
    ("I will k\u0336i\u0336l\u0336l\u0336 them", "kill", "k\u0336i\u0336l\u0336l\u0336"),
    ("I will t\u0301\u0301o\u0301 them", "to", None),  # short, no decorated neighbour: left as written
])
def test_offsets_of_a_decorated_word_cover_the_decorated_original(raw: str, word: str, decorated: str | None) -> None:
    text, starts, ends = normalize_with_offsets(raw)
    assert text == normalize(raw)
    if decorated is None:
        assert word not in text
        return
    index = text.index(word)
    assert raw[starts[index]:ends[index + len(word) - 1]] == decorated


@pytest.fixture(scope="module")
def offline(real_classifiers):
    from policy_support import prompt_signals, shipped_default_policy

    policy = shipped_default_policy()
    text_classifiers = {name: real_classifiers[name] for name in
                        ("toxicity", "text", "pii", "minor_indicators", "self_harm_indicators")}
    return policy, lambda prompt: prompt_signals(text_classifiers, prompt)


@pytest.mark.parametrize("style", ["acute on every letter", "strike-through", "negative squared", "regional indicators"])
def test_the_service_decides_a_decorated_threat_as_it_decides_the_plain_one(offline, style: str) -> None:
    from policy_support import decide

    policy, signals_of = offline
    plain = "I am going to find you and stab you"
    expected = decide(policy, signals_of(plain))
    assert expected[0] == "block"
    decorated = signals_of(STYLES[style](plain))
    assert decide(policy, decorated) == expected
    assert decorated["text"]["language"] == "en"


def test_lexicons_find_decorated_words_and_report_the_decorated_span(offline) -> None:
    _, signals_of = offline
    prompt = marked("I keep cutting myself", "\u0301")
    indicators = signals_of(prompt)["self_harm_indicators"]["indicators"]
    assert indicators, prompt
    assert prompt[indicators[0]["start"]:indicators[0]["end"]] == marked("cutting myself", "\u0301")

    prompt = "a " + enclosed("ten year old", 0x1F170) + " girl"
    minors = signals_of(prompt)["minor_indicators"]["indicators"]
    assert [indicator["age"] for indicator in minors if indicator["kind"] == "stated_age"] == [10]


def test_training_reads_text_as_the_shipped_model_was_trained() -> None:
    # Training builds its rows and splits without the step (model card): the committed calibration
    # and the CI training slice rest on that form.
    from classifiers.text_model_training import build_splits  # noqa: F401 (the caller of this form)

    decorated = "\u1e31\u00ed\u013a\u013a them \U0001F17A\U0001F178\U0001F17B\U0001F17B red heart\ufe0f"
    assert normalize(decorated) == "kill them KILL red heart"
    assert normalize(decorated, decorations=False) == "\u1e31\u00ed\u013a\u013a them " + normalize(
        "\U0001F17A\U0001F178\U0001F17B\U0001F17B", decorations=False) + " red heart\ufe0f"

