"""Argument values as the CLI reads them: KEY=VALUE pairs, numbers, versions, seconds."""

from __future__ import annotations

import argparse
import re
from datetime import datetime
from typing import Any

from regtui.errors import UsageError


def kv(text: str) -> tuple[str, str]:
    if "=" not in text or text.startswith("="):
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), value


# A number as JSON writes one, in ASCII digits only (float() and int() also take
# '١٢', '1_000', ' inf' and 'nan'; none of those is a number here).
_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_NON_FINITE = re.compile(r"[+-]?(inf|infinity|nan)", re.IGNORECASE)
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")  # as float() reads


def number(text: str) -> int | float | None:
    """`text` as a number when it is one (a JSON number, or a spelling of infinity
    or NaN, which the catalog then refuses by name); None when it is text."""
    text = text.strip()
    if _NON_FINITE.fullmatch(text):
        return float(text)
    if not _JSON_NUMBER.fullmatch(text):
        return None
    if any(c in text for c in ".eE"):
        return float(text)  # 1e999 is inf: refused, not stored
    return int(text)


def scalar(value: str) -> Any:
    """Parameter values keep their type when they look like JSON numbers or booleans."""
    low = value.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    found = number(value)
    return value if found is None else found


def metric(key: str, value: str) -> float:
    text = value.strip()
    if not (_DECIMAL.fullmatch(text) or _NON_FINITE.fullmatch(text)):
        raise UsageError(f"metric {key!r} must be a number, got {value!r}")
    return float(text)  # inf, nan and 1e999 are refused by the catalog, by name


def model_name(text: str) -> str:
    """A MODEL argument, bare (`Churn Model v2`) or as a ref quotes it (`"team:churn"`)."""
    from regtui.catalog.refs import model_arg

    return model_arg(text)


def version(text: str) -> int:
    from regtui.catalog.refs import MAX_VERSION, version_number

    found = version_number(text.strip())
    if found is None:
        raise UsageError(f"expected a version number 1 … {MAX_VERSION}, got {text[:40]!r}")
    return found


def settle(text: str) -> float:
    if not _DECIMAL.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}")
    value = float(text)
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError("settle time must be between 0 and 3600 seconds")
    return value


def when(text: str, flag: str, *, day_end: bool = True) -> tuple[datetime, bool]:
    """An ISO time or date given to `flag`, and whether it was a date alone. A time is
    UTC unless it says otherwise; a date is in UTC (the zone every time is shown in)
    and means the end of that day (`day_end`: what a stage held then) or its start
    (`audit --since`: what happened from then on)."""
    from datetime import UTC, date, time

    text = text.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return datetime.combine(day, time.max if day_end else time.min, tzinfo=UTC), True
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{flag}: {text[:80]!r} is not an ISO date (2026-03-03) or time (2026-03-03T12:00Z)"
        ) from None
    return (found if found.tzinfo is not None else found.replace(tzinfo=UTC)), False
