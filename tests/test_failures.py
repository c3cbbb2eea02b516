"""Failure handling: a slow or broken classifier, and an unreachable database.

The slow and broken classifiers here are small test fakes around the real
ones: they exist only to make a model late or make it raise."""
from __future__ import annotations

import time
from typing import Sequence

from fastapi.testclient import TestClient

from classifiers.base import Classifier
from conftest import with_key
from moderation_service.api.app import create_app
from moderation_service.settings import Settings


class SlowDown(Classifier):
    """Wraps a real classifier and sleeps first: a model that misses its deadline."""

    def __init__(self, real: Classifier, seconds: float) -> None:
        self.real, self.seconds = real, seconds
        self.name, self.modality, self.identity = real.name, real.modality, real.identity

    def classify_batch(self, inputs: Sequence):
        time.sleep(self.seconds)
        return self.real.classify_batch(inputs)


class Broken(SlowDown):
    def classify_batch(self, inputs: Sequence):
        raise RuntimeError("weights corrupted")


def test_a_late_or_broken_classifier_does_not_fail_the_request(tmp_path, real_classifiers):
    classifiers = dict(real_classifiers, toxicity=SlowDown(real_classifiers["toxicity"], 1.5),
                       pii=Broken(real_classifiers["pii"], 0))
    settings = Settings(data_dir=tmp_path, classifier_timeout_ms=300)
    with TestClient(create_app(settings, classifiers)) as client:
        with_key(client, scopes=("moderate", "admin"))
        response = client.post("/v1/moderations", json={"prompt": "a lighthouse"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["signals"]["toxicity"]["error"] == "timeout"
        assert body["signals"]["pii"]["error"] == "RuntimeError"
        assert body["decision"] == "review"  # the default policy's on_error
        fired = {reason["rule_id"] for reason in body["reasons"]}
        assert fired == {"classifier-error.toxicity", "classifier-error.pii"}
        assert body["redacted_prompt"] is None  # no PII signal, so no prompt is kept
        metrics = client.get("/metrics").text
        assert 'moderation_classifier_errors_total{classifier="toxicity"} 1.0' in metrics
        assert 'moderation_classifier_errors_total{classifier="pii"} 1.0' in metrics


def test_readyz_reports_an_unreachable_database_and_recovers(tmp_path, real_classifiers):
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings, real_classifiers)) as client:
        assert client.get("/readyz").status_code == 200
        database = tmp_path / "moderation.db"
        hidden = tmp_path / "elsewhere.db"
        client.app.state.storage.repository._sessions.kw["bind"].dispose()
        database.rename(hidden)
        (tmp_path / "moderation.db").mkdir()  # a directory where the file was: SQLite cannot open it
        down = client.get("/readyz")
        assert (down.status_code, down.json()["error"]["code"]) == (503, "database_unavailable")
        (tmp_path / "moderation.db").rmdir()
        hidden.rename(database)
        assert client.get("/readyz").status_code == 200
