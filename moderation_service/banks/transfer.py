"""Bulk import and export of bank entries: CSV (signal_type,hash,label) and HMA's JSON.

Imports stream: rows are validated and inserted a batch at a time inside one
transaction, so a huge file never sits in memory, and any bad row rolls back
the whole import (all-or-nothing) with the line numbers of the bad rows.
HMA's format is the body of its add-signal call, ``{"pdq": "<hash>"}``, one
JSON object per line (a ``label`` key is kept too).
"""
from __future__ import annotations

import csv
import io
import json
from typing import Iterable, Iterator

from sqlalchemy import select

from moderation_service.banks.signals import HashFormatError
from moderation_service.banks.store import BankStore, NewEntry, checked_entry, now
from moderation_service.db.tables import HashBank, HashBankEntry
from moderation_service.errors import ApiError

CSV_HEADER = ["signal_type", "hash", "label"]
FORMATS = ("csv", "hma")
BATCH = 1000
MAX_REPORTED_ERRORS = 50


def parse_csv(lines: Iterable[str]) -> Iterator[tuple[int, NewEntry | HashFormatError]]:
    """(line number, entry or the error for that line); a first line equal to the header is skipped."""
    reader = csv.reader(lines)
    for row in reader:
        line = reader.line_num
        if line == 1 and [cell.strip().lower() for cell in row] == CSV_HEADER:
            continue
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) not in (2, 3):
            yield line, HashFormatError("row_invalid", f"expected signal_type,hash[,label]; got {len(row)} fields")
            continue
        try:
            yield line, checked_entry(row[0].strip(), row[1], row[2] if len(row) == 3 else None)
        except HashFormatError as exc:
            yield line, exc


def parse_hma(lines: Iterable[str]) -> Iterator[tuple[int, NewEntry | HashFormatError]]:
    for line, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError:
            yield line, HashFormatError("row_invalid", "not a JSON object")
            continue
        if not isinstance(record, dict):
            yield line, HashFormatError("row_invalid", "not a JSON object")
            continue
        label = record.get("label")
        signals = [(key, value) for key, value in record.items() if key != "label"]
        if len(signals) != 1:
            yield line, HashFormatError("row_invalid", 'expected one {"<signal_type>": "<hash>"} per line')
            continue
        try:
            yield line, checked_entry(signals[0][0], signals[0][1], label if isinstance(label, str) else None)
        except HashFormatError as exc:
            yield line, exc


def import_entries(store: BankStore, bank_name: str, lines: Iterable[str], source: str,
                   file_format: str = "csv") -> dict:
    parse = {"csv": parse_csv, "hma": parse_hma}.get(file_format)
    if parse is None:
        raise ApiError(422, "import_format_invalid", f"format is one of {', '.join(FORMATS)}")
    errors: list[dict] = []
    error_count = imported = rows = 0
    with store.sessions() as session, session.begin():
        bank_id = session.scalar(select(HashBank.id).where(HashBank.name == bank_name))
        if bank_id is None:
            raise ApiError(404, "bank_not_found", f"no bank named {bank_name[:64]!r}")
        pending: list[dict] = []
        for line, parsed in parse(lines):
            if isinstance(parsed, HashFormatError):
                error_count += 1
                if len(errors) < MAX_REPORTED_ERRORS:
                    errors.append({"line": line, "code": parsed.code, "message": parsed.message})
                continue
            rows += 1
            if error_count:
                continue  # nothing will be kept; only find the remaining bad lines
            pending.append({"bank_id": bank_id, "signal_type": parsed.signal_type, "hash": parsed.hash,
                            "label": parsed.label, "source": source, "created_at": now()})
            if len(pending) >= BATCH:
                imported += _insert_new(session, pending)
                pending = []
        if error_count:
            session.rollback()
            raise ApiError(422, "import_invalid",
                           f"{error_count} bad row(s); nothing was imported", details={"errors": errors,
                                                                                        "error_count": error_count})
        if pending:
            imported += _insert_new(session, pending)
    return {"imported": imported, "already_present": rows - imported, "rows": rows}


def _insert_new(session, rows: list[dict]) -> int:
    """Inserts rows, skipping hashes the bank already holds (within the file too)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the project runs on these two
        raise RuntimeError(f"bank import does not support {dialect}")
    statement = insert(HashBankEntry).values(rows).on_conflict_do_nothing(
        index_elements=["bank_id", "signal_type", "hash"]).returning(HashBankEntry.id)
    return len(session.execute(statement).all())  # rowcount is -1 for multi-row inserts on psycopg


def export_lines(store: BankStore, bank_name: str, file_format: str = "csv") -> Iterator[str]:
    if file_format not in FORMATS:
        raise ApiError(422, "export_format_invalid", f"format is one of {', '.join(FORMATS)}")
    entries = store.iter_entries(bank_name)  # raises bank_not_found before the first byte
    first = next(entries, None)

    def lines() -> Iterator[str]:
        if file_format == "csv":
            yield ",".join(CSV_HEADER) + "\r\n"
        entry = first
        while entry is not None:
            if file_format == "csv":
                buffer = io.StringIO()
                csv.writer(buffer).writerow([entry.signal_type, entry.hash, entry.label or ""])
                yield buffer.getvalue()
            else:
                record = {entry.signal_type: entry.hash, **({"label": entry.label} if entry.label else {})}
                yield json.dumps(record) + "\n"
            entry = next(entries, None)

    return lines()

