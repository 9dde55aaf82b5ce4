"""The time every catalog change is stamped with, and how stamps are read and shown.

`now()` is called as `clock.now()` from every module that stamps a change, so a
test that needs steady times patches it here once (tests/ui/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# Set while changes replay a history kept elsewhere (an import): they keep its times.
_replayed: ContextVar[datetime | None] = ContextVar("regtui_replayed_time", default=None)


def now() -> datetime:
    return _replayed.get() or datetime.now(UTC)


@contextmanager
def at(ts: datetime) -> Iterator[None]:
    """Changes made inside are stamped `ts` (an imported change keeps its own time)."""
    token = _replayed.set(ts.astimezone(UTC))
    try:
        yield
    finally:
        _replayed.reset(token)


def iso(ts: datetime | None) -> str | None:
    """UTC timestamps as ISO 8601 with a Z, the one format JSON output uses."""
    if ts is None:
        return None
    return ts.isoformat().replace("+00:00", "Z")


def utc(value: Any) -> Any:
    """A database timestamp as an aware UTC datetime (SQLite gives naive UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
