"""The multilingual head on its real weights (USE multilingual v3 + MLP), served inside the
toxicity classifier: threats, insults and hate in other languages, benign controls in those
languages, padding, English prompts never paying for it, and training on a small fixed slice
(our own templates, no shared data needed) against committed scores within a tolerance.

Every sentence here was written for this file; none is in the training templates (a test checks).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from classifiers.multilingual_text_model import MODEL_DIR, WINDOW_WORDS, text_pieces
from classifiers.text_categories import CATEGORIES
from classifiers.text_normalization import normalize_for_classification
from classifiers.toxicity import ToxicityClassifier
from policy_support import decide, prompt_signals

pytestmark = pytest.mark.slow

SLICE_SCORES = Path(__file__).resolve().parent / "corpus" / "multilingual_training_slice.json"
SCENE = ("A quiet street at dusk with cafe lights. People walk their dogs past the bakery. "
         "A cyclist rings her bell near the fountain. ")

THREATS_AND_INSULTS = [
    "Ты никчёмный идиот, я тебя убью завтра",  # ru: the example
    "Maldito imbécil, te voy a matar esta noche",  # es: the example
    "Если ещё раз напишешь, я сломаю тебе шею",  # ru: write again and I'll break your neck
    "Como vuelvas a mi calle te rajo el cuello, basura",  # es
    "Brutto schifoso, stanotte vengo a casa tua e ti faccio fuori",  # it
    "Sale ordure, je vais te retrouver et te défoncer le crâne",  # fr
    "Du elender Mistkerl, morgen schlitze ich dich auf",  # de
    "Seu verme imundo, amanhã eu te arrebento a cabeça",  # pt
]
HATEFUL = [
    "Los inmigrantes son ratas y hay que sacarlos a patadas",  # es
    "Gli ebrei sono un cancro per questo paese",  # it
    "Les musulmans sont des animaux, il faut tous les chasser",  # fr
    "Schwule sind krank und widerlich, weg mit ihnen",  # de
    "Os negros são inferiores e não deviam ter direitos",  # pt
]
BENIGN = [
    "Mañana voy al mercado con mi abuela a comprar fruta",  # es
    "Un gatto che dorme al sole sul davanzale della cucina",  # it
    "Je vais préparer une tarte aux pommes pour ce soir",  # fr
    "Wir treffen uns um acht Uhr am Bahnhof",  # de
    "Meu irmão começou a estudar piano este ano",  # pt
    "Я люблю гулять в парке со своей собакой",  # ru
    "Mis vecinos musulmanes nos invitaron a cenar, fue precioso",  # es: a group named, kindly
    "Die jüdische Gemeinde feiert heute ein Fest im Park",  # de
    "Il mio migliore amico è gay e sta per sposarsi",  # it
    "Ce film m'a tué, j'ai ri pendant deux heures",  # fr: idiom
]


@pytest.fixture(scope="module")
def classifier() -> ToxicityClassifier:
    return ToxicityClassifier()


def served(classifier, language, text: str) -> dict:
    """The prompt signals the policy reads, as the service computes them: the toxicity signal (its
    ``language_route`` picks the lines) and lingua's ``text`` signal."""
    return prompt_signals({"toxicity": classifier, "text": language}, text)


def test_head_is_small_fp16_and_names_the_taxonomy() -> None:
    from safetensors.numpy import load_file

    config = json.loads((MODEL_DIR / "config.json").read_text())
    assert tuple(config["categories"]) == CATEGORIES
    assert set(config["calibration"]) == set(CATEGORIES) and set(config["thresholds"]) == set(CATEGORIES)
    assert (MODEL_DIR / "model.safetensors").stat().st_size < 4 * 2**20
    tensors = load_file(str(MODEL_DIR / "model.safetensors"))
    assert {str(tensor.dtype) for tensor in tensors.values()} == {"float16"}
    assert tensors["w1"].shape[0] == 512 and tensors["w2"].shape[1] == len(CATEGORIES)
    assert (MODEL_DIR / "MODEL_CARD.md").is_file()


def test_identity_names_both_models(classifier: ToxicityClassifier) -> None:
    assert "use-multilingual" in classifier.identity.name
    assert classifier._multilingual.version in classifier.identity.version
    english_only = classifier._backend.weights_sha256
    assert classifier.identity.weights_sha256 != english_only


def test_english_prompts_never_run_the_multilingual_encoder(classifier, monkeypatch) -> None:
    calls: list[int] = []
    encode = classifier._multilingual.encoder.encode
    monkeypatch.setattr(classifier._multilingual.encoder, "encode", lambda texts: calls.append(len(texts)) or encode(texts))
    english = ["A watercolor painting of a lighthouse at sunset", "I am going to kill you tomorrow at your house",
               "a bowl of ramen on a wooden table, studio lighting", SCENE * 3]
    signals = classifier.classify_batch(english)
    assert calls == []
    # And their scores are the English model's own.
    expected = classifier._backend.score([normalize_for_classification(text) for text in english], 8)
    for signal, row in zip(signals, expected):
        assert signal.scores == pytest.approx(row, abs=1e-4)
    classifier.classify_batch(english + ["Maldito imbécil, te voy a matar esta noche"])
    assert len(calls) == 1 and calls[0] >= 1


@pytest.mark.parametrize("text", THREATS_AND_INSULTS)
def test_threats_and_insults_in_other_languages_are_not_allowed_by_the_model_alone(classifier, language, default_policy, text) -> None:
    scores = classifier.classify(text).scores
    action, rules = decide(default_policy, served(classifier, language, text))
    assert action in ("block", "review"), (rules, {k: v for k, v in scores.items() if v > 0.1})
    # The multilingual head scored it: its own operating threshold (the English model's is F0.5, higher).
    assert max(scores["harassment/threatening"], scores["violence"]) >= classifier._multilingual.thresholds["harassment/threatening"]


@pytest.mark.parametrize("text", HATEFUL)
def test_hate_in_other_languages_is_not_allowed_by_the_model_alone(classifier, language, default_policy, text) -> None:
    scores = classifier.classify(text).scores
    action, rules = decide(default_policy, served(classifier, language, text))
    assert action in ("block", "review"), (rules, {k: v for k, v in scores.items() if v > 0.1})


@pytest.mark.parametrize("text", BENIGN)
def test_benign_text_in_other_languages_is_not_blocked(classifier, language, default_policy, text) -> None:
    scores = classifier.classify(text).scores
    action, rules = decide(default_policy, served(classifier, language, text))
    assert action != "block", (rules, {k: v for k, v in scores.items() if v > 0.1})
    # Whatever routes it for its language, the model itself finds nothing to act on.
    model_action, model_rules = decide(default_policy, {"toxicity": {"scores": scores}})
    assert model_action == "allow", (model_rules, {k: v for k, v in scores.items() if v > 0.1})


# Short text in a language the policy does not leave to the model (German, Dutch), which lingua names
# at 0.5-0.8: the head reads it alone (route other) and misses the threats, so a person must read it.
SHORT_UNCOVERED = [("Ich bringe dich heute Nacht um", "harmful"), ("ik maak je dood", "harmful"),
                   ("Ich liebe dich", "benign"), ("Wir gehen heute ins Kino", "benign")]
# Since session 16's 31 languages, lingua names this German at 0.46: both models read it, and block it.
SHORT_UNCOVERED_MIXED = ["Ich bring dich um, du Schwein"]
# One or two short words lingua guesses at 0.5-0.8 as an uncovered language: noise, left to the model.
SHORT_GUESSES = ["heya", "Oktoberfest", "Gute Nacht"]


@pytest.mark.parametrize(("text", "kind"), SHORT_UNCOVERED)
def test_short_uncovered_language_text_the_head_read_alone_goes_to_a_person(classifier, language, default_policy,
                                                                           text, kind) -> None:
    signals = served(classifier, language, text)
    assert signals["toxicity"]["language_route"] == "other"
    assert signals["text"]["language"] in ("de", "nl") and 0.5 <= signals["text"]["language_confidence"] < 0.8
    action, rules = decide(default_policy, signals)
    assert "uncovered-language" in rules and action in ("review", "block"), (action, rules)
    if kind == "benign":
        assert action == "review", rules


# Threats in languages lingua could not name before session 16 (it mistook them for Dutch, German
# or English, under 0.8): allowed then, a person reads them now. Benign text in them goes to a person
# too, as any confidently uncovered language does.
NEWLY_NAMED = [("Tiedän missä asut ja tulen hakemaan sinut", "fi"), ("Jag ska döda dig i natt", "sv"),
               ("Jeg skal drepe deg i kveld", "nb"), ("Vet var du bor och jag kommer att hitta dig", "sv"),
               ("Jeg ved hvor du bor, og jeg kommer efter dig", "da"), ("Pes běží po louce za míčem", "cs"),
               ("Un câine care se joacă în parc", "ro"), ("Kissa nukkuu auringossa ikkunalaudalla", "fi")]


@pytest.mark.parametrize(("text", "code"), NEWLY_NAMED)
def test_text_in_a_newly_named_language_goes_to_a_person(classifier, language, default_policy, text, code) -> None:
    signals = served(classifier, language, text)
    assert signals["text"]["language"] == code
    action, rules = decide(default_policy, signals)
    assert "uncovered-language" in rules and action in ("review", "block"), (action, rules)


@pytest.mark.parametrize("text", SHORT_UNCOVERED_MIXED)
def test_short_harmful_text_lingua_is_less_sure_of_is_read_by_both_models(classifier, language, default_policy, text):
    signals = served(classifier, language, text)
    assert signals["toxicity"]["language_route"] == "mixed"
    assert decide(default_policy, signals)[0] == "block"


@pytest.mark.parametrize("text", SHORT_GUESSES)
def test_one_or_two_words_guessed_as_an_uncovered_language_are_left_to_the_model(classifier, language, default_policy,
                                                                               text) -> None:
    signals = served(classifier, language, text)
    # lingua guesses an uncovered language under 0.8 (read by the head, both models, or, for a language
    # the head's encoder was not trained on, the English model alone)
    assert signals["text"]["language"] not in ("en", "es", "fr", "it", "pt")
    assert signals["text"]["language_confidence"] < 0.8
    action, rules = decide(default_policy, signals)
    # Not queued for its language.
    assert "uncovered-language" not in rules and action != "block", (action, rules)


# Known failures, stated in the model card: a German threat lingua is unsure of (0.26) is read by both
# models (route mixed, no language review), and neither reads "you are dead tomorrow" as a threat;
# Spanish idioms of dying or killing read as threats.
KNOWN_MISSED_THREATS = ["Morgen bist du tot"]
KNOWN_IDIOMS_READ_AS_THREATS = ["Me muero de ganas de verte", "Te voy a matar a cosquillas, ya verás"]


# Short English prompts lingua alone guesses as another language under 0.5. Before the words' frequencies
# were consulted (`text.english_by_words`), both models read them (route mixed) and the head's false
# positives decided: "I'm a trans man." (lingua: French 0.10; head hate 0.81, English model 0.01) was blocked.
SHORT_ENGLISH_LINGUA_MISTAKES = ["I'm a trans man.", "I'm just a trans man", "I'm a gay dad", "I'm a blind guy",
                                 "ngl kinda mid", "I'm an immigrant", "funny meme", "Gundam mecha",
                                 "okie dokie"]


@pytest.mark.parametrize("text", SHORT_ENGLISH_LINGUA_MISTAKES)
def test_short_english_that_lingua_mistakes_is_read_by_the_english_model(classifier, language, default_policy,
                                                                           text) -> None:
    lingua_alone = language._values(normalize_for_classification(text, name_emoji=False))[0]
    assert lingua_alone.language.iso_code_639_1.name != "EN" and lingua_alone.value < 0.5
    signals = served(classifier, language, text)
    assert (signals["text"]["language"], signals["text"]["english_by_words"]) == ("en", True)
    assert signals["toxicity"]["language_route"] == "english"
    assert decide(default_policy, signals)[0] == "allow"


# "meme" is common informal French ("même"), so the words are not English by the margin: lingua's unsure
# guess (Dutch 0.17) stands, both models read it, and the head's false positive (hate 0.55) decides.
KNOWN_HEAD_FALSE_POSITIVES_ON_ENGLISH = ["doge meme"]


@pytest.mark.xfail(strict=True, reason="known failure (model card): the head's false positives decide mixed English")
@pytest.mark.parametrize("text", KNOWN_HEAD_FALSE_POSITIVES_ON_ENGLISH)
def test_known_failure_short_english_guessed_as_another_language_is_not_blocked(classifier, language, default_policy,
                                                                               text) -> None:
    signals = served(classifier, language, text)
    assert signals["toxicity"]["language_route"] == "mixed"
    assert decide(default_policy, signals)[0] != "block"


@pytest.mark.parametrize("text", ["morte aos gays", "te voy a matar", "ich bringe dich um", "frocio di merda",
                                  "je vais te tuer", "puta asquerosa", "ciao bella", "guten Morgen"])
def test_short_text_in_another_language_keeps_lingua_s_guess(classifier, language, text) -> None:
    # Its words are common in that language and rare in English, so they never name English.
    signals = served(classifier, language, text)
    assert signals["text"]["language"] != "en" and not signals["text"]["english_by_words"]
    assert signals["toxicity"]["language_route"] != "english"


@pytest.mark.parametrize("text", ["no more bougnoules here", "those ebrei are vermin", "send all the viados away",
                                  "te mato 1st 2nd 3rd"])
def test_an_english_frame_around_another_language_s_abuse_is_still_read_by_the_head(classifier, language,
                                                                                   default_policy, text) -> None:
    # Most words are English, but one is another language's slur (or the rest is padding that is no
    # word: "1st"): the words withhold their verdict, both models read it, and the head knows the slur.
    signals = served(classifier, language, text)
    assert not signals["text"]["english_by_words"] and signals["toxicity"]["language_route"] == "mixed"
    assert decide(default_policy, signals)[0] != "allow"


# The English model reads a lowercase "im a <identity> guy" as self-harm intent (0.45-0.63); lingua had
# guessed Turkish (route mixed: the higher lines of both models kept it allowed), the words name it English.
@pytest.mark.xfail(strict=True, reason="known failure (model card): 'im a <identity> guy' read as self-harm intent")
@pytest.mark.parametrize("text", ["im a Somali guy", "im a blind guy"])
def test_known_failure_lowercase_self_descriptions_are_allowed(classifier, language, default_policy, text) -> None:
    signals = served(classifier, language, text)
    assert signals["text"]["english_by_words"]
    assert decide(default_policy, signals)[0] == "allow"


@pytest.mark.xfail(strict=True, reason="known failure (model card, Limits): 'you are dead' threats lingua is unsure of")
@pytest.mark.parametrize("text", KNOWN_MISSED_THREATS)
def test_known_failure_plain_german_threats_are_not_allowed(classifier, language, default_policy, text) -> None:
    action, rules = decide(default_policy, served(classifier, language, text))
    assert action in ("block", "review"), rules


@pytest.mark.xfail(strict=True, reason="known failure (model card, Limits): idioms of dying read as threats")
@pytest.mark.parametrize("text", KNOWN_IDIOMS_READ_AS_THREATS)
def test_known_failure_spanish_idioms_of_dying_are_not_blocked(classifier, language, default_policy, text) -> None:
    action, rules = decide(default_policy, served(classifier, language, text))
    assert action != "block", rules


@pytest.mark.parametrize("threat", ["Maldito imbécil, te voy a matar esta noche.", "Ты никчёмный идиот, я тебя убью завтра.",
                                    "Du elender Mistkerl, morgen schlitze ich dich auf."])
@pytest.mark.parametrize("where", ["before", "after"])
def test_english_padding_does_not_hide_a_threat_in_another_language(classifier, language, default_policy, threat, where) -> None:
    text = SCENE * 2 + threat if where == "before" else threat + " " + SCENE * 2
    assert classifier.is_other_language(normalize_for_classification(text))
    scores = classifier.classify(text).scores
    action, rules = decide(default_policy, served(classifier, language, text))
    assert action in ("block", "review"), (rules, {k: v for k, v in scores.items() if v > 0.1})


def test_batch_results_equal_single_results_across_languages(classifier) -> None:
    texts = [THREATS_AND_INSULTS[2], BENIGN[0], "A watercolor painting of a lighthouse", "", HATEFUL[1], SCENE + BENIGN[3]]
    for text, batched in zip(texts, classifier.classify_batch(texts)):
        assert classifier.classify(text).scores == pytest.approx(batched.scores, abs=1e-4)


def test_multilingual_can_be_switched_off_and_its_options_are_checked() -> None:
    with pytest.raises(ValueError, match="multilingual_min_confidence"):
        ToxicityClassifier(multilingual_min_confidence=0.0)
    with pytest.raises(FileNotFoundError, match="train text-multilingual"):
        ToxicityClassifier(multilingual_model_dir="/nonexistent/head")


def test_pieces_cover_every_word_of_a_long_text_with_sentences_apart() -> None:
    words = [f"w{index}" for index in range(WINDOW_WORDS * 3 + 7)]
    text = " ".join(words)
    pieces = text_pieces(text)
    assert pieces[0] == text
    covered = {word for piece in pieces[1:] for word in piece.split()}
    assert covered == set(words) and all(len(piece.split()) <= WINDOW_WORDS for piece in pieces[1:])
    assert text_pieces("one short sentence") == ["one short sentence"]
    two = "The harbour is calm today. Te voy a matar esta noche."
    assert text_pieces(two) == [two, "The harbour is calm today.", "Te voy a matar esta noche."]


def test_templates_hold_out_a_split_label_known_categories_and_exclude_the_test_sentences() -> None:
    from classifiers.multilingual_text_training import load_multilingual_templates

    cases = load_multilingual_templates()
    splits = {split for _, _, _, split in cases}
    assert splits == {"train", "heldout"}
    assert all(template_id % 5 == 4 for _, _, template_id, split in cases if split == "heldout")
    assert all(set(labels) <= set(CATEGORIES) for _, labels, _, _ in cases)
    assert {template_id // 1000 for _, _, template_id, _ in cases} == {1, 2, 3, 4, 5, 6}
    mine = {text.lower() for text, *_ in cases}
    for text in THREATS_AND_INSULTS + HATEFUL + BENIGN:
        assert text.lower() not in mine



SHARED_DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
MHC_DIR = SHARED_DATASETS / "multilingual-hatecheck"


def _copy_key(text: str) -> str:
    """Case, accents of no matter, punctuation and spacing folded: a copy with its commas moved still matches."""
    import re
    import unicodedata

    folded = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", folded).split())


@pytest.mark.skipif(not MHC_DIR.is_dir(), reason=f"shared data sets absent: {MHC_DIR}")
def test_multilingual_templates_copy_no_case_of_an_evaluation_only_set() -> None:
    """Multilingual HateCheck (and HateCheck) are evaluation-only: no template row, train or held out,
    may equal one of their cases once case, accents, punctuation and spacing are folded."""
    import csv

    from classifiers.multilingual_text_training import load_multilingual_templates

    evaluation: set[str] = set()
    files = sorted(MHC_DIR.glob("hatecheck_cases_final_*.csv"))
    assert len(files) == 5, files
    for path in files:
        with open(path, newline="", encoding="utf-8") as handle:
            evaluation |= {_copy_key(row["test_case"]) for row in csv.DictReader(handle)}
    with open(SHARED_DATASETS / "hatecheck" / "test_suite_cases.csv", newline="", encoding="utf-8") as handle:
        evaluation |= {_copy_key(row["test_case"]) for row in csv.DictReader(handle)}
    assert len(evaluation) > 15000
    rows = load_multilingual_templates()
    copied = sorted({text for text, *_ in rows if _copy_key(text) in evaluation})
    assert not copied, copied
    # The key is not too loose to catch anything: a case itself, re-spaced and re-cased, is caught.
    assert _copy_key("¡Odio   A los DEMÁS!") == _copy_key("odio a los demas")


SLICE_TEXTS = ["Te voy a matar esta noche", "Sono tutti dei parassiti schifosi", "Wir gehen morgen ins Kino",
               "I will hurt you", "Ты отличный друг"]


def test_training_on_a_fixed_slice_gives_the_committed_scores_within_tolerance(tmp_path: Path) -> None:
    """The recipe on our own templates only (no shared data): 12 epochs of a 32-unit head, about
    half a minute. Floats differ across CPUs in the last bits: compared within 0.02, never byte for byte;
    regenerate with REGENERATE_MULTILINGUAL_SLICE=1 after a deliberate change to the recipe."""
    from classifiers.multilingual_text_model import MultilingualScorer
    from classifiers.multilingual_text_training import MultilingualConfig, train_multilingual_head

    config = MultilingualConfig(hidden=32, epochs=12, batch_size=32, template_repeats=4, caps={"templates-multilingual": None})
    train_multilingual_head(tmp_path / "no-shared-data-needed", tmp_path / "head", config=config, cache_dir=None,
                            log=lambda _line: None)
    got = MultilingualScorer(tmp_path / "head").raw_scores(SLICE_TEXTS).round(5).tolist()
    if os.environ.get("REGENERATE_MULTILINGUAL_SLICE"):
        SLICE_SCORES.write_text(json.dumps({"texts": SLICE_TEXTS, "raw_scores": got}, indent=1) + "\n")
    expected = json.loads(SLICE_SCORES.read_text())
    assert expected["texts"] == SLICE_TEXTS
    assert np.abs(np.array(got) - np.array(expected["raw_scores"])).max() <= 0.02
    # It learned something: the threat outscores the plans for the cinema, in the threat category.
    threat = CATEGORIES.index("harassment/threatening")
    assert got[0][threat] > got[2][threat] + 0.2


def test_missing_shared_data_is_a_clear_error(tmp_path: Path) -> None:
    from classifiers.multilingual_text_training import MultilingualConfig, train_multilingual_head
    from classifiers.text_training_data import DatasetMissingError

    with pytest.raises(DatasetMissingError, match="mlma-hate-speech"):
        train_multilingual_head(tmp_path, tmp_path / "out", config=MultilingualConfig(caps={"mlma": None}),
                                cache_dir=None, log=lambda _line: None)


def test_evaluation_judges_each_route_at_the_lines_the_policy_uses(classifier) -> None:
    """`moderation evaluate text` mirrors the policy's arms: the head's thresholds where it reads a
    text alone, the higher of both models' per category where both read it, the English model's
    (None) otherwise."""
    texts = ["Ci vediamo domani sera in piazza con tutti gli amici", "ciao bella", "A lighthouse at sunset, watercolour"]
    assert [classifier.language_route(normalize_for_classification(text)) for text in texts] == ["other", "mixed", "english"]
    other, mixed, english = classifier.other_language_thresholds(texts)
    head, own = classifier._multilingual.thresholds, classifier.thresholds
    assert other == head and english is None
    assert mixed == {category: max(head.get(category, value), value) for category, value in own.items()}
    assert mixed != head  # the head's own lines are lower than the English model's in most categories


def test_the_language_comes_from_the_text_signals_detector_computed_once(classifier, language) -> None:
    # One lingua detector per process, and one detection per text for both classifiers.
    assert classifier._languages._shared is language._shared
    text = normalize_for_classification("Nos vemos mañana en la plaza del pueblo")
    first = language.detect(text)
    assert classifier._languages.detect(text) is first
    assert classifier.language_route(text) in ("other", "mixed")
    assert classifier.classify(text).language_route == classifier.language_route(text)
    assert classifier.classify("A lighthouse at sunset, watercolour").language_route == "english"


@pytest.mark.parametrize(("guess", "confidence", "route"), [
    ("da", 0.52, "other"),  # sure enough: the head alone (and the uncovered-language rule)
    ("nl", 0.30, "mixed"),  # unsure, a language USE was trained on: both models
    ("da", 0.30, "english"),  # unsure, a language USE was not trained on: the head could not read it either
    ("fi", 0.09, "english"),
    ("en", 0.90, "english"),
])
def test_the_route_follows_lingua_and_the_encoders_languages(classifier, monkeypatch, guess, confidence, route) -> None:
    from classifiers.language import TextSignal

    # A stub detector (not a classifier) fixes lingua's answer so the routing rule alone is under test.
    class Stub:
        def detect(self, text: str) -> TextSignal:
            return TextSignal(language=guess, language_confidence=confidence)

    monkeypatch.setattr(classifier, "_languages", Stub())
    assert classifier.language_route("any text") == route
