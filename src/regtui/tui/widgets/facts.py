"""Key/value tables built only from Text cells (never markup)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.table import Table
from rich.text import Text

from regtui.text import elide_middle
from regtui.tui.safe import clean, text, value_str

MAX_KEY_WIDTH = 36  # past this a key is cut in the middle: its end tells keys apart


def kv_table(rows: Iterable[tuple[str, Any]], *, key_width: int = 18) -> Table:
    """Keys as wide as the longest (from `key_width` to MAX_KEY_WIDTH), a longer one
    cut in the middle (`metadata.param…_leaves`, not `metadata.paramete…`)."""
    rows = [(clean(key, 500), value) for key, value in rows]
    width = max([key_width, *(min(len(key), MAX_KEY_WIDTH) for key, _ in rows)])
    table = Table.grid(padding=(0, 2))
    table.add_column(width=width, style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rows:
        cell = value if isinstance(value, Text) else text(value_str(value), limit=2000)
        cell.no_wrap = False
        table.add_row(Text(elide_middle(key, width)), cell)
    return table
