"""Which configured model serves each signal, and the others scoring in shadow.

Every process loads the same configuration: live entries (the signal's own name) and
candidates (``shadow: true``, ``replaces: <signal>``). The model in force for a signal is the
entry of its latest row in ``model_promotions`` (the database is the source of truth, as for
hash banks), else the live entry. ``Roster.sync`` reads that and swaps models in the running
service with one reference assignment each, so a request sees the old model or the new one.
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from classifiers.base import Classifier
from moderation_service.db.tables import ModelPromotion

if TYPE_CHECKING:
    from moderation_service.service import ModerationService

log = logging.getLogger(__name__)


class Roster:
    """``pools[signal][entry]`` is every loaded model of that signal; ``active[signal]`` the one in force."""

    def __init__(self, live: dict[str, Classifier], candidates: dict[str, tuple[str, Classifier]],
                 sessions: sessionmaker) -> None:
        self.pools: dict[str, dict[str, Classifier]] = {signal: {signal: model} for signal, model in live.items()}
        for entry, (signal, model) in candidates.items():
            self.pools[signal][entry] = model
        self.active = {signal: signal for signal in live}
        self._sessions = sessions
        self._stop = threading.Event()

    def shadows(self) -> list[tuple[str, str, Classifier]]:
        """(entry, signal, model) of every loaded model not in force."""
        return [(entry, signal, model) for signal, pool in self.pools.items() for entry, model in pool.items()
                if entry != self.active.get(signal)]

    def entry_of(self, signal: str) -> str:
        return self.active[signal]

    def promoted_entries(self) -> dict[str, str]:
        """{signal: entry} from the latest promotion of each signal (reads the database)."""
        latest = select(ModelPromotion.signal, func.max(ModelPromotion.id)).group_by(ModelPromotion.signal).subquery()
        query = select(ModelPromotion.signal, ModelPromotion.entry).join(latest, ModelPromotion.id == latest.c[1])
        with self._sessions() as session:
            return dict(session.execute(query).all())

    def sync(self, service: "ModerationService | None") -> list[str]:
        """Applies promotions made by any process; returns the signals that changed model."""
        changed = []
        for signal, entry in self.promoted_entries().items():
            pool = self.pools.get(signal)
            if pool is None or self.active.get(signal) == entry:
                continue
            if entry not in pool:
                log.error("promotion of %r for %s ignored: this process did not load that model (check the "
                          "classifier configuration of every worker)", entry, signal)
                continue
            if service is not None:
                service.swap_classifier(signal, pool[entry])
            self.active[signal] = entry
            log.info("model for %s is now %r (%s)", signal, entry, pool[entry].identity.version)
            changed.append(signal)
        return changed

    def watch(self, service_of, interval_s: float) -> None:
        """Polls for promotions every ``interval_s``; ``service_of()`` gives the service once loaded."""
        def loop() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.sync(service_of())
                except Exception:  # the database may be briefly away; the next poll retries
                    log.exception("reading model promotions failed")

        threading.Thread(target=loop, name="model-roster", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
