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
