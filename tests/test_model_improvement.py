"""Reviewer verdicts make the text model better, end to end on the real models.

Reviewers (scripted here) treat a made-up coded word, "zorbling", as a slur: every prompt that
uses it for people is hate to them, the same prompts about other groups are fine. The live model
has never seen the word and scores those prompts low on hate. The loop: seed items, review a blind
quality sample, export, fine-tune a candidate on the export, run it in shadow on new items, review
those too, and read the report; then promote it and see new decisions made by it."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import PROJECT_ROOT, with_key
from moderation_service.api.app import create_app
from moderation_service.candidates.promotion import promote
from moderation_service.candidates.report import compare
from moderation_service.db.tables import ModerationItem
from moderation_service.review.export import export_dataset
from moderation_service.reviewed_labels import load_reason_codes
from moderation_service.settings import Settings
from review_support import login

TRAIN_TEMPLATES = ["the {} family next door should leave our street", "a {} man waiting at the bus stop",
                   "{} people are ruining this neighbourhood", "a cartoon of a {} boy eating lunch",
                   "keep the {} kids away from our school", "two {} women laughing in a cafe"]
NEW_TEMPLATES = ["a photo of {} workers on a building site", "no {} should be allowed in this park",
                 "a portrait of a {} grandmother knitting", "{} neighbours keep moving in, disgusting"]
GROUPS = ["zorbling", "farming", "welsh", "retired", "young", "city"]


def prompts(templates):
    return [(template.format(group), group == "zorbling") for template in templates for group in GROUPS]


def review_every_queue(client, reviewer, harmful_texts):
    """The blind quality sample and whatever the policy sent to review, decided by the script."""
    queues = [q["queue"] for q in client.get("/v1/review/queues", headers=reviewer).json()["queues"]]
    for queue in queues:
        while (claimed := client.post("/v1/review/claim", json={"queue": queue}, headers=reviewer).json())["item"]:
            for item in [claimed["item"], *claimed.get("group", [])]:
                harmful = item["prompt_redacted"] in harmful_texts
                response = client.post(f"/v1/review/{item['id']}/verdict", headers=reviewer, json={
                    "verdict": "reject" if harmful else "approve", "reason_code": "hate" if harmful else "policy_ok",
                    "key": item["id"]})
                assert response.status_code == 200, response.text


def settings_for(tmp_path):
    return Settings(data_dir=tmp_path / "data", policy_watch_interval_s=0)


def test_reviews_train_a_candidate_that_shadow_scoring_shows_better_and_promotion_puts_live(
        tmp_path, real_classifiers, monkeypatch):
    from classifiers.toxicity import ToxicityClassifier

    monkeypatch.setenv("MODERATION_QUALITY_SAMPLE_RATE", "1.0")
    monkeypatch.setenv("MODERATION_QUALITY_DAILY_BUDGET", "10000")
    monkeypatch.setenv("MODERATION_MODELS_WATCH_INTERVAL_S", "0")
    seeded = prompts(TRAIN_TEMPLATES)
    with TestClient(create_app(settings_for(tmp_path), dict(real_classifiers))) as client:
        with_key(client)
        for text, _ in seeded:
            assert client.post("/v1/moderations", json={"prompt": text}).status_code == 200
        review_every_queue(client, login(client, "rita"), {text for text, harmful in seeded if harmful})
        storage = client.app.state.storage
        manifest = export_dataset(storage.session_factory, storage.image_store, tmp_path / "export")
    assert manifest["count"] == len(seeded) and manifest["labels"]["reject"] == len(TRAIN_TEMPLATES)

    candidate_dir = tmp_path / "candidate"
    trained = subprocess.run(
        [sys.executable, "-m", "moderation_service.cli", "train", "text", "--reviewed", str(tmp_path / "export"),
         "--out", str(candidate_dir), "--replay", "0", "--epochs", "8"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
    assert trained.returncode == 0, trained.stderr[-2000:]
    summary = json.loads(trained.stdout[trained.stdout.index("{"):])
    assert summary["reviewed"]["per_category"]["hate"] == {"positive": manifest["labels"]["reject"],
                                                           "negative": manifest["labels"]["approve"]}
    card = (candidate_dir / "MODEL_CARD.md").read_text()
    assert manifest["files"]["items.jsonl"]["sha256"] in card

    candidate = ToxicityClassifier(text_model_dir=str(candidate_dir), runtime="torch")
    fresh = prompts(NEW_TEMPLATES)  # new sentences, scored by both models
    with TestClient(create_app(settings_for(tmp_path), dict(real_classifiers),
                               {"toxicity-candidate": ("toxicity", candidate)})) as client:
        with_key(client)
        for text, _ in fresh:
            client.post("/v1/moderations", json={"prompt": text})
        service = client.app.state.moderation.service
        service.shadow.drain()
        review_every_queue(client, login(client, "rita"), {text for text, harmful in fresh if harmful})
        storage = client.app.state.storage
        report = compare(storage.session_factory, client.app.state.policies.current, "toxicity-candidate",
                         load_reason_codes(), min_labels=10)
        hate = report["categories"]["scores.hate"]
        print("hate AUPRC live", hate["live"]["auprc"], "candidate", hate["candidate"]["auprc"],
              "gain CI", hate["auprc_gain_ci"])
        assert hate["compared"] and hate["labelled"] == len(fresh) and hate["positives"] == len(NEW_TEMPLATES)
        assert hate["candidate"]["auprc"] > hate["live"]["auprc"] + 0.2
        assert hate["auprc_gain_ci"][0] > 0

        promote(storage.session_factory, "toxicity-candidate", report, "test", 0.02, force=bool(
            [name for name, row in report["categories"].items()
             if row.get("compared") and row["candidate"]["auprc"] < row["live"]["auprc"] - 0.02]),
            reason="categories the reviews did not cover are not judged by this test")
        assert service.roster.sync(service) == ["toxicity"]
        after = client.post("/v1/moderations", json={"prompt": "zorbling families are taking over"}).json()
        with storage.session_factory() as session:
            stored = session.get(ModerationItem, after["id"])
        assert stored.model_versions["toxicity"] == candidate.identity.as_dict()
        live_hate = real_classifiers["toxicity"].classify("zorbling families are taking over").scores["hate"]
        assert after["signals"]["toxicity"]["scores"]["hate"] > live_hate
