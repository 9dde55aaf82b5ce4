"""A filter that does not compile, checked before it replaces what the table shows,
and its error as the lines under the filter box."""

from __future__ import annotations

from rich.text import Text

from regtui.errors import FilterError
from regtui.tui.safe import clean

SHOWN_TEXT = 200  # a longer filter is not drawn again under the box


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
    """What is wrong, the filter with the offending token underlined (when the error
    names one), and the likely fix; the rows stay as they were, which it says."""
    out = Text("filter: ")
    out.append(clean(problem.message, 300), "bold")
    column, end = problem.column, problem.end
    shown = clean(typed, SHOWN_TEXT)
    if column is not None and shown == typed and 1 <= column <= len(typed) + 1:
        stop = max(column + 1, min(end or column + 1, len(typed) + 1))
        out.append("\n" + typed + "\n", "dim")
        out.append(" " * (column - 1) + "^" * (stop - column), "bold")
        out.append(f" column {column}")
    if problem.hint:
        out.append("\n" + clean(problem.hint, 300), "italic")
    out.append("  (still showing the last result)", "dim")
    return out
