"""API keys: created hashed, checked by scope, revoked and rotated."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from moderation_service.auth import ApiKeyStore, Principal, key_digest, require_scope
from moderation_service.db.engine import make_engine, make_session_factory, upgrade_to_head
from moderation_service.errors import ApiError


@pytest.fixture
def store(tmp_path):
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade_to_head(url)
    return ApiKeyStore(make_session_factory(make_engine(url)))


@pytest.fixture
def app(store):
    """A tiny app with one admin-only route, to exercise the dependency alone."""
    application = FastAPI()
    application.state.authenticators = [store.authenticate]

    @application.exception_handler(ApiError)
    async def handle(_request, exc: ApiError):
        from fastapi.responses import JSONResponse
        return JSONResponse(exc.body(), status_code=exc.status)

    @application.get("/admin-only")
    def admin_only(principal: Principal = require_scope("admin")) -> dict:
        return {"client": principal.name}

    return TestClient(application)


def test_keys_are_stored_only_as_a_digest(store):
    issued = store.create("feed", ["moderate"])
    assert issued.secret.startswith("mod_") and len(issued.secret) > 40
    [row] = store.list()
    assert row.key_sha256 == key_digest(issued.secret)
    assert issued.secret not in (row.key_sha256, row.display_prefix)


def test_missing_wrong_and_insufficient_keys(store, app):
    moderate_only = store.create("feed", ["moderate"]).secret
    admin = store.create("ops", ["admin"]).secret
    assert app.get("/admin-only").json()["error"]["code"] == "unauthenticated"
    assert app.get("/admin-only").status_code == 401
    wrong = app.get("/admin-only", headers={"X-API-Key": "mod_not-a-key"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "invalid_credentials")
    forbidden = app.get("/admin-only", headers={"Authorization": f"Bearer {moderate_only}"})
    assert (forbidden.status_code, forbidden.json()["error"]["code"]) == (403, "forbidden")
    allowed = app.get("/admin-only", headers={"Authorization": f"Bearer {admin}"})
    assert allowed.json() == {"client": "ops"}


def test_revoke_and_rotate(store, app):
    issued = store.create("ops", ["admin", "review"])
    rotated = store.rotate(issued.key_id)
    assert rotated.scopes == ("admin", "review") and rotated.secret != issued.secret
    assert app.get("/admin-only", headers={"X-API-Key": issued.secret}).status_code == 401
    assert app.get("/admin-only", headers={"X-API-Key": rotated.secret}).status_code == 200
    assert store.revoke(rotated.key_id) is True
    assert store.revoke(rotated.key_id) is False
    assert app.get("/admin-only", headers={"X-API-Key": rotated.secret}).status_code == 401


def test_unknown_scopes_are_refused(store):
    with pytest.raises(ValueError, match="scopes"):
        store.create("x", ["superuser"])
    with pytest.raises(ValueError):
        store.create("x", [])


def test_cli_creates_a_key_that_authenticates(tmp_path):
    env = {**os.environ, "MODERATION_DATA_DIR": str(tmp_path)}
    moderation = str(Path(sys.executable).with_name("moderation"))
    result = subprocess.run([moderation, "keys", "create", "--client", "feed", "--scopes", "moderate,admin"],
                            env=env, capture_output=True, text=True, timeout=60, check=True)
    secret = result.stdout.strip().splitlines()[-1]
    url = f"sqlite:///{(tmp_path / 'moderation.db').resolve()}"
    principal = ApiKeyStore(make_session_factory(make_engine(url))).authenticate(secret)
    assert principal is not None and principal.scopes == {"moderate", "admin"}
    listing = subprocess.run([moderation, "keys", "list"], env=env, capture_output=True, text=True, check=True)
    assert "feed" in listing.stdout and secret not in listing.stdout


def test_every_endpoint_but_health_needs_a_key_and_clients_see_only_their_items(tmp_path, real_classifiers):
    from fastapi.testclient import TestClient as Client

    from moderation_service.api.app import create_app
    from moderation_service.settings import Settings

    with Client(create_app(Settings(data_dir=tmp_path), real_classifiers)) as anonymous:
        assert anonymous.get("/healthz").status_code == 200
        assert anonymous.get("/readyz").status_code == 200
        for method, path in (("post", "/v1/moderations"), ("get", "/v1/moderations/x"), ("get", "/metrics"),
                             ("get", "/v1/policies"), ("post", "/v1/policies/reload")):
            response = getattr(anonymous, method)(path)
            assert response.status_code == 401, path
            assert response.json()["error"]["code"] == "unauthenticated"
            assert response.headers["www-authenticate"] == "Bearer"
        store = ApiKeyStore(anonymous.app.state.storage.session_factory)
        feed = {"Authorization": f"Bearer {store.create('feed', ['moderate']).secret}"}
        other = {"Authorization": f"Bearer {store.create('other-app', ['moderate']).secret}"}
        admin = {"Authorization": f"Bearer {store.create('ops', ['admin', 'moderate']).secret}"}
        created = anonymous.post("/v1/moderations", json={"prompt": "a sunny beach"}, headers=feed).json()
        assert anonymous.get(f"/v1/moderations/{created['id']}", headers=feed).status_code == 200
        stolen = anonymous.get(f"/v1/moderations/{created['id']}", headers=other)
        assert (stolen.status_code, stolen.json()["error"]["code"]) == (404, "not_found")
        assert anonymous.get(f"/v1/moderations/{created['id']}", headers=admin).status_code == 200
        assert anonymous.get("/metrics", headers=feed).status_code == 403
        # The same Idempotency-Key from two clients names two different requests.
        body = {"prompt": "a red kite"}
        first = anonymous.post("/v1/moderations", json=body, headers={**feed, "Idempotency-Key": "k1"}).json()
        second = anonymous.post("/v1/moderations", json=body, headers={**other, "Idempotency-Key": "k1"}).json()
        assert first["id"] != second["id"]


def test_rate_limit_answers_429_with_retry_after(tmp_path, real_classifiers):
    from fastapi.testclient import TestClient as Client

    from conftest import with_key
    from moderation_service.api.app import create_app
    from moderation_service.settings import Settings

    settings = Settings(data_dir=tmp_path, rate_limit_per_minute=6, rate_limit_burst=2)
    with Client(create_app(settings, real_classifiers)) as client:
        with_key(client)
        statuses = [client.post("/v1/moderations", json={"prompt": "hello"}).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        limited = client.post("/v1/moderations", json={"prompt": "hello"})
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
