"""Two API instances on one real PostgreSQL agree on the banks within a bounded delay."""
from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from moderation_service.api.app import create_app
from moderation_service.auth import ApiKeyStore
from moderation_service.settings import Settings

SYNC_INTERVAL_S = 0.2
BOUND_S = 5 * SYNC_INTERVAL_S * 1.5  # a few rounds at the longest jitter
PHASH = "b6a9c995c94e16ca"


def wait_until(check, bound_s: float) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < bound_s, "the other instance did not catch up in time"
        time.sleep(0.02)
    return time.monotonic() - started


def matches(client, hash_=PHASH):
    return client.post("/v1/banks/lookup", json={"signal_type": "phash", "hash": hash_}).json()["matches"]


@pytest.fixture
def two_instances(postgres_url, tmp_path, real_classifiers, monkeypatch):
    monkeypatch.setenv("MODERATION_BANKS_SYNC_INTERVAL_S", str(SYNC_INTERVAL_S))
    apps = [create_app(Settings(database_url=postgres_url, data_dir=tmp_path / name, policy_watch_interval_s=0,
                                rate_limit_per_minute=0), real_classifiers) for name in ("a", "b")]
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        secret = ApiKeyStore(apps[0].state.storage.session_factory).create("ops", ["admin"]).secret
        for client in (first, second):
            client.headers["Authorization"] = f"Bearer {secret}"
        yield first, second


def test_an_entry_added_on_one_instance_matches_on_the_other_within_the_bound(two_instances):
    first, second = two_instances
    assert first.post("/v1/banks", json={"name": "shared", "purpose": "block"}).status_code == 201
    added = first.post("/v1/banks/shared/entries", json={"entries": [{"signal_type": "phash", "hash": PHASH}]})
    entry_id = added.json()["entries"][0]["id"]
    assert matches(first)  # the writer sees it at once
    wait_until(lambda: bool(matches(second)), BOUND_S)

    # A threshold change, a quarantine and a removal travel the same way.
    near = f"{int(PHASH, 16) ^ 0b11:016x}"
    first.patch("/v1/banks/shared", json={"thresholds": {"phash": 1}})
    wait_until(lambda: matches(second, near) == [], BOUND_S)
    first.app.state.banks.store.quarantine(entry_id, "test")
    wait_until(lambda: second.post("/v1/banks/lookup", json={"signal_type": "phash", "hash": PHASH})
               .json()["quarantined"] != [], BOUND_S)
    assert first.delete(f"/v1/banks/shared/entries/{entry_id}").status_code == 204
    wait_until(lambda: second.post("/v1/banks/lookup", json={"signal_type": "phash", "hash": PHASH})
               .json()["quarantined"] == [], BOUND_S)


def test_a_bulk_import_and_a_bank_deletion_reach_the_other_instance(two_instances):
    first, second = two_instances
    first.post("/v1/banks", json={"name": "bulk", "purpose": "watch"})
    rows = "\n".join(f"phash,{i * 7919:016x},r{i}" for i in range(3000))
    assert first.post("/v1/banks/bulk/import", content=rows).json()["imported"] == 3000
    wait_until(lambda: bool(matches(second, f"{2999 * 7919:016x}")), BOUND_S)
    assert second.app.state.banks.matcher.stats()["phash"]["entries"] == 3000
    first.delete("/v1/banks/bulk")
    wait_until(lambda: matches(second, f"{2999 * 7919:016x}") == [], BOUND_S)
