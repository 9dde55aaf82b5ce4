"""Key/value tables built only from Text cells (never markup)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.table import Table
from rich.text import Text

from regtui.tui.safe import text, value_str


def kv_table(rows: Iterable[tuple[str, Any]], *, key_width: int = 18) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(width=key_width, style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rows:
        cell = value if isinstance(value, Text) else text(value_str(value), limit=2000)
        cell.no_wrap = False
        table.add_row(text(key, limit=200), cell)
    return table
