"""The text safety model on its real weights: taxonomy, windows, the issue's
examples with siblings of our own, training on a small fixed slice (against
committed scores, within a tolerance), and loading a Hugging Face directory
(a tiny, randomly initialised FAKE model built here)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from classifiers.base import sha256_of_files
from classifiers.text_categories import CATEGORIES
from classifiers.text_training_data import load_templates_module
from classifiers.text_model import (
    MODEL_DIR, WINDOW_STRIDE, WINDOW_TOKENS, clause_windows, sentence_windows, token_windows,
)
from classifiers.toxicity import ToxicityClassifier, ToxicitySignal, bundled_encoder_path, bundled_weight_files
from policy_support import decide as policy_decision, prompt_signals

pytestmark = pytest.mark.slow

BENIGN = "A watercolor painting of a lighthouse at sunset, highly detailed."
SHARED_DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
needs_datasets = pytest.mark.skipif(not SHARED_DATASETS.is_dir(), reason=f"shared data sets absent: {SHARED_DATASETS}")
SLICE_SCORES = Path(__file__).resolve().parent / "corpus" / "text_training_slice.json"
SCENE = (
    "A quiet harbour at dawn, fishing boats rocking gently on grey water, gulls circling over the pier, "
    "an old lighthouse with peeling white paint, nets drying on wooden posts, a bakery opening its shutters, "
    "the smell of fresh bread drifting across the cobbled square, children walking to school with bright backpacks, "
    "a cat asleep on a windowsill full of geraniums, soft mist over the hills behind the town, "
    "warm light on the church tower, a bicycle leaning against a blue door, painted in soft watercolours."
)


@pytest.fixture(scope="module")
def classifier() -> ToxicityClassifier:
    return ToxicityClassifier()


def decide(classifier, policy, text: str, language) -> tuple[str, list[str], dict[str, float]]:
    """The default policy's action on the prompt's toxicity signal (its route included) and lingua's
    ``text`` signal (``language``: the ``text`` classifier), as the service computes them; the rules
    that fired, and the scores."""
    signals = prompt_signals({"toxicity": classifier, "text": language}, text)
    return (*policy_decision(policy, signals), signals["toxicity"]["scores"])


def scores(classifier: ToxicityClassifier, text: str) -> dict[str, float]:
    return classifier.classify(text).scores


def test_scores_every_category_of_the_taxonomy(classifier: ToxicityClassifier) -> None:
    signal = classifier.classify(BENIGN)
    assert isinstance(signal, ToxicitySignal)
    assert set(signal.scores) == set(CATEGORIES)
    assert all(0.0 <= value <= 1.0 for value in signal.scores.values())
    for category in CATEGORIES:
        assert signal.scores[category] < classifier.thresholds[category], category


def test_empty_and_whitespace_text_is_benign(classifier: ToxicityClassifier) -> None:
    for text in ("", "   ", "\u200b"):
        assert classifier.classify(text).scores == {category: 0.0 for category in CATEGORIES}
    assert classifier.classify_batch([]) == []


def test_batch_results_equal_single_results(classifier: ToxicityClassifier) -> None:
    texts = ["I will kill you", BENIGN, "", SCENE * 3, "you are a worthless idiot"]
    # Padding moves raw scores in their last bits, and near 1 the calibration magnifies that
    # (0.99365 alone against 0.99385 batched): the same 1e-3 as tests/test_batching.py.
    for text, batched in zip(texts, classifier.classify_batch(texts)):
        assert classifier.classify(text).scores == pytest.approx(batched.scores, abs=1e-3)


def test_identity_covers_the_encoder_and_the_fine_tuned_weights(classifier: ToxicityClassifier) -> None:
    identity = classifier.identity
    assert re.fullmatch(r"[0-9a-f]{64}", identity.weights_sha256)
    from classifiers.multilingual_text_model import weight_files as multilingual_weight_files
    from classifiers.toxicity import combined_weights_sha256

    assert identity.weights_sha256 == combined_weights_sha256(sha256_of_files(
        bundled_encoder_path() / "model.safetensors", MODEL_DIR / "model.safetensors", MODEL_DIR / "config.json"
    ), sha256_of_files(*multilingual_weight_files()))
    assert bundled_weight_files()[1] == MODEL_DIR / "model.safetensors"


def test_shipped_weights_are_small_and_fp16() -> None:
    from safetensors import safe_open

    assert (MODEL_DIR / "model.safetensors").stat().st_size < 40 * 2**20
    with safe_open(str(MODEL_DIR / "model.safetensors"), "pt") as handle:
        assert {str(handle.get_tensor(name).dtype) for name in handle.keys()} == {"torch.float16"}


# --- windows: the whole prompt is read ------------------------------------------


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 200, 1000, 2049])
def test_windows_cover_every_token_within_the_model_size(length: int) -> None:
    ids = list(range(1000, 1000 + length))
    windows = token_windows(ids, 101, 102)
    covered = {token for window in windows for token in window[1:-1]}
    assert covered == set(ids)
    assert all(window[0] == 101 and window[-1] == 102 and len(window) <= WINDOW_TOKENS for window in windows)
    # Overlap: any run of (window body - stride) consecutive tokens sits whole inside one window.
    overlap = WINDOW_TOKENS - 2 - WINDOW_STRIDE
    for start in range(0, max(0, length - overlap), 7):
        run = set(ids[start : start + overlap])
        assert any(run <= set(window) for window in windows)


def test_a_text_longer_than_one_window_also_has_each_sentence_alone() -> None:
    end, body = 5, WINDOW_TOKENS - 2
    short = [1, 2, 3, end, 7, 8, 9, end]
    assert sentence_windows(short, {end}, 101, 102) == []  # one window reads it whole already
    sentences = [[10, 11, 12, end], [20, end], [30] * 40 + [end], [40] * (body + 3) + [end], [50, 51, 52, 53]]
    ids = [token for sentence in sentences for token in sentence]
    got = sentence_windows(ids, {end}, 101, 102)
    # A one-word sentence is too short to mean much alone; the over-long one is left to token_windows;
    # the last sentence needs no end mark.
    assert got == [[101, *sentences[0], 102], [101, *sentences[2], 102], [101, *sentences[4], 102]]
    assert sentence_windows(sentences[0] + sentences[2] + ids, {end}, 101, 102) == got  # repeats read once


def test_each_clause_of_a_tag_list_is_also_read_alone() -> None:
    comma, end = 6, 5
    tags = [[1], [2, 3], [4, 4], [7]]  # short tags: not read alone
    clause = [30, 31, 32, 33]
    ids = [*tags[0], comma, *clause, comma, *tags[1], comma, *tags[2], comma, *tags[3], end, 40, 41, 42]
    got = clause_windows(ids, {comma, end}, 101, 102)
    assert got == [[101, *clause, 102], [101, 40, 41, 42, 102]]
    assert clause_windows([30, 31, 32, 33], {comma}, 101, 102) == []  # one clause: the text's own window
    # Prose with commas is no tag list: its clauses need their context.
    prose = [30, 31, 32, comma, 33, 34, 35, comma, 36, 37, 38, comma, 8, 9]
    assert clause_windows(prose, {comma}, 101, 102) == []
    repeated = [*clause, comma, 1, comma, *clause, comma, 2, comma, 3]
    assert clause_windows(repeated, {comma}, 101, 102) == [[101, *clause, 102]]  # read once


class WordTokenizer:
    """A stand-in with the real tokenizer's interface (no model): each word is its own integer token id,
    and token 5 ends a sentence or a clause."""

    cls_token_id, sep_token_id = 101, 102

    def __call__(self, texts, **_):
        return {"input_ids": [[int(word) for word in text.split()] for text in texts]}

    def convert_tokens_to_ids(self, tokens):
        return [5 for _ in tokens]


def test_windows_are_read_once_and_a_text_past_the_token_budget_gets_no_overlap() -> None:
    from classifiers.text_model import TOKEN_BUDGET, windowed_inputs

    repeated = " ".join(["1003"] * 500)  # every window the same
    windows, owners = windowed_inputs(WordTokenizer(), [repeated])
    assert len(windows) == 1  # 15 identical token windows, read once
    varied = " ".join(str(1000 + index) for index in range(TOKEN_BUDGET + 1))
    windows, owners = windowed_inputs(WordTokenizer(), [varied])
    assert len(windows) == -(-(TOKEN_BUDGET + 1) // (WINDOW_TOKENS - 2))  # non-overlapping, every token read


def test_hundreds_of_tiny_sentences_share_short_windows() -> None:
    from classifiers.text_model import MAX_EXTRA_WINDOWS, PACKED_TOKENS, packed_windows, windowed_inputs

    text = " ".join(f"{1000 + index} {2000 + index} {3000 + index} 5" for index in range(600))
    windows, _ = windowed_inputs(WordTokenizer(), [text])
    assert len(windows) < 2 * MAX_EXTRA_WINDOWS  # 600 sentences alone would be 600 more windows
    packed = packed_windows([[101, 1, 2, 3, 102]] * 25 + [[101, *range(40), 102]], 101, 102)
    assert all(len(window) - 2 <= PACKED_TOKENS for window in packed[:-1]) and len(packed[-1]) == 42
    assert sum(len(window) - 2 for window in packed) == 25 * 3 + 40  # every token still read


THREAT = "I am going to kill you tomorrow at your house."
HATEFUL = "Muslims are a disease and have no place in this country."


@pytest.mark.parametrize("where", ["before", "after", "middle"])
def test_benign_padding_neither_dilutes_nor_hides_a_harmful_sentence(classifier, default_policy, language, where: str) -> None:
    assert decide(classifier, default_policy, THREAT, language)[0] == "block"
    assert decide(classifier, default_policy, SCENE, language)[0] == "allow"
    half = SCENE.index(", a bakery")
    text = {"before": f"{SCENE} {THREAT}", "after": f"{THREAT} {SCENE}", "middle": f"{SCENE[:half]}. {THREAT} {SCENE[half + 2:]}"}[where]
    action, rules, result = decide(classifier, default_policy, text, language)
    assert action == "block" and "threat" in rules, result


def test_text_past_the_first_window_is_read(classifier, default_policy, language) -> None:
    long_text = " ".join([SCENE] * 4 + [THREAT] + [SCENE])
    assert len(classifier._backend.tokenizer(long_text)["input_ids"]) > 6 * WINDOW_TOKENS
    assert decide(classifier, default_policy, long_text, language)[0] == "block"
    assert decide(classifier, default_policy, " ".join([SCENE] * 6), language)[0] == "allow"


# --- the examples, each with siblings of our own ------------------------


@pytest.mark.parametrize("text", [
    THREAT,
    "I'm going to stab you after work when you walk to your car.",
    "I know where you live, and tonight I will burn your house down with you in it.",
    "Next time I see you I will break every bone in your body.",
])
def test_plain_english_threats_are_blocked(classifier, default_policy, language, text: str) -> None:
    action, rules, result = decide(classifier, default_policy, text, language)
    assert action == "block" and "threat" in rules, result


@pytest.mark.parametrize("text", [
    HATEFUL,
    "Jews are parasites who control the banks and poison everything they touch.",
    "Hindus are filthy animals, all of them.",
    "You can never trust a Muslim, they are all terrorists at heart.",
])
def test_hateful_generalisations_about_religious_groups_are_not_allowed(classifier, default_policy, language, text: str) -> None:
    action, _rules, result = decide(classifier, default_policy, text, language)
    assert result["hate"] >= classifier.thresholds["hate"]
    assert action in ("block", "review"), result


@pytest.mark.parametrize("text", [
    "I am a gay man", "I am a proud lesbian and I love my wife", "I don't hate gay people at all",
    "I am a man", "As a Muslim woman I pray five times a day", "I'm a trans woman and a nurse",
    "Gay people deserve the same rights as everyone else", "Trans people deserve to feel safe at work",
    "I have a lot of respect for Jewish culture", "Immigrants are not criminals",
])
def test_identity_statements_and_negated_hate_are_allowed(classifier, default_policy, language, text: str) -> None:
    action, rules, result = decide(classifier, default_policy, text, language)
    assert action == "allow", (rules, result)


# Self-descriptions with a second clause: an identity word beside words for everyone or anything
# reads as a generalisation about the group (model card, known failure modes). The English model
# reads these (lingua is sure they are English); the same opening with other clauses is allowed.
KNOWN_SELF_DESCRIPTIONS_READ_AS_HATE = [
    "I'm a Sikh, I can't speak for everyone",  # English hate 0.98
    "I'm a Sikh, ask me anything",  # 0.95; "I'm a nurse, ask me anything" 0.05
    "I'm only a gay man, I can't speak for everyone",  # 0.77
]


@pytest.mark.parametrize("text", [
    "I'm a Sikh", "I'm a Sikh and happy to answer questions", "I'm a Muslim, I love my family",
    "I'm a trans woman, I work as a nurse", "I'm an immigrant, I work two jobs", "I'm a nurse, ask me anything",
    "As a Sikh I can only speak for myself",
])
def test_self_descriptions_with_a_second_clause_are_allowed(classifier, default_policy, language, text: str) -> None:
    action, rules, result = decide(classifier, default_policy, text, language)
    assert action == "allow", (rules, result)


@pytest.mark.xfail(strict=True, reason="known failure (model card): identity beside 'everyone'/'anything' read as hate")
@pytest.mark.parametrize("text", KNOWN_SELF_DESCRIPTIONS_READ_AS_HATE)
def test_known_failure_self_descriptions_beside_a_quantifier_are_not_blocked(classifier, default_policy, language,
                                                                           text: str) -> None:
    assert classifier.classify(text).language_route == "english"
    action, rules, result = decide(classifier, default_policy, text, language)
    assert action != "block", (rules, result)


@pytest.mark.parametrize("text", ["I am a gay man", "I'm a blind girl", "I'm a gay man", "I'm a lesbian mum"])
def test_short_english_lingua_is_unsure_of_is_allowed(classifier, default_policy, language, text: str) -> None:
    """lingua alone guesses these at about 0.1-0.2 as another language (Turkish, French, Indonesian).
    Both models used to read them (route ``mixed``), and the head's hate score sent "I'm a gay man" to
    review; now their words name them English (``text.english_by_words``) and the English model reads them."""
    lingua_alone = language._values(language.prepare(text))[0]
    assert lingua_alone.language.iso_code_639_1.name != "EN" and lingua_alone.value < 0.5
    assert language.classify(text).english_by_words
    assert classifier.classify(text).language_route == "english"
    action, rules, result = decide(classifier, default_policy, text, language)
    assert action == "allow", (rules, result)


@pytest.mark.parametrize("text", ["text me at 4155550132", "call me on +1 (212) 555-0187 after 6", "my number is 020 7946 0958"])
def test_phone_numbers_are_not_sexual(classifier, default_policy, language, text: str) -> None:
    action, rules, result = decide(classifier, default_policy, text, language)
    assert result["sexual"] < classifier.thresholds["sexual"] and action == "allow", (rules, result)


# Read by the multilingual head (tests/test_toxicity_multilingual.py has their siblings).
@pytest.mark.parametrize("text", [
    "Ты никчёмный идиот, я тебя убью завтра",  # Russian: you worthless idiot, I will kill you tomorrow
    "Du dreckiger Idiot, ich werde dich umbringen",  # German
    "Maldito imbécil, te voy a matar esta noche",  # Spanish
])
def test_insults_with_death_threats_in_other_languages_are_not_allowed(classifier, default_policy, language, text: str) -> None:
    action, rules, result = decide(classifier, default_policy, text, language)
    assert action in ("block", "review"), result


# Scripts no configured language is written in: lingua names no language (und), neither model
# was trained on them, and the English model's scores for them were noise.
@pytest.mark.parametrize("text", [
    "আমি কাল তোমার বাড়িতে আসব",  # Bengali: I will come to your house tomorrow
    "ನಾನು ನಿನ್ನನ್ನು ನಾಳೆ ನೋಡುತ್ತೇನೆ",  # Kannada: I will see you tomorrow
    "ሰላም ለዓለም እንዴት ናችሁ",  # Amharic: hello world, how are you
    "ගුවන් යානය අහසේ පියාසර කරයි",  # Sinhala: the plane flies in the sky
])
def test_text_in_a_script_no_language_is_configured_for_goes_to_the_language_queue(
        classifier, default_policy, language, text: str) -> None:
    action, rules, result = decide(classifier, default_policy, text, language)
    assert max(result.values()) == 0.0  # nothing the models can read: not their noise
    assert (action, rules) == ("review", ["uncovered-language"]), result
    padded = f"a quiet harbour at dawn, fishing boats moored by the pier. {text}"
    assert decide(classifier, default_policy, padded, language)[:2] == ("review", ["uncovered-language"])


@pytest.mark.parametrize("gap", ["\u0995", "\u16b1", "\u1401"])  # Bengali ka, a rune, a syllabic as separators
def test_letters_of_an_unread_script_neither_hide_nor_add_to_what_the_english_model_reads(
        classifier, default_policy, language, gap: str) -> None:
    for plain in (THREAT, "i will shoot you", "I hope you die"):
        expected = decide(classifier, default_policy, plain, language)[0]
        for broken in (plain.replace(" ", gap), plain.replace("ll", f"l{gap}l").replace("oo", f"o{gap}o")):
            action, rules, result = decide(classifier, default_policy, broken, language)
            assert action == expected, (broken, rules, result)
    beside = scores(classifier, f"{BENIGN} ᚠᚢᚦᚨᚱᚲ")  # runes in a fantasy prompt
    assert all(beside[category] < classifier.thresholds[category] for category in beside), beside


# --- training: a small fixed slice against committed scores ---------------------

SLICE_TEXTS = [THREAT, HATEFUL, BENIGN, "I want to end my life tonight", "you are a worthless idiot", "text me at 4155550132"]


def _train_slice(out_dir: Path) -> list[list[float]]:
    from classifiers.text_model_training import TrainingConfig, train_text_model
    from classifiers.text_training_data import SOURCE_CAPS

    config = TrainingConfig(epochs=1, caps={name: 30 for name in SOURCE_CAPS}, padding_augmented=40, template_repeats=1)
    train_text_model(SHARED_DATASETS, out_dir, seed=13, config=config, log=lambda _line: None)
    from classifiers.toxicity import _BundledBackend

    backend = _BundledBackend(out_dir, "cpu")
    return backend.raw_scores(SLICE_TEXTS, batch_size=8).round(5).tolist()


@needs_datasets
def test_training_on_a_fixed_slice_gives_the_committed_scores_within_tolerance(tmp_path: Path) -> None:
    """`train_text_model` on 30 rows per source, one epoch (about a minute). Floats differ
    across CPUs in the last bits, so raw scores are compared within 0.02, never byte for byte;
    regenerate the file with REGENERATE_TEXT_SLICE=1 after a deliberate change to the recipe."""
    import os

    got = _train_slice(tmp_path)
    if os.environ.get("REGENERATE_TEXT_SLICE"):
        SLICE_SCORES.write_text(json.dumps({"texts": SLICE_TEXTS, "raw_scores": got}, indent=1) + "\n")
    expected = json.loads(SLICE_SCORES.read_text())
    assert expected["texts"] == SLICE_TEXTS
    worst = max(abs(a - b) for row_got, row_expected in zip(got, expected["raw_scores"]) for a, b in zip(row_got, row_expected))
    assert worst <= 0.02, worst


def test_missing_datasets_are_a_clear_error(tmp_path: Path) -> None:
    from classifiers.text_model_training import train_text_model
    from classifiers.text_training_data import DatasetMissingError

    with pytest.raises(DatasetMissingError, match="davidson-hate-offensive"):
        train_text_model(tmp_path / "no-datasets", tmp_path / "out", log=lambda _line: None)


def test_templates_hold_out_a_split_and_label_only_known_categories() -> None:
    from classifiers.text_training_data import load_templates

    rows = load_templates()
    splits = {split for *_, split in rows}
    assert splits == {"train", "heldout"}
    train_ids = {template for _, _, template, split in rows if split == "train"}
    held_ids = {template for _, _, template, split in rows if split == "heldout"}
    assert train_ids.isdisjoint(held_ids) and held_ids
    assert all(set(labels) <= set(CATEGORIES) for _, labels, _, _ in rows)
    # Every minors template has a sexual label and a control of ordinary scenes exists.
    assert any(labels["sexual/minors"] for _, labels, _, _ in rows)
    assert any(not any(labels.values()) and "birthday" in text for text, labels, _, _ in rows)


@needs_datasets
def test_identity_negatives_are_harmless_rows_that_name_a_group() -> None:
    from classifiers.text_training_data import IDENTITY_WORDS, load_source

    rows = load_source(SHARED_DATASETS, "identity-negatives", cap=300)
    assert len(rows) == 300
    assert not any(label and mask for row in rows for label, mask in zip(row.labels, row.mask))
    # The group is matched in the source's raw text; cleaning (links, @mentions) removes it from a few.
    assert sum(bool(IDENTITY_WORDS.search(row.text)) for row in rows) >= 0.98 * len(rows)
    assert {row.source for row in rows} == {"identity-negatives"}


@needs_datasets
def test_template_obfuscation_respells_one_word_of_hateful_and_benign_rows_alike() -> None:
    """Spelling tricks (swapped, dropped or masked letters, spaced letters, leetspeak) must neither hide
    hate nor read as hate by themselves, so both kinds of row get obfuscated copies."""
    import random

    module = load_templates_module()
    rng = random.Random(5)
    respelled = [module.obfuscate("refugees", rng) for _ in range(200)]
    assert "refugees" not in respelled
    assert {"r e f u g e e s", "r3fug335"} <= set(respelled)
    assert any("*" in word for word in respelled) and any(len(word) == 7 for word in respelled)
    assert module.obfuscate("gay", rng) == "gay"  # too short to respell and stay readable

    rows = module.template_cases()
    plain = {text.lower() for text, *_ in rows}
    odd = [(text, labels) for text, labels, template, _ in rows
           if template in module.OBFUSCATED and text.lower() not in plain - {text.lower()}
           and re.search(r"[0-9*]|\b\w( \w){3,}\b", text)]
    assert any(labels.get("hate") == 1 for _, labels in odd)
    assert any(not any(labels.values()) for _, labels in odd)


def test_opinion_and_question_frames_wrap_hateful_and_benign_statements_alike() -> None:
    """A frame ("Let's be honest: ...", "Why won't anyone admit that ...?") must carry no label of its
    own: framed copies keep their template's labels and split, and come from both kinds of row."""
    module = load_templates_module()
    rows = module.template_cases()
    split_of = {template: split for *_, template, split in rows}
    by_template = {template: (labels, split_of[template]) for template, _, labels in module.TEMPLATES}
    prefixes = tuple(prefix for prefix, _ in module.FRAMES)
    framed = [(text, labels, template, split) for text, labels, template, split in rows if text.startswith(prefixes)]
    assert all((labels, split) == by_template[template] for _, labels, template, split in framed)
    assert sum(labels.get("hate") == 1 for _, labels, _, _ in framed) > 500
    assert sum(not any(labels.values()) for _, labels, _, _ in framed) > 500
    assert {split for *_, split in framed} == {"train", "heldout"}
    # A question frame ends the sentence with its own mark; a slot's capitals are kept.
    assert all(text.endswith(("?", ".")) and not text.endswith((".?", "..")) for text, *_ in framed)
    assert any(" that Muslims " in text or ": Muslims " in text for text, *_ in framed)
    # Only one-sentence statements are framed: no quotes or second sentences inside a frame.
    assert not any('"' in text or "? " in text for text, *_ in framed)
    # A frame that rejects the claim inside it ("It's a lie that ...") makes a hateful statement benign.
    rejecting = [(labels, template) for text, labels, template, _ in rows
                 if text.startswith(tuple(prefix for prefix, _ in module.NEGATING_FRAMES))]
    assert len(rejecting) > 200
    assert all(labels["hate"] == 0 and by_template[template][0]["hate"] == 1 for labels, template in rejecting)


@needs_datasets
def test_templates_copy_no_row_of_an_evaluation_only_set() -> None:
    import csv

    from classifiers.text_training_data import load_templates

    def key(text: str) -> str:
        return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())

    evaluation = set()
    for path, column in [("hatecheck/test_suite_cases.csv", "test_case"), ("xstest/xstest_prompts.csv", "prompt")]:
        with open(SHARED_DATASETS / path, newline="", encoding="utf-8") as handle:
            evaluation |= {key(row[column]) for row in csv.DictReader(handle)}
    copied = [text for text, *_ in load_templates() if key(text) in evaluation]
    assert not copied, copied


def test_lint_vocabulary_names_the_categories_and_the_renamed_key() -> None:
    assert ToxicityClassifier.field_vocabulary({"model_dir": None}) == {"scores": CATEGORIES}
    assert ToxicityClassifier.field_vocabulary({"model_dir": "/some/hf/model"}) == {}
    assert ToxicityClassifier.renamed_fields() == {"self_harm": "self-harm"}


# --- any Hugging Face sequence-classification directory -------------------------


def _save_fake_hf_model(directory: Path, labels: list[str], problem_type: str | None) -> Path:
    """A FAKE model: tiny random BERT weights, only to exercise loading by config."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(bundled_encoder_path()), local_files_only=True)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128,
        id2label=dict(enumerate(labels)), label2id={label: index for index, label in enumerate(labels)},
        problem_type=problem_type,
    )
    BertForSequenceClassification(config).save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return directory


def test_hf_multilabel_directory_is_loaded_from_configuration(tmp_path: Path) -> None:
    labels = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]  # toxic-bert's labels
    model_dir = _save_fake_hf_model(tmp_path / "fake-toxic-bert", labels, problem_type=None)
    fake = ToxicityClassifier.from_config({"model_dir": str(model_dir), "device": "cpu", "max_length": 32})
    signals = fake.classify_batch(["you idiot", "", BENIGN])
    assert set(signals[0].scores) == set(labels) | {"hate"}
    for signal in signals:
        assert signal.scores["hate"] == signal.scores["identity_hate"]
    assert sum(signals[0].scores.values()) != pytest.approx(1.0, abs=1e-3)
    assert fake.identity.version == "hf:fake-toxic-bert"


def test_missing_hf_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a directory"):
        ToxicityClassifier(model_dir=str(tmp_path / "absent"))
