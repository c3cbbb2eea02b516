"""Logins: per-user and per-address back-off, and at most N password hashes at once."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from moderation_service.api.app import create_app
from moderation_service.login_throttle import LoginThrottle
from moderation_service.settings import Settings

PASSWORD = "correct horse battery"


@pytest.fixture
def app_client(tmp_path):
    settings = Settings(data_dir=tmp_path, login_free_failures=3, login_backoff_s=600, policy_watch_interval_s=0,
                        login_hash_concurrency=2)
    with TestClient(create_app(settings, classifiers={})) as client:
        client.app.state.review.users.create("ada", PASSWORD, "reviewer")
        client.app.state.review.users.create("bob", PASSWORD, "reviewer")
        yield client


def login(client, username, password, address="testclient"):
    return client.post("/v1/auth/login", json={"username": username, "password": password})


def test_wrong_passwords_then_the_right_one_is_still_refused(app_client, caplog):
    caplog.set_level(logging.INFO)
    typed = ["guess-one", "guess-two", "guess-three"]
    for guess in typed:
        assert login(app_client, "ada", guess).status_code == 401
    for guess in ["guess-four"] * 20 + [PASSWORD]:  # a hundred wrong would do the same
        throttled = login(app_client, "ada", guess)
        assert (throttled.status_code, throttled.json()["error"]["code"]) == (429, "login_throttled")
        assert 1 <= int(throttled.headers["retry-after"]) <= 600
    # The failed attempts' log lines carry neither the typed name nor the passwords.
    assert "ada" not in caplog.text and not any(guess in caplog.text for guess in typed)


def test_the_address_is_throttled_across_usernames(app_client):
    # 4x the per-user allowance from one address, spread over many names, then even bob is refused.
    for i in range(12):
        assert login(app_client, f"user{i}", "wrong-password").status_code == 401
    refused = login(app_client, "bob", PASSWORD)
    assert (refused.status_code, refused.json()["error"]["code"]) == (429, "login_throttled")


def test_back_off_doubles_and_a_success_clears_the_user():
    now = [0.0]
    throttle = LoginThrottle(free_failures=2, backoff_s=1, backoff_max_s=8, clock=lambda: now[0])
    waits = []
    for _ in range(7):
        throttle.failed("ada", None)
        try:
            throttle.check("ada", None)
            waits.append(0)
        except Exception as exc:
            waits.append(exc.details["retry_after_s"])
            now[0] += exc.details["retry_after_s"]
    assert waits == [0, 1, 2, 4, 8, 8, 8]
    throttle.succeeded("ada")
    throttle.check("ada", None)


def test_concurrent_logins_hash_at_most_n_at_once(app_client):
    guard_app = app_client.app
    users = guard_app.state.review.users
    running, most = [0], [0]
    real_verify = users._verify

    def counting_verify(password_hash, password):  # a spy around the real argon2 check
        running[0] += 1
        most[0] = max(most[0], running[0])
        try:
            return real_verify(password_hash, password)
        finally:
            running[0] -= 1

    users._verify = counting_verify
    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(lambda i: login(app_client, "bob", PASSWORD).status_code, range(12)))
    assert statuses == [200] * 12
    assert 1 <= most[0] <= 2
