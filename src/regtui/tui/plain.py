"""Untrusted values as plain, safe strings for a cell or a line.

No Textual here (Rich only measures cell widths), so the paging model and its
column fitting can use these without importing the UI; `safe.py` builds the
Text/Content objects that widgets are given from the same functions.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich.cells import cell_len, set_cell_size

from regtui.text import human_size as text_human_size
from regtui.text import printable

CELL_LIMIT = 200
BLOCK_LIMIT = 20_000


def clean(value: object, limit: int = CELL_LIMIT, *, one_line: bool = True) -> str:
    """A plain str with control characters made visible and cut at `limit`."""
    if value is None:
        return ""
    return printable(value, limit, one_line=one_line)


def block(value: object, limit: int = BLOCK_LIMIT) -> str:
    """Multi-line text (a model card for Markdown): newlines kept, controls visible."""
    return clean(value, limit, one_line=False)


def fit(value: str, width: int) -> str:
    """Pad or cut (by terminal cells) to exactly `width` cells."""
    if width <= 0:
        return ""
    if cell_len(value) > width:
        return set_cell_size(value, width - 1) + "…"
    return set_cell_size(value, width)


def value_str(value: Any) -> str:
    """A field value (number, str, dict, list, None) as one line of text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return number(value)
    if isinstance(value, dict | list | tuple):
        try:
            return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def number(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if value == 0:
        return "0"
    if abs(value) >= 1e6 or abs(value) < 1e-3:
        return f"{value:.4g}"  # 1e-05, 1.235e+06: short enough for a table cell
    return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.1f}"


def human_size(n: int | None) -> str:
    return "" if n is None else text_human_size(n)


def short_time(ts: datetime | None) -> str:
    """UTC time as `2026-03-01 09:00`: the same in every time zone (and snapshot)."""
    if ts is None:
        return ""
    return ts.strftime("%Y-%m-%d %H:%M")
