"""PII detection with the real presidio engine and the real offline spaCy model."""
from __future__ import annotations

import csv
import socket
from pathlib import Path

import pytest

from classifiers.base import Modality
from classifiers.pii import PiiSignal, PresidioPiiClassifier

pytestmark = pytest.mark.slow

CONTACT_TEXT = "Contact me at john.doe@example.com or +1 (415) 555-0132, card 4111 1111 1111 1111."
IDENTITY_TEXT = (
    "Send to IBAN GB82 WEST 1234 5698 7654 32 from 192.168.1.10, my SSN is 536-90-4399, "
    "see https://example.org/page for details. John Smith lives in Paris."
)
BENIGN_TEXT = "A watercolor painting of a fox in a misty forest at dawn, soft light, 4k"


@pytest.fixture(scope="module")
def classifier() -> PresidioPiiClassifier:
    # Built with sockets refused: loading must not reach for the network.
    def refuse(*args, **kwargs):
        raise AssertionError("the PII classifier tried to open a network connection")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        return PresidioPiiClassifier()


def spans(signal: PiiSignal, text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for entity in signal.entities:
        found.setdefault(entity.type, []).append(text[entity.start : entity.end])
    return found


def test_metadata(classifier):
    assert classifier.name == "pii" and classifier.modality is Modality.TEXT
    identity = classifier.identity
    assert identity.name.startswith("presidio-analyzer+en_core_web_sm")
    presidio_version, model_version = identity.version.split("+")
    assert presidio_version and model_version == "3.8.0"
    assert len(identity.weights_sha256) == 64


def test_email_phone_and_card_are_redacted(classifier):
    signal = classifier.classify(CONTACT_TEXT)
    assert signal.redacted_text == "Contact me at <EMAIL_ADDRESS> or <PHONE_NUMBER>, card <CREDIT_CARD>."
    assert [(e.type, e.start, e.end) for e in signal.entities] == [
        ("EMAIL_ADDRESS", 14, 34),
        ("PHONE_NUMBER", 38, 55),
        ("CREDIT_CARD", 62, 81),
    ]
    assert spans(signal, CONTACT_TEXT) == {
        "EMAIL_ADDRESS": ["john.doe@example.com"],
        "PHONE_NUMBER": ["+1 (415) 555-0132"],
        "CREDIT_CARD": ["4111 1111 1111 1111"],
    }
    assert all(0.4 <= e.score <= 1.0 for e in signal.entities)


def test_url_inside_an_email_is_not_reported(classifier):
    signal = classifier.classify("write to jane.roe@mail.example.org today")
    assert [e.type for e in signal.entities] == ["EMAIL_ADDRESS"]
    assert signal.redacted_text == "write to <EMAIL_ADDRESS> today"


def test_iban_ip_ssn_url_person_location(classifier):
    signal = classifier.classify(IDENTITY_TEXT)
    assert spans(signal, IDENTITY_TEXT) == {
        "IBAN_CODE": ["GB82 WEST 1234 5698 7654 32"],
        "IP_ADDRESS": ["192.168.1.10"],
        "US_SSN": ["536-90-4399"],
        "URL": ["https://example.org/page"],
        "PERSON": ["John Smith"],
        "LOCATION": ["Paris"],
    }
    assert signal.redacted_text == (
        "Send to IBAN <IBAN_CODE> from <IP_ADDRESS>, my SSN is <US_SSN>, "
        "see <URL> for details. <PERSON> lives in <LOCATION>."
    )


def test_card_number_failing_luhn_is_not_a_card(classifier):
    signal = classifier.classify("Card 4111 1111 1111 1112 please")
    assert "CREDIT_CARD" not in {e.type for e in signal.entities}
    assert "4111 1111 1111 1112" in signal.redacted_text


def test_benign_text_is_unchanged(classifier):
    signal = classifier.classify(BENIGN_TEXT)
    assert signal.entities == []
    assert signal.redacted_text == BENIGN_TEXT


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text(classifier, text):
    signal = classifier.classify(text)
    assert signal.entities == [] and signal.redacted_text == text


def test_batch_equals_single(classifier):
    texts = [CONTACT_TEXT, "", BENIGN_TEXT, IDENTITY_TEXT, CONTACT_TEXT]
    assert classifier.classify_batch(texts) == [classifier.classify(t) for t in texts]
    assert classifier.classify_batch([]) == []


def test_signal_carries_no_raw_entity_text(classifier):
    for text in (CONTACT_TEXT, IDENTITY_TEXT):
        signal = classifier.classify(text)
        stored_entities = str([e.model_dump() for e in signal.entities])
        for entity in signal.entities:
            raw = text[entity.start : entity.end]
            assert raw not in stored_entities
            assert raw not in signal.redacted_text


SHARED_I2P = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "i2p" / "i2p_benchmark.csv"
# Inputs of our own with findings of every kind, so the comparison covers real
# findings with or without ../shared (I2P prompts, when present, add breadth).
OWN_FINDINGS = [
    CONTACT_TEXT, IDENTITY_TEXT, BENIGN_TEXT, "Maria Garcia flew from Madrid to Lisbon with Tom.",
    "Ask Peter Novak in Vienna, peter.novak@example.net, 0043 664 1234567.",
    "a portrait of Ada Lovelace writing in London, card 5500 0000 0000 0004",
]


def test_dropping_the_dependency_parser_changes_no_result(classifier):
    """The parser is off by default for speed; presidio must find exactly what it finds with it."""
    texts = list(OWN_FINDINGS)
    if SHARED_I2P.is_file():
        with open(SHARED_I2P, newline="") as handle:
            texts += [row["prompt"] for row in csv.DictReader(handle) if row.get("prompt")][:400]
    with_parser = PresidioPiiClassifier(disabled_spacy_components=())
    assert "parser" not in classifier._analyzer.nlp_engine.nlp["en"].pipe_names
    expected = with_parser.classify_batch(texts)
    assert sum(bool(signal.entities) for signal in expected) >= 5  # the comparison covers real findings
    assert classifier.classify_batch(texts) == expected
