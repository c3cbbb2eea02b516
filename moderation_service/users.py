"""People who review: reviewers, senior reviewers and admins.

Passwords are hashed with argon2id. A login returns a random token that is
stored only as its sha256 (like API keys: 256 random bits leave nothing to
guess), expires, and can be revoked at logout. Registered as an authenticator,
a token becomes a Principal whose kind is the role and whose scopes follow it.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from moderation_service.auth import Principal, key_digest
from moderation_service.db.tables import ReviewUser, ReviewUserToken
from moderation_service.review.clock import aware, utcnow

ROLES = ("reviewer", "senior", "admin")
ROLE_SCOPES = {"reviewer": frozenset({"review"}), "senior": frozenset({"review"}),
               "admin": frozenset({"review", "admin"})}
TOKEN_PREFIX = "rvw_"
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10


@dataclass(frozen=True)
class Login:
    token: str  # shown once, never stored
    username: str
    role: str
    expires_at: datetime


class UserStore:
    def __init__(self, sessions: sessionmaker, token_ttl_s: float = 12 * 3600) -> None:
        self._sessions = sessions
        self._hasher = PasswordHasher()
        self.token_ttl_s = token_ttl_s
        # Verifying a wrong user costs as much as a wrong password, so timing does not reveal usernames.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def create(self, username: str, password: str, role: str) -> None:
        if not USERNAME.match(username):
            raise ValueError("username: 2 to 64 of a-z 0-9 . _ - (lower case), starting with a letter or digit")
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"the password needs at least {MIN_PASSWORD} characters")
        try:
            with self._sessions.begin() as session:
                session.add(ReviewUser(username=username, password_hash=self._hasher.hash(password), role=role,
                                       created_at=utcnow()))
        except IntegrityError:
            raise ValueError(f"a user named {username!r} already exists") from None

    def set_password(self, username: str, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"the password needs at least {MIN_PASSWORD} characters")
        with self._sessions.begin() as session:
            user = self._user(session, username)
            user.password_hash = self._hasher.hash(password)
            self._revoke_all(session, user.id)

    def disable(self, username: str) -> None:
        with self._sessions.begin() as session:
            user = self._user(session, username)
            user.disabled_at = utcnow()
            self._revoke_all(session, user.id)

    def list(self) -> list[dict]:
        with self._sessions() as session:
            return [{"username": u.username, "role": u.role, "disabled": u.disabled_at is not None}
                    for u in session.scalars(select(ReviewUser).order_by(ReviewUser.username))]

    def login(self, username: str, password: str) -> Login | None:
        with self._sessions() as session:
            user = session.scalar(select(ReviewUser).where(ReviewUser.username == username))
        if user is None or user.disabled_at is not None:
            self._verify(self._dummy_hash, password)
            return None
        if not self._verify(user.password_hash, password):
            return None
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        expires = now + timedelta(seconds=self.token_ttl_s)
        with self._sessions.begin() as session:
            session.add(ReviewUserToken(user_id=user.id, token_sha256=key_digest(token), created_at=now,
                                        expires_at=expires))
            if self._hasher.check_needs_rehash(user.password_hash):
                session.get(ReviewUser, user.id).password_hash = self._hasher.hash(password)
        return Login(token, user.username, user.role, expires)

    def logout(self, token: str) -> bool:
        with self._sessions.begin() as session:
            row = session.scalar(select(ReviewUserToken).where(ReviewUserToken.token_sha256 == key_digest(token)))
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = utcnow()
            return True

    def authenticate(self, secret: str) -> Principal | None:
        """For ``app.state.authenticators``: a live login token becomes the user's Principal."""
        if not secret.startswith(TOKEN_PREFIX):
            return None
        with self._sessions() as session:
            found = session.execute(
                select(ReviewUser, ReviewUserToken).join(ReviewUserToken, ReviewUserToken.user_id == ReviewUser.id)
                .where(ReviewUserToken.token_sha256 == key_digest(secret))).first()
        if found is None:
            return None
        user, token = found
        if token.revoked_at is not None or aware(token.expires_at) <= utcnow() or user.disabled_at is not None:
            return None
        return Principal(kind=user.role, name=user.username, scopes=ROLE_SCOPES[user.role])

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @staticmethod
    def _user(session, username: str) -> ReviewUser:
        user = session.scalar(select(ReviewUser).where(ReviewUser.username == username))
        if user is None:
            raise LookupError(f"no user named {username!r}")
        return user

    @staticmethod
    def _revoke_all(session, user_id: int) -> None:
        for token in session.scalars(select(ReviewUserToken).where(ReviewUserToken.user_id == user_id,
                                                                   ReviewUserToken.revoked_at.is_(None))):
            token.revoked_at = utcnow()
