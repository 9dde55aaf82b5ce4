"""Untrusted text made safe to show.

Everything from the catalog or an artifact (model names, tags, metric names,
model cards, paths, reasons) goes through here before it reaches a widget:

* control characters (C0 except tab/newline, ESC, DEL, the C1 range) and the
  bidi controls U+202A-U+202E, U+2066-U+2069 become visible escapes (`\\x1b`);
* very long strings are cut with an ellipsis;
* the result is a `rich.text.Text` / `textual.content.Content`, never a markup
  string, so `[@click=app.quit]` or `[red]` stay characters.

The plain-string helpers live in `plain.py` (no Textual) and are re-exported here.
"""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from regtui.tui.plain import (
    BLOCK_LIMIT,
    CELL_LIMIT,
    block,
    clean,
    fit,
    human_size,
    number,
    short_time,
    value_str,
)

__all__ = [
    "block",
    "cell",
    "clean",
    "content",
    "fit",
    "human_size",
    "number",
    "short_time",
    "text",
    "value_str",
]


def text(value: object, style: str = "", limit: int = CELL_LIMIT, *, one_line: bool = True) -> Text:
    """A Rich Text (never parsed as markup) for DataTable cells, Static, tables."""
    return Text(clean(value, limit, one_line=one_line), style=style, no_wrap=one_line)


def cell(value: object, style: str = "", limit: int = CELL_LIMIT) -> Text:
    return text(value, style, limit)


def content(value: object, limit: int = BLOCK_LIMIT, *, one_line: bool = False) -> Content:
    """A Textual Content holding `value` as literal characters."""
    return Content(clean(value, limit, one_line=one_line))
