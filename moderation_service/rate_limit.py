"""Per-key token buckets. In memory, per process: with N workers a key gets
N times the rate, which the README states; a shared limiter would need Redis."""
from __future__ import annotations

import math
import threading
import time

from moderation_service.auth import Principal
from moderation_service.errors import ApiError


class RateLimiter:
    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate_per_s = per_minute / 60
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._lock = threading.Lock()

    def check(self, principal: Principal) -> None:
        if self.rate_per_s <= 0:
            return
        key = f"{principal.kind}:{principal.key_id or principal.name}"
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate_per_s)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                retry_after = math.ceil((1 - tokens) / self.rate_per_s)
                raise ApiError(429, "rate_limited", f"over {self.rate_per_s * 60:.0f} requests a minute for this key",
                               details={"retry_after_s": retry_after})
            self._buckets[key] = (tokens - 1, now)
