"""The time every catalog change is stamped with.

One function, called as `clock.now()` from every module that stamps a change, so
a test that needs steady times patches it here once (tests/ui/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
