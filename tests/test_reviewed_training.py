"""Reviewed exports as training rows: labels by reason code, near-duplicate groups counted once,
sampling probabilities corrected, redacted text unless raw is asked for."""
from __future__ import annotations

import json

import pytest

from moderation_service.reviewed_labels import ReasonCodeMapError, load_reason_codes
from moderation_service.reviewed_training import load_reviewed

CATEGORIES = ("hate", "sexual", "violence", "self-harm", "toxic")


def write_export(folder, records):
    folder.mkdir(parents=True)
    lines = "".join(json.dumps(record) + "\n" for record in records)
    (folder / "items.jsonl").write_text(lines)
    (folder / "manifest.json").write_text(json.dumps({"files": {"items.jsonl": {"sha256": "f" * 64}}}))
    return folder


def record(item_id, text, verdict, reason, phash=None, probability=None, raw=None):
    signals = {"image_hash": {"phash": phash}} if phash else {}
    entry = {"id": item_id, "prompt_redacted": text, "signals": signals,
             "label": {"verdict": verdict, "reason_code": reason, "sampling_probability": probability}}
    if raw:
        entry["prompt_raw"] = raw
    return entry


def test_reason_codes_become_masked_per_category_labels(tmp_path):
    export = write_export(tmp_path / "e1", [
        record("a", "those people are vermin", "reject", "hate"),
        record("b", "a sunny meadow", "approve", "policy_ok"),
        record("c", "buy cheap watches", "reject", "spam"),  # says nothing about our categories
        record("d", None, "reject", "nudity"),  # image only
    ])
    examples, summary = load_reviewed([export], load_reason_codes(), CATEGORIES)
    by_id = {example.item_id: example for example in examples}
    assert by_id["a"].values == {"hate": 1.0}
    assert by_id["b"].values == dict.fromkeys(CATEGORIES, 0.0)
    assert set(by_id) == {"a", "b"} and sum(summary["skipped"].values()) == 2
    assert summary["per_category"]["hate"] == {"positive": 1, "negative": 1}
    assert summary["exports"][0]["items_sha256"] == "f" * 64 and len(summary["exports"][0]["manifest_sha256"]) == 64


def test_a_near_duplicate_group_counts_once(tmp_path):
    export = write_export(tmp_path / "e1", [
        record("a", "a red car", "reject", "violence", phash="ffff0000ffff0000"),
        record("b", "a red car, again", "reject", "violence", phash="ffff0000ffff0001"),  # 1 bit away
        record("c", "A  RED car", "reject", "violence"),  # same text, case and spacing folded
        record("d", "a blue boat", "approve", "policy_ok", phash="0000ffff0000ffff"),
    ])
    examples, summary = load_reviewed([export], load_reason_codes(), CATEGORIES, reviewed_weight=1.0)
    weights = {example.item_id: example.weight for example in examples}
    assert weights["a"] == weights["b"] == weights["c"] == pytest.approx(1 / 3)
    assert weights["d"] == pytest.approx(1.0)
    assert summary["groups"] == 2


def test_sampling_probabilities_are_corrected_and_raw_text_only_on_request(tmp_path):
    export = write_export(tmp_path / "e1", [
        record("u", "a kite", "approve", "policy_ok", probability=0.01, raw="a kite, said Ann"),
        record("x", "a dog", "approve", "policy_ok", probability=0.5),
    ])
    examples, _ = load_reviewed([export], load_reason_codes(), CATEGORIES, reviewed_weight=1.0)
    weights = {example.item_id: example.weight for example in examples}
    assert weights["u"] / weights["x"] == pytest.approx(50)
    assert sum(weights.values()) == pytest.approx(2)  # normalised to mean 1
    assert {e.text for e in examples} == {"a kite", "a dog"}
    raw, summary = load_reviewed([export], load_reason_codes(), CATEGORIES, use_raw=True)
    assert "a kite, said Ann" in {e.text for e in raw} and summary["text"] == "raw"


def test_bad_inputs_say_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="dataset export"):
        load_reviewed([tmp_path / "nothing"], load_reason_codes(), CATEGORIES)
    bad = tmp_path / "codes.yaml"
    bad.write_text("categories: {hate: hate}\n")
    with pytest.raises(ReasonCodeMapError, match="categories.hate"):
        load_reason_codes(bad)


def test_the_export_carries_raw_prompts_only_when_asked(tmp_path):
    from cryptography.fernet import Fernet
    from fastapi.testclient import TestClient

    from moderation_service.api.app import _prompt_unsealer
    from moderation_service.review.export import export_dataset
    from review_support import login, queued_item, review_app

    key = Fernet.generate_key().decode()
    with TestClient(review_app(tmp_path / "data", store_raw_prompts=True, raw_prompt_key=key)) as client:
        storage = client.app.state.storage
        item_id = queued_item(storage.repository, prompt="call <PHONE_NUMBER>")
        with storage.session_factory.begin() as session:
            from moderation_service.db.tables import ModerationItem

            session.get(ModerationItem, item_id).prompt_raw = Fernet(key).encrypt(b"call 555 0100").decode()
        alice = login(client, "alice")
        client.post("/v1/review/claim", json={"queue": "default"}, headers=alice)
        client.post(f"/v1/review/{item_id}/verdict", headers=alice,
                    json={"verdict": "approve", "reason_code": "policy_ok", "key": "k"})
        settings = client.app.state.settings
        plain = export_dataset(storage.session_factory, storage.image_store, tmp_path / "plain")
        raw = export_dataset(storage.session_factory, storage.image_store, tmp_path / "raw",
                             unseal=_prompt_unsealer(settings))
    assert "prompt_raw" not in (tmp_path / "plain" / "items.jsonl").read_text() and not plain["contains_raw_prompts"]
    assert json.loads((tmp_path / "raw" / "items.jsonl").read_text())["prompt_raw"] == "call 555 0100"
    assert raw["contains_raw_prompts"]
