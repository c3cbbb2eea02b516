"""Quarantine of a flooding entry: one that suddenly matches far above its usual rate.

A generic hash (a blank frame, a logo) added by mistake would otherwise block
a flood of innocent content. Each process counts matches per entry in fixed
windows; an entry whose count in the current window exceeds
max(min_matches, factor x its average of earlier windows) is reported once to
``on_flood``, which quarantines it in the database for every process.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger(__name__)
EWMA_WEIGHT = 0.2  # how fast the usual rate follows the recent windows


@dataclass
class _Rate:
    window_start: float
    count: int = 0
    usual: float = 0.0  # exponentially weighted matches per window


class FloodMonitor:
    def __init__(self, window_s: float, min_matches: int, factor: float,
                 on_flood: Callable[[int, str], None], clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s, self.min_matches, self.factor = window_s, min_matches, factor
        self.on_flood, self.clock = on_flood, clock
        self._rates: dict[int, _Rate] = {}
        self._flagged: set[int] = set()
        self._lock = threading.Lock()

    def record(self, entry_id: int) -> None:
        now = self.clock()
        with self._lock:
            rate = self._rates.setdefault(entry_id, _Rate(now))
            elapsed = int((now - rate.window_start) // self.window_s)
            if elapsed >= 1:  # close the finished window, and any empty ones after it
                rate.usual = (1 - EWMA_WEIGHT) * rate.usual + EWMA_WEIGHT * rate.count
                rate.usual *= (1 - EWMA_WEIGHT) ** (elapsed - 1)
                rate.window_start += elapsed * self.window_s
                rate.count = 0
            rate.count += 1
            limit = max(self.min_matches, self.factor * rate.usual)
            flooding = rate.count > limit and entry_id not in self._flagged
            if flooding:
                self._flagged.add(entry_id)
        if flooding:
            reason = (f"{rate.count} matches in {self.window_s:g} s against a usual {rate.usual:.1f} "
                      f"(limit {limit:.0f})")
            log.warning("quarantining bank entry %d: %s", entry_id, reason)
            self.on_flood(entry_id, reason)

    def forget(self, entry_id: int) -> None:
        """After a release: count afresh."""
        with self._lock:
            self._rates.pop(entry_id, None)
            self._flagged.discard(entry_id)
