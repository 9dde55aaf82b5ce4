"""A filter that does not compile, checked before it replaces what the table shows,
and its error as the line under the filter box."""

from __future__ import annotations

from rich.text import Text

from regtui.errors import FilterError
from regtui.tui.safe import clean


def filter_problem(value: str, dialect: str) -> FilterError | None:
    """The error `value` compiles to, or None (an empty filter is fine)."""
    if not value.strip():
        return None
    from regtui.catalog.filter import compile_filter

    try:
        compile_filter(value, dialect)
    except FilterError as exc:
        return exc
    return None


def filter_error_text(problem: FilterError, typed: str) -> Text:
    """The message, a caret under the column it names (when it names one), and a hint;
    the rows stay as they were, which the line says."""
    out = Text(clean(str(problem), 500))
    column = getattr(problem, "column", None)
    if isinstance(column, int) and 1 <= column <= len(typed) + 1 and len(typed) <= 200:
        out.append("\n" + clean(typed, 200) + "\n", "dim")
        out.append(" " * (column - 1) + "^")
    hint = getattr(problem, "hint", None)
    if hint:
        out.append("\n" + clean(str(hint), 300), "italic")
    out.append("  (still showing the last result)", "dim")
    return out
