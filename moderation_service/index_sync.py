"""Keeps a process's near-duplicate index current with the database, the
source of truth, so that several workers or hosts see each other's items.

Each round reads the items created since the last round, less a safety
overlap: another process may commit an item stamped slightly earlier than one
already read. Rounds are jittered so that workers do not query in lockstep.
"""
from __future__ import annotations

import logging
import random
import threading
from datetime import datetime, timedelta

from moderation_service.near_duplicates import NearDuplicateIndex
from moderation_service.repository import ModerationRepository

log = logging.getLogger(__name__)
OVERLAP = timedelta(seconds=30)


class IndexSync:
    def __init__(self, repository: ModerationRepository, index: NearDuplicateIndex) -> None:
        self.repository = repository
        self.index = index
        self.watermark: datetime | None = None
        self._stop = threading.Event()

    def sync_once(self) -> int:
        since = self.watermark - OVERLAP if self.watermark else None
        before = len(self.index)
        for item_id, phash, decision, created_at in self.repository.iter_image_hashes(since):
            self.index.add(item_id, phash, decision)
            self.watermark = created_at if self.watermark is None else max(self.watermark, created_at)
        return len(self.index) - before

    def start(self, interval_s: float) -> None:
        def loop() -> None:
            while not self._stop.wait(interval_s * random.uniform(0.8, 1.2)):
                try:
                    self.sync_once()
                except Exception:  # the database may be briefly away; the next round catches up
                    log.warning("near-duplicate index sync failed; retrying", exc_info=True)

        threading.Thread(target=loop, name="index-sync", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
