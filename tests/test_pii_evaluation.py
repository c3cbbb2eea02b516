"""The PII evaluation's claims, checked: recall 1.0 on our evasion set and, with the
shared synthetic set, recall no lower than presidio's default analyzer for any type."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import SHARED_DATASETS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "datasets"))
from pii_evaluation import SYNTH_FILE, evaluate_pii, format_report, score  # noqa: E402

pytestmark = pytest.mark.slow


def test_scoring_counts_spans_by_type_and_half_coverage():
    gold = [[("EMAIL_ADDRESS", 0, 10), ("PERSON", 20, 30)]]
    predicted = [[("EMAIL_ADDRESS", 0, 6), ("PERSON", 20, 24), ("URL", 0, 10)]]
    report = score(gold, predicted, ["EMAIL_ADDRESS", "PERSON", "URL"])
    assert report["EMAIL_ADDRESS"]["recall"] == 1.0 and report["EMAIL_ADDRESS"]["precision"] == 1.0
    assert report["PERSON"]["recall"] == 0.0 and report["PERSON"]["precision"] == 1.0
    assert "URL" not in report  # a type the set never labels is left out


def test_without_the_synthetic_set_the_evasion_set_is_measured_and_fully_recalled(tmp_path):
    report = evaluate_pii(tmp_path)  # no presidio-synth there
    assert "synthetic_missing" in report and list(report["sets"]) == ["evasion"]
    evasion = report["sets"]["evasion"]
    assert {kind: m["recall"] for kind, m in evasion["ours"]["per_entity"].items()} == {
        kind: 1.0 for kind in evasion["ours"]["per_entity"]}
    anchor = evasion["presidio_default"]["per_entity"]
    assert any(m["recall"] < 1.0 for m in anchor.values())  # the set is one the anchor fails
    assert "presidio default" in format_report(report)


@pytest.mark.skipif(not (SHARED_DATASETS / SYNTH_FILE).is_file(),
                    reason="needs ../shared/datasets/presidio-synth (presidio-research synthetic set)")
def test_synthetic_recall_is_no_lower_than_the_anchors_for_any_entity_type():
    synthetic = evaluate_pii(SHARED_DATASETS)["sets"]["synthetic"]
    ours, anchor = synthetic["ours"]["per_entity"], synthetic["presidio_default"]["per_entity"]
    assert {k: m["recall"] for k, m in ours.items() if m["recall"] < anchor[k]["recall"]} == {}
    assert ours["PERSON"]["precision"] >= anchor["PERSON"]["precision"]
