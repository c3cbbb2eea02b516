"""Toxicity classifier on real weights: bundled MiniLM + the committed head.

Also: a Hugging Face model directory chosen by configuration (a tiny, randomly
initialised fake model built here), reproducible training on a small sample,
and the evaluation report.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from classifiers.base import sha256_of_files
from classifiers.toxicity import BUNDLED_HEAD_DIR, CATEGORIES, ToxicityClassifier, ToxicitySignal, bundled_encoder_path


pytestmark = pytest.mark.slow

TOXIC = "Shut up, you stupid worthless bitch, I will kill you."
HATEFUL = "All Muslims are vermin and should be wiped out."
BENIGN = "A watercolor painting of a lighthouse at sunset, highly detailed."
SHARED_DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
needs_datasets = pytest.mark.skipif(not SHARED_DATASETS.is_dir(), reason=f"shared data sets absent: {SHARED_DATASETS}")


@pytest.fixture(scope="module")
def classifier() -> ToxicityClassifier:
    return ToxicityClassifier()


def test_scores_every_category_and_flags_toxic_text(classifier: ToxicityClassifier) -> None:
    toxic, hateful, benign = classifier.classify_batch([TOXIC, HATEFUL, BENIGN])
    assert isinstance(toxic, ToxicitySignal)
    assert set(toxic.scores) == set(CATEGORIES)
    assert toxic.scores["toxic"] > max(0.9, classifier.thresholds["toxic"])
    assert hateful.scores["toxic"] > classifier.thresholds["toxic"]
    assert hateful.scores["hate"] > classifier.thresholds["hate"]
    for category in CATEGORIES:
        assert benign.scores[category] < classifier.thresholds[category], category
    assert benign.scores["toxic"] < 0.1


@pytest.mark.parametrize(
    "evasion",
    [
        "Shut up, you stup1d w0rthless b1tch, I will k1ll you.",
        "Shut up, you s t u p i d worthless b i t c h, I will k i l l you.",
        "Shut up, you stu\u200bpid worth\u200cless bi\u200btch, I will ki\u00adll you.",
        "Ｓｈｕｔ ｕｐ, you stupid worthless bitch, I will kill you.",
    ],
)
def test_evasions_of_toxic_text_still_score_high(classifier: ToxicityClassifier, evasion: str) -> None:
    signal = classifier.classify(evasion)
    assert signal.normalized_text_changed
    assert signal.scores["toxic"] > max(0.9, classifier.thresholds["toxic"])


def test_batch_results_equal_single_results(classifier: ToxicityClassifier) -> None:
    texts = [TOXIC, BENIGN, "", HATEFUL, "a much longer benign prompt about a quiet mountain village " * 5]
    batch = classifier.classify_batch(texts)
    for text, batched in zip(texts, batch):
        single = classifier.classify(text)
        assert single.scores == pytest.approx(batched.scores, abs=1e-4)
        assert single.normalized_text_changed == batched.normalized_text_changed


def test_empty_and_whitespace_text_is_benign(classifier: ToxicityClassifier) -> None:
    for text in ("", "   ", "\u200b"):
        signal = classifier.classify(text)
        assert signal.scores == {category: 0.0 for category in CATEGORIES}
    assert classifier.classify_batch([]) == []


def test_identity_covers_encoder_and_head_and_is_stable(classifier: ToxicityClassifier) -> None:
    identity = classifier.identity
    assert identity.name == "sentence-transformers/all-MiniLM-L6-v2+toxicity-head"
    assert re.fullmatch(r"[0-9a-f]{64}", identity.weights_sha256)
    expected = sha256_of_files(
        bundled_encoder_path() / "model.safetensors",
        BUNDLED_HEAD_DIR / "head.safetensors",
        BUNDLED_HEAD_DIR / "head_config.json",
    )
    assert identity.weights_sha256 == expected
    assert ToxicityClassifier.from_config({"model_dir": None, "device": "cpu"}).identity == identity


# --- Any Hugging Face sequence-classification directory -----------------------


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
    signals = fake.classify_batch([TOXIC, "", BENIGN])
    assert set(signals[0].scores) == set(labels) | {"hate"}
    for signal in signals:
        assert signal.scores["hate"] == signal.scores["identity_hate"]
        assert all(0.0 <= value <= 1.0 for value in signal.scores.values())
    # Independent sigmoids, not a softmax over the labels.
    assert sum(signals[0].scores.values()) != pytest.approx(1.0, abs=1e-3)
    weights = sorted(model_dir.glob("*.safetensors"))
    assert fake.identity.weights_sha256 == sha256_of_files(*weights)
    assert fake.identity.version == "hf:fake-toxic-bert"


def test_hf_single_label_directory_uses_softmax(tmp_path: Path) -> None:
    model_dir = _save_fake_hf_model(tmp_path / "fake-binary", ["Non-Toxic", "Toxic"], "single_label_classification")
    signal = ToxicityClassifier(model_dir=str(model_dir), device="cpu").classify("hello")
    assert set(signal.scores) == {"non_toxic", "toxic"}
    assert sum(signal.scores.values()) == pytest.approx(1.0, abs=1e-4)


def test_missing_hf_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a directory"):
        ToxicityClassifier(model_dir=str(tmp_path / "absent"))


# --- Training and evaluation --------------------------------------------------


@needs_datasets
def test_training_is_reproducible_for_a_seed(tmp_path: Path) -> None:
    from classifiers.toxicity_training import HeadHyperparameters, train_toxicity_head

    small = HeadHyperparameters(hidden_dim=16, epochs=3)

    def head_bytes(name: str, seed: int) -> tuple[bytes, bytes]:
        out_dir = tmp_path / name
        train_toxicity_head(SHARED_DATASETS, out_dir, seed=seed, limit_per_source=40, hyper=small)
        return (out_dir / "head.safetensors").read_bytes(), (out_dir / "head_config.json").read_bytes()

    first, again, other_seed = head_bytes("a", 13), head_bytes("b", 13), head_bytes("c", 14)
    assert first == again
    assert first[0] != other_seed[0]


@needs_datasets
def test_the_documented_training_command_rebuilds_the_committed_head_byte_for_byte(tmp_path: Path) -> None:
    """`moderation train toxicity --seed 13` on the shared data gives exactly the shipped head (about a minute)."""
    from classifiers.toxicity_training import train_toxicity_head

    train_toxicity_head(SHARED_DATASETS, tmp_path, seed=13)
    for name in ("head.safetensors", "head_config.json"):
        assert (tmp_path / name).read_bytes() == (BUNDLED_HEAD_DIR / name).read_bytes(), name


def test_missing_datasets_are_a_clear_error(tmp_path: Path) -> None:
    from classifiers.toxicity_training import DatasetMissingError, train_toxicity_head

    with pytest.raises(DatasetMissingError, match="davidson-hate-offensive"):
        train_toxicity_head(tmp_path / "no-datasets", tmp_path / "out")


@needs_datasets
def test_evaluation_reports_held_out_and_hatecheck_functionalities() -> None:
    from classifiers.base import ModelIdentity
    from classifiers.toxicity_evaluation import evaluate_toxicity, format_report

    class KeywordStub:
        """Cheap stand-in so this test checks the bookkeeping, not the model."""

        identity = ModelIdentity("toxicity", "keyword-stub", hashlib.sha256(b"stub").hexdigest())
        thresholds = {"hate": 0.5}

        def classify_batch(self, texts):
            return [
                ToxicitySignal(
                    scores={category: float("hate" in text.lower()) for category in CATEGORIES},
                    normalized_text_changed=False,
                )
                for text in texts
            ]

    report = evaluate_toxicity(KeywordStub(), SHARED_DATASETS)
    assert set(report["held_out"]) == set(CATEGORIES)
    assert report["hatecheck"]["overall"]["hate"]["n"] == 3728
    assert len(report["hatecheck"]["per_functionality"]) == 29
    negation = report["hatecheck"]["per_functionality"]["negate_neg_nh"]["hate"]
    assert negation["positives"] == 0 and negation["recall"] is None and negation["auprc"] is None
    text = format_report(report)
    assert "derog_neg_emote_h" in text and "OVERALL" in text and "self_harm" in text
