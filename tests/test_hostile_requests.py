"""Hostile request bodies (tests/corpus/hostile_requests.py): each gets a 4xx with a
stable code on every route, nothing is stored, and without a key nothing is read."""
from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from moderation_service.api.app import create_app
from moderation_service.auth import ApiKeyStore
from moderation_service.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent / "corpus"))
from hostile_requests import JSON_BODIES, MULTIPART, OTHER_ROUTES, VALID_SURROGATE_PAIR  # noqa: E402


@pytest.fixture(scope="module")
def client(tmp_path_factory, real_classifiers):
    settings = Settings(data_dir=tmp_path_factory.mktemp("hostile-requests"), rate_limit_per_minute=0,
                        policy_watch_interval_s=0)
    with TestClient(create_app(settings, real_classifiers)) as test_client:
        store = ApiKeyStore(test_client.app.state.storage.session_factory)
        test_client.headers["Authorization"] = f"Bearer {store.create('hostile', ['moderate', 'admin']).secret}"
        yield test_client


def rows(client: TestClient) -> int:
    with sqlite3.connect(client.app.state.settings.data_dir / "moderation.db") as connection:
        return connection.execute("select count(*) from moderation_items").fetchone()[0]


@pytest.mark.parametrize("name", list(JSON_BODIES))
def test_each_hostile_json_body_gets_its_stable_code(client, name):
    body, status, code = JSON_BODIES[name]
    before = rows(client)
    response = client.post("/v1/moderations", content=body, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text[:300]
    assert rows(client) == before


def test_a_valid_surrogate_pair_is_an_emoji_not_an_error(client):
    response = client.post("/v1/moderations", content=VALID_SURROGATE_PAIR, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert set(response.json()["signals"]) >= {"toxicity", "pii"}


@pytest.mark.parametrize("name", list(MULTIPART))
def test_each_hostile_multipart_body_gets_its_stable_code(client, name):
    fields, status, code = MULTIPART[name]
    before = rows(client)
    response = client.post("/v1/moderations", files=fields)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text[:300]
    assert rows(client) == before


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), OTHER_ROUTES,
                         ids=[f"{m} {p} {c}" for m, p, _, _, c in OTHER_ROUTES])
def test_other_routes_refuse_the_same_kinds(client, method, path, body, status, code):
    response = client.request(method, path, content=body, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text[:300]


def body_routes(app) -> list[tuple[str, str]]:
    """Every (method, path) that takes a body, from the OpenAPI schema, path parameters filled in."""
    import re

    found = []
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            if method.upper() in ("POST", "PUT", "PATCH"):
                found.append((method.upper(), re.sub(r"\{[^}]+\}", "x", path)))
    return found


def test_without_a_key_no_route_reads_the_body(client):
    """The refusal comes before the first receive(): 13 MiB of [{},...] costs nothing."""
    app = client.app
    routes = [r for r in body_routes(app) if r[1] != "/v1/auth/login"]
    assert len(routes) > 15
    for method, path in routes:
        received, sent = [], []

        async def receive():
            received.append(True)
            return {"type": "http.request", "body": b"[" + b"{}," * 4_000_000 + b"{}]", "more_body": False}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
                 "headers": [(b"content-type", b"application/json"), (b"content-length", b"12000003")],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "scheme": "http", "http_version": "1.1",
                 "root_path": "", "app": app}
        asyncio.run(app(scope, receive, send))
        assert sent[0]["status"] == 401, (method, path)
        assert json.loads(sent[1]["body"])["error"]["code"] == "unauthenticated"
        assert not received, f"{method} {path} read the body before checking the key"


def test_every_route_caps_its_body_with_413_request_too_large(client):
    oversized = b'{"a": "' + b"x" * (client.app.state.settings.max_request_bytes + 10) + b'"}'
    for method, path in body_routes(client.app):
        if path in ("/v1/moderations", "/v1/banks/lookup") or path.endswith(("/import", "/entries")):
            continue  # these take an image or a file: their cap is max_image_bytes * 4/3 + 1 MiB
        response = client.request(method, path, content=oversized, headers={"content-type": "application/json"})
        assert (response.status_code, response.json()["error"]["code"]) == (413, "request_too_large"), path
        # The same without Content-Length: counted as it streams.
        chunks = iter([oversized[:1000], oversized[1000:]])
        response = client.request(method, path, content=chunks, headers={"content-type": "application/json"})
        assert (response.status_code, response.json()["error"]["code"]) == (413, "request_too_large"), path


def test_the_image_routes_take_their_larger_cap_and_refuse_past_it(client):
    limit = client.app.state.settings.max_image_bytes * 4 // 3 + 1024 * 1024
    for path in ("/v1/moderations", "/v1/banks/lookup", "/v1/banks/x/import", "/v1/banks/x/entries"):
        response = client.post(path, content=b"x" * (limit + 1), headers={"content-type": "application/json"})
        assert (response.status_code, response.json()["error"]["code"]) == (413, "request_too_large"), path


def test_every_authenticated_route_is_rate_limited(tmp_path, real_classifiers):
    settings = Settings(data_dir=tmp_path, rate_limit_per_minute=1, rate_limit_burst=3, policy_watch_interval_s=0)
    with TestClient(create_app(settings, real_classifiers)) as test_client:
        store = ApiKeyStore(test_client.app.state.storage.session_factory)
        headers = {"Authorization": f"Bearer {store.create('busy', ['moderate', 'admin']).secret}"}
        for path in ("/v1/webhooks/deliveries", "/v1/policies", "/metrics"):
            key = {"Authorization": f"Bearer {store.create('busy-' + path, ['moderate', 'admin']).secret}"}
            statuses = [test_client.get(path, headers=key).status_code for _ in range(5)]
            assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429], (path, statuses)
        for _ in range(3):
            test_client.get("/v1/webhooks/deliveries", headers=headers)
        limited = test_client.post("/v1/moderations/x/appeal", json={"reason": "r"}, headers=headers)
        assert (limited.status_code, limited.json()["error"]["code"]) == (429, "rate_limited")
        assert int(limited.headers["retry-after"]) >= 1
        assert test_client.get("/healthz").status_code == 200  # probes are never limited
