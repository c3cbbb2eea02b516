"""Retention: after N days, images and everything written by clients or people go (raw and redacted
prompt, external_id, metadata, appeal reasons); hashes, decisions and the append-only audit log stay
(its details were redacted before they were written)."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from moderation_service.db.tables import Appeal, ModerationItem
from moderation_service.image_store import ImageStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeReport:
    items: int
    images_deleted: int


def purge(sessions: sessionmaker, images: ImageStore, older_than_days: int, now: datetime | None = None) -> PurgeReport:
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=older_than_days)
    with sessions.begin() as session:
        old = list(session.execute(
            select(ModerationItem.id, ModerationItem.image_sha256, ModerationItem.image_format)
            .where(ModerationItem.created_at < cutoff, ModerationItem.purged_at.is_(None))))
        if not old:
            return PurgeReport(0, 0)
        ids = [row.id for row in old]
        # Everything a client or a person wrote goes; decisions, hashes and the audit trail stay (the
        # audit log is append-only, enforced by the database, so its details are redacted at write instead).
        session.execute(update(ModerationItem).where(ModerationItem.id.in_(ids))
                        .values(prompt_raw=None, prompt_redacted=None, external_id=None, request_metadata={},
                                purged_at=datetime.now(timezone.utc)))
        session.execute(update(Appeal).where(Appeal.item_id.in_(ids)).values(reason=""))
        # Images are shared by content: keep one that a younger item still points at.
        still_used = set(session.scalars(
            select(ModerationItem.image_sha256).where(
                ModerationItem.image_sha256.in_({row.image_sha256 for row in old if row.image_sha256}),
                ModerationItem.purged_at.is_(None))))
    deleted = 0
    for sha256, image_format in {(row.image_sha256, row.image_format) for row in old if row.image_sha256}:
        if sha256 in still_used:
            continue
        path = images.path_for(sha256, image_format)
        if path.exists():
            path.unlink()
            deleted += 1
    log.info("retention purged %d items and %d images", len(old), deleted)
    return PurgeReport(len(old), deleted)


def start_purging(sessions: sessionmaker, images: ImageStore, older_than_days: int, interval_s: float,
                  stop: threading.Event) -> threading.Thread:
    def loop() -> None:
        while not stop.wait(interval_s):
            try:
                purge(sessions, images, older_than_days)
            except Exception:  # logged; the next round tries again
                log.exception("retention purge failed")

    thread = threading.Thread(target=loop, name="retention", daemon=True)
    thread.start()
    return thread
