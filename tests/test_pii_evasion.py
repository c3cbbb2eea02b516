"""PII that people hide from scrubbers: normalised detection, offsets on the original
text, contained entities, separators and spelled-out symbols, English-only NER,
linear cost on hostile text, a quiet and exact recognizer registry."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from classifiers.pii import PresidioPiiClassifier, redact
from classifiers.pii_normalization import ner_view, normalize_for_pii

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "datasets"))
from pii_evasion import NBSP, ZWSP, evasion_cases, fullwidth  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def classifier() -> PresidioPiiClassifier:
    return PresidioPiiClassifier()


def found(signal, text: str) -> set[tuple[str, str]]:
    return {(e.type, text[e.start:e.end]) for e in signal.entities}


def assert_no_piece_survives(signal, text: str, start: int, end: int) -> None:
    """Every visible character of ``text[start:end]`` lies in a reported span, so redaction replaces it."""
    covered = {i for e in signal.entities for i in range(e.start, e.end)}
    visible = {i for i in range(start, end) if normalize_for_pii(text[i]).text.strip()}
    assert visible <= covered, (text[start:end], "".join(text[i] for i in sorted(visible - covered)))
    assert text[start:end] not in signal.redacted_text


# --- normalisation with an offset map --------------------------------------------------------------

def test_normalisation_maps_every_character_back():
    text = f"a{ZWSP}ｂ＠ｃ{NBSP}ﬁ e\u0301!"
    normalized = normalize_for_pii(text)
    assert normalized.text == "ab@c fi é!"
    assert normalized.original_span(0, len(normalized.text)) == (0, len(text))
    assert text[slice(*normalized.original_span(1, 4))] == "ｂ＠ｃ"  # the zero-width space before "b" is not in it
    assert text[slice(*normalized.original_span(5, 7))] == "ﬁ"  # one ligature, two letters
    assert text[slice(*normalized.original_span(8, 9))] == "e\u0301"  # a letter and its combining accent


def test_the_ner_view_keeps_offsets_and_drops_what_costs():
    text = "Jane 😀😀😀 " + "!" * 50 + " " + "x" * 200
    view = ner_view(text)
    assert len(view) == len(text) and view.startswith("Jane")
    assert "😀" not in view and "!!!!" not in view
    assert max(len(run) for run in view.split()) < 100


@pytest.mark.parametrize("case", evasion_cases(), ids=lambda c: f"{c.kind}:{c.text[:24]!r}")
def test_every_evasion_case_is_found_at_its_original_offsets_and_fully_redacted(classifier, case):
    signal = classifier.classify(case.text)
    reported = {(e.type, e.start, e.end) for e in signal.entities}
    for kind, start, end in case.entities:
        overlapping = [e for e in signal.entities if e.type == kind and e.start < end and start < e.end]
        assert overlapping, (kind, case.text[start:end], reported)
        # Spans are on the original text: the whole value as written, invisible characters included.
        assert any(e.start <= start and end <= e.end for e in overlapping) or (kind, start, end) in reported, (
            kind, case.text[start:end], [(e.type, case.text[e.start:e.end]) for e in signal.entities])
        assert_no_piece_survives(signal, case.text, start, end)


def test_own_invisible_and_fullwidth_variants(classifier):
    for text, kind, value in [
        (f"ping {fullwidth('sam.lee')}＠example.com soon", "EMAIL_ADDRESS", f"{fullwidth('sam.lee')}＠example.com"),
        (f"card 4012\u20078888\u20078888\u20071881", "CREDIT_CARD", "4012\u20078888\u20078888\u20071881"),
        (f"id jo\u2060hn.smith@exam\u200cple.co.uk!", "EMAIL_ADDRESS", "jo\u2060hn.smith@exam\u200cple.co.uk"),
        (f"phone \u202e+1 212 555 0143\u202c", "PHONE_NUMBER", "+1 212 555 0143"),
    ]:
        signal = classifier.classify(text)
        spans = found(signal, text)
        assert any(k == kind and value.strip("\u202c") in v or v in value for k, v in spans), (text, spans)
        start = text.index(value)
        assert_no_piece_survives(signal, text, start, start + len(value))


def test_the_zero_width_email_is_redacted_whole(classifier):
    text = "reach me at maria.sol@\u200bexample.org"
    signal = classifier.classify(text)
    assert signal.redacted_text == "reach me at <EMAIL_ADDRESS>"
    assert [(e.type, e.start, e.end) for e in signal.entities] == [("EMAIL_ADDRESS", 12, len(text))]


# --- contained entities -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, outer, inner", [
    ("buy via https://pay.example.net/checkout?cc=4111111111111111&ok=1", "URL", "CREDIT_CARD"),
    ("profile https://example.com/u?mail=nina.k@example.org", "URL", "EMAIL_ADDRESS"),
    ("my whatsapp: https://wa.me/12125550143", "URL", "PHONE_NUMBER"),
    ("reach me at api.whatsapp.com/send?phone=447700900456", "URL", "PHONE_NUMBER"),
])
def test_entities_inside_other_entities_are_all_reported_and_redacted_once(classifier, text, outer, inner):
    signal = classifier.classify(text)
    types = [e.type for e in signal.entities]
    assert outer in types and inner in types, found(signal, text)
    assert signal.redacted_text.count("<") == 1 and f"<{outer}>" in signal.redacted_text


def test_a_url_inside_an_email_is_still_not_an_entity(classifier):
    assert [e.type for e in classifier.classify("write to jane.roe@mail.example.org today").entities] == ["EMAIL_ADDRESS"]


def test_redaction_replaces_the_union_of_spans_once():
    text = "see https://x.example/?c=4111111111111111 and bob@example.com"
    spans = [("URL", 4, 41), ("CREDIT_CARD", 25, 41), ("EMAIL_ADDRESS", 46, 61), ("URL", 50, 61)]
    assert redact(text, spans) == "see <URL> and <EMAIL_ADDRESS>"
    assert redact(text, []) == text
    assert redact("ab", [("X", 0, 1), ("Y", 1, 2)]) == "<X><Y>"


# --- separators, spelled-out symbols, and what they must not catch ----------------------------------

@pytest.mark.parametrize("text, kind", [
    ("the card is 3782.822463.10005 ok", "CREDIT_CARD"),
    ("pay 6011 0009.9013-9424 now", "CREDIT_CARD"),
    ("mail me: li.wei (at) example (dot) cn", "EMAIL_ADDRESS"),
    ("write to hugo<at>example<dot>fr", "EMAIL_ADDRESS"),
    ("or at sales [at] example [.] co [.] uk", "EMAIL_ADDRESS"),
    ("Festnetz +49.30.901820", "PHONE_NUMBER"),
    ("cell 212.555.0143", "PHONE_NUMBER"),
])
def test_separators_and_spelled_out_symbols(classifier, text, kind):
    signal = classifier.classify(text)
    assert kind in {e.type for e in signal.entities}, found(signal, text)
    assert "<" + kind + ">" in signal.redacted_text


@pytest.mark.parametrize("text", [
    "card 4111.1111.1111.1112 fails Luhn",
    "release 2.13.0 ships on 12.05.2024",
    "a 1920.1080 render at 4.5.6.7 scale",
    "look at the castle, dot the i's",
    "meet me at noon at the station",
    "a map at 48.8566, 2.3522 at dusk",
])
def test_lookalikes_are_not_personal_data(classifier, text):
    signal = classifier.classify(text)
    assert not [e for e in signal.entities if e.type in {"CREDIT_CARD", "EMAIL_ADDRESS", "PHONE_NUMBER"}], found(signal, text)


# --- English NER on English text only ---------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Du bist ein Idiot", "Rappelez-moi demain", "Rappelez-moi au plus vite, merci",
    "Ihr seid alle Vollidioten und Dummköpfe", "Eres un imbécil, Tonto", fullwidth("HELLO WORLD, NICE DAY"),
])
def test_non_names_in_other_languages_and_fullwidth_text_are_not_persons(classifier, text):
    signal = classifier.classify(text)
    assert "PERSON" not in {e.type for e in signal.entities}, found(signal, text)
    assert "<PERSON>" not in signal.redacted_text


@pytest.mark.parametrize("text, name", [
    ("a portrait of Ada Lovelace at her desk", "Ada Lovelace"),
    ("Ich heiße Hans Müller und wohne in Berlin", "Hans Müller"),  # name-shaped: kept in any language
    (fullwidth("a photo of John Smith"), fullwidth("John Smith")),
])
def test_names_are_still_found(classifier, text, name):
    assert ("PERSON", name) in found(classifier.classify(text), text)


# --- cost and start-up --------------------------------------------------------------------------------

@pytest.mark.parametrize("filler", ["😀", "!", ".", "a.", "x@", "\u200b"])
def test_long_hostile_texts_are_classified_and_a_value_at_the_end_is_found(classifier, filler):
    text = (filler * 8000)[:7960] + " mail ana@example.com"
    signal = classifier.classify(text)
    assert ("EMAIL_ADDRESS", "ana@example.com") in found(signal, text)


def test_the_registry_holds_exactly_the_configured_recognizers_and_starts_quietly(caplog):
    with caplog.at_level(logging.WARNING):
        classifier = PresidioPiiClassifier()
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    import yaml
    from classifiers.pii import DEFAULT_RECOGNIZERS

    configured = [entry["name"] for entry in yaml.safe_load(DEFAULT_RECOGNIZERS.read_text())["recognizers"]]
    assert classifier.recognizer_names == configured


def test_an_entity_without_a_recognizer_is_refused_at_start_up():
    with pytest.raises(ValueError, match="US_PASSPORT"):
        PresidioPiiClassifier(entities=["EMAIL_ADDRESS", "US_PASSPORT"])
