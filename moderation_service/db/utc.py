"""Every timestamp column reads back as an aware UTC datetime.

SQLite keeps no zone, so a ``DateTime(timezone=True)`` column came back naive
there and aware on PostgreSQL (in the session's zone), and responses showed
three shapes of the same instant. ``UtcDateTime`` stores UTC and always returns
aware UTC; ``apply_to`` swaps it in for every DateTime column of every mapped
class, including ones added later, without changing the schema (no migration).
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, event
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        # A naive value is UTC by this project's convention (review/clock.py).
        if value is None or not isinstance(value, datetime):
            return value
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def apply_to(base: type) -> None:
    """Make every DateTime column of ``base``'s mapped classes a UtcDateTime."""

    def swap(table) -> None:
        for column in table.columns:
            if isinstance(column.type, DateTime) and not isinstance(column.type, UtcDateTime):
                column.type = UtcDateTime()

    @event.listens_for(base, "instrument_class", propagate=True)
    def _on_class(mapper, class_) -> None:  # noqa: ANN001
        if getattr(class_, "__table__", None) is not None:
            swap(class_.__table__)

    for table in base.metadata.tables.values():
        swap(table)
