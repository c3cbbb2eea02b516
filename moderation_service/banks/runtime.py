"""Builds a process's banks: the store, the in-memory matcher, its sync loop and flood monitor."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker

from moderation_service.banks.config import BankSettings
from moderation_service.banks.matcher import BankMatcher, BanksSignal
from moderation_service.banks.quarantine import FloodMonitor
from moderation_service.banks.signals.exact import prompt_hash
from moderation_service.banks.store import BankStore
from moderation_service.banks.sync import BankSync


@dataclass
class Banks:
    store: BankStore
    matcher: BankMatcher
    sync: BankSync
    settings: BankSettings

    def lookup_item(self, *, phash: str | None = None, pdq: list[str] | None = None,
                    image_sha256: str | None = None, prompt: str | None = None) -> BanksSignal:
        """Bank matches for one moderated item; counted towards quarantine."""
        hashes: dict[str, list[str]] = {}
        if phash:
            hashes["phash"] = [phash]
        if pdq:
            hashes["pdq"] = pdq
        if image_sha256:
            hashes["sha256"] = [image_sha256]
        if prompt is not None:
            hashes["text_sha256"] = [prompt_hash(prompt)]
        return self.matcher.lookup(hashes, count_for_quarantine=True)


def open_banks(session_factory: sessionmaker, settings: BankSettings | None = None) -> Banks:
    settings = settings or BankSettings()
    store = BankStore(session_factory)
    matcher = BankMatcher(store.entry_details)

    def quarantine(entry_id: int, reason: str) -> None:
        matcher.set_quarantined(entry_id, True)  # at once here; other processes on their next sync
        store.quarantine(entry_id, reason)

    matcher.flood_monitor = FloodMonitor(settings.flood_window_s, settings.flood_min_matches, settings.flood_factor,
                                         quarantine)
    sync = BankSync(store, matcher, settings.sync_interval_s, settings.sync_jitter, settings.gap_timeout_s)
    sync.load_all()
    return Banks(store, matcher, sync, settings)
