"""API keys with scopes. Keys are random, shown once, and stored only as sha256.

A plain sha256 is enough here (unlike passwords): a key carries 256 bits of
randomness, so there is nothing to guess by enumeration.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from moderation_service.db.tables import ApiKey
from moderation_service.errors import ApiError

SCOPES = ("moderate", "review", "admin")
KEY_PREFIX = "mod_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API client (or, later, a logged-in reviewer)."""

    kind: str
    name: str
    scopes: frozenset[str]
    key_id: int | None = None


@dataclass(frozen=True)
class IssuedKey:
    key_id: int
    client: str
    scopes: tuple[str, ...]
    secret: str  # shown once, never stored


def key_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeyStore:
    def __init__(self, session_factory: sessionmaker) -> None:
        self._sessions = session_factory

    def create(self, client: str, scopes: list[str]) -> IssuedKey:
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise ValueError(f"scopes must be a non-empty subset of {', '.join(SCOPES)}; got {scopes}")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        row = ApiKey(client=client, key_sha256=key_digest(secret), display_prefix=secret[:10],
                     scopes=sorted(set(scopes)), created_at=datetime.now(timezone.utc))
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
            key_id = row.id
        return IssuedKey(key_id, client, tuple(row.scopes), secret)

    def revoke(self, key_id: int) -> bool:
        with self._sessions.begin() as session:
            row = session.get(ApiKey, key_id)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = datetime.now(timezone.utc)
            return True

    def rotate(self, key_id: int) -> IssuedKey:
        """A new key with the same client and scopes; the old one is revoked."""
        with self._sessions() as session:
            row = session.get(ApiKey, key_id)
            if row is None or row.revoked_at is not None:
                raise LookupError(f"no active key with id {key_id}")
            client, scopes = row.client, list(row.scopes)
        issued = self.create(client, scopes)
        self.revoke(key_id)
        return issued

    def list(self) -> list[ApiKey]:
        with self._sessions() as session:
            return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))

    def authenticate(self, secret: str) -> Principal | None:
        with self._sessions() as session:
            row = session.scalar(select(ApiKey).where(ApiKey.key_sha256 == key_digest(secret)))
        if row is None or row.revoked_at is not None:
            return None
        return Principal(kind="client", name=row.client, scopes=frozenset(row.scopes), key_id=row.id)


def presented_credential(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("x-api-key") or None


def authenticate_any(authenticators, secret: str) -> Principal | None:
    """The first authenticator that recognises ``secret`` wins."""
    return next((found for authenticate in authenticators if (found := authenticate(secret))), None)


def require_scope(scope: str) -> Callable[..., Principal]:
    """A FastAPI dependency: 401 without a valid credential, 403 without ``scope``.

    ``request.app.state.authenticators`` is a list of callables from a secret to
    a Principal (or None); the first that recognises the secret wins.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def dependency(request: Request) -> Principal:
        # The edge guard (api/edge_guard.py) has already looked the credential up, before the body.
        principal = request.scope.get("state", {}).get("principal")
        if principal is None:
            secret = presented_credential(request)
            if secret is None:
                raise ApiError(401, "unauthenticated",
                               "send a key as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'")
            principal = authenticate_any(request.app.state.authenticators, secret)
        if principal is None:
            raise ApiError(401, "invalid_credentials", "the key is unknown or revoked")
        if scope not in principal.scopes:
            raise ApiError(403, "forbidden", f"this key lacks the {scope!r} scope")
        return principal

    return Depends(dependency)
