"""Banks and their entries in the database, the source of truth.

Every write that another process must replay appends to hash_bank_changes in
the same transaction; additions need no log, since entry ids are ordered.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Iterator

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from moderation_service.banks.errors import bad_hash, bank_not_found
from moderation_service.banks.signals import HashFormatError
from moderation_service.banks.signals.registry import SIGNAL_TYPES, signal_type
from moderation_service.db.tables import HashBank, HashBankChange, HashBankEntry
from moderation_service.errors import ApiError

PURPOSES = ("block", "allow", "watch")
BANK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
RESERVED_NAMES = ("lookup", "quarantine", "earlier-items")  # paths under /v1/banks/, and the built-in bank
MAX_LABEL = 255
VARIANTS_ADDED = "entry_variants_added"  # a hash_bank_changes op: retro-hunt hunts the entry's new variants


@dataclass(frozen=True)
class NewEntry:
    signal_type: str
    hash: str
    label: str | None = None
    variants: tuple[str, ...] = ()  # the picture's flips and rotations (PDQ), when known: retro-hunt searches them


def now() -> datetime:
    return datetime.now(timezone.utc)


def bank_as_dict(bank: HashBank, entries: int | None = None) -> dict:
    body = {"name": bank.name, "purpose": bank.purpose, "thresholds": effective_thresholds(bank.thresholds),
            "description": bank.description, "created_at": bank.created_at.isoformat()}
    if entries is not None:
        body["entries"] = entries
    return body


def entry_as_dict(entry: HashBankEntry, bank_name: str) -> dict:
    return {"id": entry.id, "bank": bank_name, "signal_type": entry.signal_type, "hash": entry.hash,
            "label": entry.label, "source": entry.source, "created_at": entry.created_at.isoformat(),
            "quarantined": entry.quarantined_at is not None, "quarantine_reason": entry.quarantine_reason,
            "variants": len((entry.variants or "").split())}  # flips and rotations kept for retro-hunt


def effective_thresholds(overrides: dict[str, int] | None) -> dict[str, int]:
    """A bank's own thresholds over each signal type's default."""
    return {name: int((overrides or {}).get(name, kind.default_threshold)) for name, kind in SIGNAL_TYPES.items()}


def checked_entry(signal_name: str, hash_text: str, label: str | None) -> NewEntry:
    """Raises HashFormatError (or ValueError for a label) with a readable reason."""
    kind = signal_type(signal_name)
    return NewEntry(kind.name, kind.parse(hash_text), checked_label(label))


def checked_label(label: str | None) -> str | None:
    """The label to store (None for none or ""); raises HashFormatError ``label_too_long`` or
    ``label_invalid`` (a NUL character)."""
    if label is not None and len(label) > MAX_LABEL:
        raise HashFormatError("label_too_long", f"a label has at most {MAX_LABEL} characters")
    if label is not None and "\x00" in label:  # PostgreSQL cannot store it (imports are not JSON-checked)
        raise HashFormatError("label_invalid", "a label cannot hold a NUL character (U+0000)")
    return label or None


class BankStore:
    def __init__(self, session_factory: sessionmaker) -> None:
        self.sessions = session_factory

    # Banks

    def create_bank(self, name: str, purpose: str, thresholds: dict[str, int] | None = None,
                    description: str | None = None) -> dict:
        if not isinstance(name, str) or not BANK_NAME.match(name) or name in RESERVED_NAMES:
            raise ApiError(422, "bank_name_invalid", "a bank name is 1-64 of a-z 0-9 _ -, starting with a letter "
                                                     f"or digit, and not {' or '.join(RESERVED_NAMES)}")
        if purpose not in PURPOSES:
            raise ApiError(422, "bank_purpose_invalid", f"purpose is one of {', '.join(PURPOSES)}")
        checked = self._checked_thresholds(thresholds or {})
        with self.sessions.begin() as session:
            if session.scalar(select(HashBank.id).where(HashBank.name == name)) is not None:
                raise ApiError(409, "bank_exists", f"a bank named {name!r} exists")
            bank = HashBank(name=name, purpose=purpose, thresholds=checked, description=description,
                            created_at=now())
            session.add(bank)
            session.flush()
            session.add(HashBankChange(op="bank_changed", bank_id=bank.id, changed_at=now()))
            return bank_as_dict(bank, 0)

    def ensure_bank(self, name: str, purpose: str) -> None:
        try:
            self.create_bank(name, purpose)
        except ApiError as exc:
            if exc.code != "bank_exists":
                raise
        except Exception:  # a concurrent creator won the unique constraint
            if self._bank_id(name) is None:
                raise

    def set_thresholds(self, name: str, thresholds: dict[str, int]) -> dict:
        checked = self._checked_thresholds(thresholds)
        with self.sessions.begin() as session:
            bank = self._bank(session, name)
            bank.thresholds = {**(bank.thresholds or {}), **checked}
            session.add(HashBankChange(op="bank_changed", bank_id=bank.id, changed_at=now()))
            return bank_as_dict(bank)

    def list_banks(self) -> list[dict]:
        with self.sessions() as session:
            counts = dict(session.execute(select(HashBankEntry.bank_id, func.count()).group_by(HashBankEntry.bank_id)).all())
            return [bank_as_dict(bank, counts.get(bank.id, 0))
                    for bank in session.scalars(select(HashBank).order_by(HashBank.name))]

    def get_bank(self, name: str) -> dict:
        with self.sessions() as session:
            bank = self._bank(session, name)
            count = session.scalar(select(func.count()).where(HashBankEntry.bank_id == bank.id))
            return bank_as_dict(bank, count)

    def all_banks(self) -> list[HashBank]:
        with self.sessions() as session:
            return list(session.scalars(select(HashBank)))

    def delete_bank(self, name: str) -> None:
        with self.sessions.begin() as session:
            bank = self._bank(session, name)
            session.execute(delete(HashBankEntry).where(HashBankEntry.bank_id == bank.id))
            session.delete(bank)
            session.add(HashBankChange(op="bank_deleted", bank_id=bank.id, changed_at=now()))

    # Entries

    def add_entries(self, bank_name: str, entries: Iterable[NewEntry], source: str) -> list[dict]:
        """Adds, or returns the existing entry for a hash already in the bank."""
        with self.sessions.begin() as session:
            bank = self._bank(session, bank_name)
            added = []
            for entry in entries:
                row = session.scalar(select(HashBankEntry).where(
                    HashBankEntry.bank_id == bank.id, HashBankEntry.signal_type == entry.signal_type,
                    HashBankEntry.hash == entry.hash))
                if row is None:
                    row = HashBankEntry(bank_id=bank.id, signal_type=entry.signal_type, hash=entry.hash,
                                        label=entry.label, source=source, created_at=now(),
                                        variants=" ".join(entry.variants) or None)
                    session.add(row)
                    session.flush()
                elif entry.variants and not row.variants:
                    # The hash was banked bare (a list); now its picture is known: retro-hunt searches
                    # the orientations it could not before (the change row makes it hunt this entry again).
                    row.variants = " ".join(entry.variants)
                    session.add(HashBankChange(op=VARIANTS_ADDED, bank_id=bank.id, entry_id=row.id, changed_at=now()))
                added.append(entry_as_dict(row, bank.name))
            return added

    def list_entries(self, bank_name: str, after_id: int = 0, limit: int = 100) -> list[dict]:
        with self.sessions() as session:
            bank = self._bank(session, bank_name)
            rows = session.scalars(select(HashBankEntry).where(HashBankEntry.bank_id == bank.id,
                                                               HashBankEntry.id > after_id)
                                   .order_by(HashBankEntry.id).limit(limit))
            return [entry_as_dict(row, bank.name) for row in rows]

    def remove_entry(self, bank_name: str, entry_id: int) -> None:
        with self.sessions.begin() as session:
            bank = self._bank(session, bank_name)
            row = session.get(HashBankEntry, entry_id)
            if row is None or row.bank_id != bank.id:
                raise ApiError(404, "entry_not_found", f"bank {bank_name!r} has no entry {entry_id}")
            session.delete(row)
            session.add(HashBankChange(op="entry_removed", bank_id=bank.id, entry_id=entry_id, changed_at=now()))

    def iter_entries(self, bank_name: str, batch: int = 5000) -> Iterator[HashBankEntry]:
        """Every entry of a bank in id order, a batch at a time (exports stream)."""
        last = 0
        bank_id = self._bank_id(bank_name)
        if bank_id is None:
            raise bank_not_found(bank_name)
        while True:
            with self.sessions() as session:
                rows = list(session.scalars(select(HashBankEntry).where(
                    HashBankEntry.bank_id == bank_id, HashBankEntry.id > last).order_by(HashBankEntry.id).limit(batch)))
            if not rows:
                return
            yield from rows
            last = rows[-1].id

    def entry_details(self, entry_ids: list[int]) -> dict[int, tuple[str | None, str]]:
        """Label and hash of a few entries (the ones a lookup matched)."""
        with self.sessions() as session:
            rows = session.execute(select(HashBankEntry.id, HashBankEntry.label, HashBankEntry.hash)
                                   .where(HashBankEntry.id.in_(entry_ids)))
            return {row.id: (row.label, row.hash) for row in rows}

    # Quarantine

    def quarantine(self, entry_id: int, reason: str) -> bool:
        with self.sessions.begin() as session:
            row = session.get(HashBankEntry, entry_id)
            if row is None or row.quarantined_at is not None:
                return False
            row.quarantined_at, row.quarantine_reason = now(), reason
            session.add(HashBankChange(op="entry_quarantined", bank_id=row.bank_id, entry_id=entry_id,
                                       changed_at=now()))
            return True

    def release(self, entry_id: int) -> None:
        with self.sessions.begin() as session:
            row = session.get(HashBankEntry, entry_id)
            if row is None or row.quarantined_at is None:
                raise ApiError(404, "entry_not_quarantined", f"entry {entry_id} is not quarantined")
            row.quarantined_at, row.quarantine_reason = None, None
            session.add(HashBankChange(op="entry_released", bank_id=row.bank_id, entry_id=entry_id, changed_at=now()))

    def quarantined(self) -> list[dict]:
        with self.sessions() as session:
            rows = session.execute(select(HashBankEntry, HashBank.name).join(HashBank)
                                   .where(HashBankEntry.quarantined_at.is_not(None)).order_by(HashBankEntry.id))
            return [entry_as_dict(entry, name) for entry, name in rows]

    # Helpers

    def _bank(self, session: Session, name: str) -> HashBank:
        bank = session.scalar(select(HashBank).where(HashBank.name == name))
        if bank is None:
            raise bank_not_found(name)
        return bank

    def require_bank(self, name: str) -> None:
        """Raises the API's 404 ``bank_not_found`` unless the bank exists (no count of its entries)."""
        if self._bank_id(name) is None:
            raise bank_not_found(name)

    def _bank_id(self, name: str) -> int | None:
        with self.sessions() as session:
            return session.scalar(select(HashBank.id).where(HashBank.name == name))

    @staticmethod
    def _checked_thresholds(thresholds: dict) -> dict[str, int]:
        if not isinstance(thresholds, dict):
            raise ApiError(422, "threshold_invalid", "thresholds map a signal type to a distance")
        try:
            return {signal_type(name).name: signal_type(name).check_threshold(value)
                    for name, value in thresholds.items()}
        except HashFormatError as exc:
            raise bad_hash(exc) from exc
