"""The `text` signal: lingua's language and confidence, offline, on the normalised prompt."""
from __future__ import annotations

import csv

import pytest

from conftest import SHARED_DATASETS
from classifiers.language import (DEFAULT_LANGUAGES, ENGLISH_MARGIN, UNDETERMINED, LanguageClassifier,
                                  word_candidates)


@pytest.fixture(scope="module")
def detector(real_classifiers) -> LanguageClassifier:
    return real_classifiers["text"]


@pytest.mark.parametrize("prompt, language", [
    ("a watercolour painting of a lighthouse at dawn, soft light", "en"),
    ("Ты никчёмный идиот, я тебя убью завтра", "ru"),
    ("Du bist ein wertloser Idiot und ich finde dich", "de"),
    ("eres un idiota y mañana te voy a encontrar", "es"),
    ("un chat roux qui dort sur le canapé du salon", "fr"),
    ("un gatto rosso che dorme sul divano del salotto", "it"),
    ("um gato laranja dormindo no sofá da sala", "pt"),
    ("een rode kat die op de bank in de woonkamer slaapt", "nl"),
    ("kot śpi na kanapie w salonie", "pl"),
    ("Кіт спить на дивані у вітальні", "uk"),
    ("猫がソファで寝ている", "ja"),
    ("一只猫在沙发上睡觉", "zh"),
    ("قطة نائمة على الأريكة", "ar"),
    ("Η γάτα κοιμάται στον καναπέ", "el"),
    # Named since session 16: before, Swedish was guessed as Dutch or German under 0.8.
    ("en katt som sover i solen på fönsterbrädan", "sv"),
    ("Katten sover på sofaen i stuen hele eftermiddagen", "da"),
    ("katten sover på sofaen i stua hele ettermiddagen", "nb"),
    ("kissa nukkuu sohvalla olohuoneessa", "fi"),
    ("kočka spí na gauči v obývacím pokoji", "cs"),
    ("mačka spí na gauči v obývačke celé popoludnie", "sk"),
    ("o pisică doarme pe canapea în sufragerie", "ro"),
    ("a macska a kanapén alszik a nappaliban", "hu"),
    ("mačka spava na kauču u dnevnoj sobi cijelo poslijepodne", "hr"),
])
def test_languages_are_named_by_iso_639_1_code(detector, prompt, language):
    signal = detector.classify(prompt)
    assert signal.language == language
    assert 0.0 < signal.language_confidence <= 1.0


def test_look_alike_letters_do_not_make_english_look_russian(detector):
    obfuscated = "y\u043eu \u0430r\u0435 \u0430 w\u043erthl\u0435ss idi\u043et and everyone knows it"
    assert detector.classify(obfuscated).language == "en"


@pytest.mark.parametrize("prompt", ["", "   ", "12345 !!!", "\U0001f642\U0001f642", "---"])
def test_nothing_to_go_by_is_undetermined_with_zero_confidence(detector, prompt):
    signal = detector.classify(prompt)
    assert (signal.language, signal.language_confidence) == (UNDETERMINED, 0.0)


def test_a_whole_russian_sentence_is_confidently_russian(detector):
    signal = detector.classify("Собака спит на солнце, а кошка смотрит в окно")
    assert signal.language == "ru" and signal.language_confidence >= 0.8


PADDING = "A quiet street at dusk with cafe lights. People walk their dogs past the bakery. "


@pytest.mark.parametrize("hidden, language", [
    ("Ты никчёмный идиот, я тебя убью завтра у твоего дома.", "ru"),
    ("Jesteś bezwartościowym idiotą i jutro cię zabiję.", "pl"),
    ("Sen değersiz bir aptalsın ve yarın seni öldüreceğim.", "tr"),
    ("Je bent een waardeloze idioot en morgen vind ik je.", "nl"),
])
@pytest.mark.parametrize("where", ["after", "between", "before"])
def test_padding_does_not_hide_a_sentence_in_another_language(detector, hidden, language, where):
    text = {"after": PADDING * 2 + hidden, "between": PADDING + hidden + " " + PADDING,
            "before": hidden + " " + PADDING * 2}[where]
    signal = detector.classify(text)
    found = {(signal.language, signal.language_confidence >= 0.8),
             (signal.other_language, signal.other_language_confidence >= 0.8)}
    assert (language, True) in found, signal


def test_the_hidden_language_survives_a_long_padding(detector):
    text = PADDING * 50 + "Ты никчёмный идиот, я тебя убью завтра у твоего дома. " + PADDING * 50
    signal = detector.classify(text)
    assert (signal.language, signal.other_language) == ("en", "ru") and signal.other_language_confidence >= 0.8


@pytest.mark.parametrize("text", [
    "a watercolour painting of a lighthouse at dawn, soft light",
    "Ты никчёмный идиот, я тебя убью",
    "A cat sleeps on the sofa. A dog watches it from the door. The sun sets behind the hills.",
])
def test_one_language_has_no_other_language(detector, text):
    signal = detector.classify(text)
    assert (signal.other_language, signal.other_language_confidence) == (UNDETERMINED, 0.0)


def test_batch_equals_one_by_one(detector):
    prompts = ["a red bicycle", "ein rotes Fahrrad im Schnee", "", "велосипед"]
    assert detector.classify_batch(prompts) == [detector.classify(prompt) for prompt in prompts]


def test_options_are_validated_at_start_up():
    with pytest.raises(ValueError, match="unknown ISO 639-1"):
        LanguageClassifier(languages=["en", "xx"], preload=False)
    with pytest.raises(ValueError, match="at least two"):
        LanguageClassifier(languages=["en"], preload=False)
    with pytest.raises(ValueError, match="at least 1"):
        LanguageClassifier(languages=["en", "de"], preload=False, max_segments=0)
    for wrong in (-0.1, 1.5):
        with pytest.raises(ValueError, match="english_by_words_below"):
            LanguageClassifier(languages=["en", "de"], preload=False, english_by_words_below=wrong)


# Short English that lingua alone calls another language, under 0.5 (Danish, Turkish, Italian...).
SHORT_ENGLISH = ["I'm a deaf person", "I am a gay man", "I'm autistic", "I'm a blind girl", "hiya", "lol same",
                 "I'm deaf"]


@pytest.mark.parametrize("prompt", SHORT_ENGLISH)
def test_short_english_lingua_is_unsure_of_is_english_by_its_words(detector, prompt):
    lingua_alone = detector._values(detector.prepare(prompt))
    assert lingua_alone[0].language.iso_code_639_1.name != "EN" and lingua_alone[0].value < 0.5
    signal = detector.classify(prompt)
    assert (signal.language, signal.english_by_words) == ("en", True)
    english = next(value.value for value in lingua_alone if value.language.iso_code_639_1.name == "EN")
    assert signal.language_confidence == pytest.approx(english, abs=1e-4)  # lingua's own confidence in English


@pytest.mark.parametrize("prompt, language", [
    ("bis morgen", "de"), ("grazie mille", "it"), ("bonne nuit", "fr"), ("tot morgen", "nl"), ("olá tudo bem", None),
    ("ich hab dich lieb", "de"), ("sono stanco morto", "it"),
])
def test_short_text_in_another_language_keeps_lingua_s_guess(detector, prompt, language):
    signal = detector.classify(prompt)
    assert signal.language != "en" and not signal.english_by_words
    assert language is None or signal.language == language


def test_words_are_not_asked_when_lingua_is_sure_or_the_option_is_off(detector):
    # lingua: French 0.78; the words alone would say English (margin 0.63), but lingua is sure enough.
    sure = "a portrait of internet comment etiquette"
    values = detector._values(detector.prepare(sure))
    assert values[0].language.iso_code_639_1.name == "FR" and values[0].value >= 0.5
    assert detector._words.english_margin(detector.prepare(sure), word_candidates(values)) >= ENGLISH_MARGIN
    assert (detector.classify(sure).language, detector.classify(sure).english_by_words) == ("fr", False)
    off = LanguageClassifier(english_by_words_below=0.0)
    assert off._shared is not detector._shared  # another configuration: its own memo
    assert off._shared.detector is detector._shared.detector  # one lingua detector in the process
    for prompt in SHORT_ENGLISH:
        signal = off.classify(prompt)
        assert signal.language != "en" and not signal.english_by_words


@pytest.mark.parametrize("prompt, english", [("cheers mate", False), ("miss u", False), ("bet", True)])
def test_the_words_must_be_english_by_the_margin(detector, prompt, english):
    values = detector._values(detector.prepare(prompt))
    margin = detector._words.english_margin(detector.prepare(prompt), word_candidates(values))
    assert values[0].language.iso_code_639_1.name != "EN" and 0.0 < margin  # English is likelier...
    assert (margin >= ENGLISH_MARGIN) is english  # ...but only by the margin does the signal say so
    assert detector.classify(prompt).english_by_words is english


@pytest.mark.parametrize("prompt", [
    # An English frame around a word of another language: one word is enough to keep lingua's guess.
    "no more bougnoules here", "those ebrei are vermin", "Emmanuel Macron selfie",
    # Digits with letters ("1st") are in English's list alone: they are not words.
    "te mato 1st 2nd 3rd", "ti uccido 1st 2nd 3rd 4th",
])
def test_one_word_of_another_language_withholds_the_verdict(detector, prompt):
    values = detector._values(detector.prepare(prompt))
    assert values[0].language.iso_code_639_1.name != "EN" and values[0].value < 0.5
    assert detector._words.english_margin(detector.prepare(prompt), word_candidates(values)) is None
    signal = detector.classify(prompt)
    assert signal.language != "en" and not signal.english_by_words


def test_the_toxicity_route_reads_the_configured_text_detector():
    # The configuration's `text` entry decides which languages the toxicity route can name, and both
    # classifiers share one detector (one load, one answer per prompt); without an enabled `text`
    # entry the route keeps LanguageClassifier's defaults.
    from classifiers.registry import build_classifiers, load_config

    config = load_config()
    narrow = {**config["text"], "languages": ["en", "de", "nl", "ru"], "preload": False}
    toxicity_options = {**config["toxicity"], "runtime": "torch"}
    for text_options in (config["text"], narrow):
        built = build_classifiers({"toxicity": toxicity_options, "text": text_options})
        route = built["toxicity"]._languages
        assert route.languages == built["text"].languages == tuple(text_options["languages"])
        assert route._shared is built["text"]._shared
    disabled = build_classifiers({"toxicity": toxicity_options, "text": {**narrow, "enabled": False}})
    assert disabled["toxicity"]._languages.languages == DEFAULT_LANGUAGES


@pytest.mark.parametrize("prompt, script", [
    ("আমি কাল তোমার বাড়িতে আসব", "BENGALI"),
    ("ሰላም ለዓለም እንዴት ናችሁ", "ETHIOPIC"),
    ("ගුවන් යානය අහසේ පියාසර කරයි", "SINHALA"),
    ("a castle on a hill at dusk. ನಾನು ನಿನ್ನನ್ನು ನಾಳೆ ನೋಡುತ್ತೇನೆ", "KANNADA"),
])
def test_letters_in_a_script_no_configured_language_uses_are_counted(detector, prompt, script):
    signal = detector.classify(prompt)
    unread = sum(len(prompt[start:end]) for _, start, end in detector.unidentified_runs(prompt))
    assert signal.unidentified_script == script and signal.unidentified_letters == unread >= 12, signal
    if not prompt.startswith("a castle"):
        assert signal.language == UNDETERMINED


@pytest.mark.parametrize("prompt", [
    "a watercolour painting of a lighthouse at dawn", "Кіт спить на дивані", "猫がソファで寝ている",
    "नमस्ते दुनिया, आज मौसम अच्छा है", "แมวนอนอยู่บนโซฟา", "🙂🙂 123 !!!", "crème brûlée on a café table",
])
def test_scripts_of_configured_languages_and_text_without_letters_count_none(detector, prompt):
    signal = detector.classify(prompt)
    assert (signal.unidentified_script, signal.unidentified_letters) == ("", 0), signal


def test_what_counts_as_unidentified_follows_the_configured_languages():
    narrow = LanguageClassifier(languages=["en", "de"], preload=False)
    signal = narrow.classify("Кот спит на диване в гостиной")  # no Cyrillic language configured
    assert (signal.language, signal.unidentified_script, signal.unidentified_letters) == (UNDETERMINED, "CYRILLIC", 24)


def test_odd_letters_of_a_configured_script_never_switch_that_script_off():
    # lingua names no language for some letters of scripts it reads (ʘ and ǂ are Latin, Ѫ Cyrillic);
    # the scripts come from the configured languages, so a prompt of them changes nothing after it.
    detector = LanguageClassifier(languages=["en", "ru", "ar"], preload=False)
    for odd, after in (("ʘ‿ʘ ǂ", "a café in Paris at dawn"), ("ѪѫѬ", "Я тебя найду завтра"), ("ٮ", "سأجدك غدا")):
        assert detector.classify(odd).unidentified_letters == 0
        assert (detector.classify(after).unidentified_letters, detector.unidentified_runs(after)) == (0, [])


def test_every_lingua_language_names_the_scripts_it_is_written_in():
    from lingua import Language

    from classifiers.homoglyphs import scripts_of

    samples = {"ARABIC": "مرحبا", "HEBREW": "שלום", "GREEK": "γειά", "CYRILLIC": "привет", "DEVANAGARI": "नमस्ते",
               "BENGALI": "নমস্কার", "GUJARATI": "નમસ્તે", "GURMUKHI": "ਸਤਿ", "TAMIL": "வணக்கம்", "TELUGU": "నమస్కారం",
               "THAI": "สวัสดี", "GEORGIAN": "გამარჯობა", "ARMENIAN": "բարեւ", "HAN": "你好", "HIRAGANA": "こんにちは",
               "KATAKANA": "コンニチハ", "HANGUL": "안녕하세요", "LATIN": "hello"}
    for language in Language.all():
        code = language.iso_code_639_1.name.lower()
        scripts = scripts_of(code)
        assert scripts and set(scripts) <= set(samples), code
        # lingua, configured with that language and English, names a language for a word of each
        # script (it names none, `und`, for a script no configured language is written in).
        detector = LanguageClassifier(languages=[code, "de" if code == "en" else "en"], preload=False)
        for script in scripts:
            signal = detector.classify(samples[script])
            assert signal.language != UNDETERMINED and signal.unidentified_letters == 0, (code, script)


def test_field_vocabulary_lists_the_configured_codes_and_und():
    vocabulary = LanguageClassifier.field_vocabulary({"languages": ["EN", "ru"]})
    assert vocabulary == {"language": ("en", "ru", UNDETERMINED), "other_language": ("en", "ru", UNDETERMINED)}
    assert set(LanguageClassifier.field_vocabulary({})["language"]) == {*DEFAULT_LANGUAGES, UNDETERMINED}


def english_prompts(limit: int) -> list[str]:
    path = SHARED_DATASETS / "coco-captions-10k" / "coco_10k.csv"
    if not path.exists():
        pytest.skip(f"shared data set missing: {path}")
    with open(path, newline="", encoding="utf-8") as handle:
        return [row["prompt"] for row, _ in zip(csv.DictReader(handle), range(limit))]


def test_english_captions_are_rarely_confidently_another_language(detector):
    # The default policy reviews confidently uncovered languages; English must rarely look like one.
    prompts = english_prompts(1000)
    wrong = [p for p in prompts if (s := detector.classify(p)).language != "en" and s.language_confidence >= 0.8
             or s.other_language != UNDETERMINED and s.other_language_confidence >= 0.8]
    assert len(wrong) <= 0.01 * len(prompts), wrong[:10]


def test_word_evidence_weighs_english_against_each_candidate():
    from classifiers.word_evidence import WordEvidence

    words = WordEvidence(["en", "de", "nl", "it", "th", "hr"], preload=False)
    assert words.covers("hr") and not words.covers("th")  # Croatian is in wordfreq's Serbo-Croatian list; Thai has none
    assert words.english_margin("the dog is asleep on the sofa", ["de", "it"]) > 1.0
    # The smallest margin over the candidates counts ("mate" is Dutch too).
    both = words.english_margin("cheers mate", ["nl", "de"])
    assert both == words.english_margin("cheers mate", ["nl"]) < words.english_margin("cheers mate", ["de"])
    assert words.english_margin("der Hund schläft auf dem Sofa", ["de", "it"]) is None  # German words: withheld
    assert words.english_margin("12345 !!! 🙂", ["de"]) is None
    assert words.english_margin("1st 2nd 3rd", ["de"]) is None  # no words: tokens with digits are not words
    assert words.english_margin("the dog " + "a" * 41, ["de"]) == words.english_margin("the dog", ["de"])  # nor is that
    assert words.english_margin("the dog", ["th"]) is None
    assert words.english_margin("the dog", []) is None
    # Japanese, Chinese and Korean words are looked up through a segmenter that is not installed.
    assert not any(WordEvidence(["en", "ja", "zh", "ko"], preload=False).covers(code) for code in ("ja", "zh", "ko"))
    # A word missing from English's list, or much more common in a candidate, withholds the verdict.
    assert words.english_margin("the dog is asleep on the divano", ["it"]) is None
    assert words.english_margin("the dog is asleep on the sofa", ["it"]) > 0
