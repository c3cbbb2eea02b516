"""Login throttling and a cap on concurrent password hashing.

Each failed login counts against the username and against the caller's address.
After ``free_failures`` failures (per user; four times that per address, since many people
may share one), every further attempt waits ``backoff_s * 2**(n - 1)`` seconds
(capped at ``backoff_max_s``) after the n-th extra failure; an attempt inside the wait
is refused with ``429 login_throttled`` and ``Retry-After`` before any hashing, so the
right password does not help an attacker who guessed a hundred wrong ones. A success
clears the user's count.

argon2id costs 64 MiB per check: ``LoginGuard.hashing`` lets ``hash_concurrency``
checks run at once; up to ``MAX_WAITING`` more wait their turn, and beyond that a
login is refused with ``503 login_busy``. Counts are in memory, per process
(SECURITY.md says so), and at most ``MAX_TRACKED`` names/addresses are remembered.
"""
from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import OrderedDict
from contextlib import asynccontextmanager
from typing import Callable

from moderation_service.errors import ApiError

MAX_TRACKED = 100_000
MAX_WAITING = 64
ADDRESS_FACTOR = 4


class LoginThrottle:
    def __init__(self, free_failures: int = 5, backoff_s: float = 1.0, backoff_max_s: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free_failures = free_failures
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.clock = clock
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key -> (failures, blocked until)
        self._lock = threading.Lock()

    def check(self, username: str, address: str | None) -> None:
        now = self.clock()
        with self._lock:
            wait = max((self._failures.get(key, (0, 0.0))[1] - now for key in self._keys(username, address)),
                       default=0.0)
        if wait > 0:
            raise ApiError(429, "login_throttled", "too many failed logins; wait before trying again",
                           details={"retry_after_s": math.ceil(wait)})

    def failed(self, username: str, address: str | None) -> None:
        now = self.clock()
        with self._lock:
            for key in self._keys(username, address):
                failures = self._failures.pop(key, (0, 0.0))[0] + 1
                free = self.free_failures * (ADDRESS_FACTOR if key.startswith("address:") else 1)
                extra = failures - free + 1  # the free-th failure already makes the next one wait
                blocked = now + min(self.backoff_s * 2 ** (extra - 1), self.backoff_max_s) if extra > 0 else 0.0
                self._failures[key] = (failures, blocked)
            while len(self._failures) > MAX_TRACKED:
                self._failures.popitem(last=False)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{username}", None)

    @staticmethod
    def _keys(username: str, address: str | None) -> list[str]:
        keys = [f"user:{username.casefold()[:64]}"]
        if address:
            keys.append(f"address:{address}")
        return keys


class LoginGuard:
    """The throttle and the hashing semaphore, for the login route."""

    def __init__(self, throttle: LoginThrottle, hash_concurrency: int) -> None:
        self.throttle = throttle
        self.hash_concurrency = hash_concurrency
        self._semaphore: asyncio.Semaphore | None = None
        self._waiting = 0
        self.most_at_once = 0  # the highest number of checks seen running together
        self._running = 0

    @classmethod
    def from_settings(cls, settings) -> "LoginGuard":
        return cls(LoginThrottle(settings.login_free_failures, settings.login_backoff_s, settings.login_backoff_max_s),
                   settings.login_hash_concurrency)

    @asynccontextmanager
    async def hashing(self):
        if self._semaphore is None:  # made on the serving loop
            self._semaphore = asyncio.Semaphore(self.hash_concurrency)
        if self._waiting >= MAX_WAITING:
            raise ApiError(503, "login_busy", "too many logins at once; retry shortly",
                           details={"retry_after_s": 1})
        self._waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self._waiting -= 1
        self._running += 1
        self.most_at_once = max(self.most_at_once, self._running)
        try:
            yield
        finally:
            self._running -= 1
            self._semaphore.release()
