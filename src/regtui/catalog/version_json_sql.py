"""A version's JSON text built by SQLite itself: `versions --json` at 100,000 rows.

Building the text in Python costs about 20 µs a row even when stored JSON is
spliced (version_json.py); SQLite concatenates the same pieces in C, laid out by
the same `json_layout`, and gives the same JSON content as `VersionInfo.to_json()`:

- each row comes as (id, text before "stages", text after it): the stages a
  version holds are few and read separately, then joined in between;
- a value SQLite cannot render as Python would (stored JSON holding NaN or
  Infinity, a timestamp not in SQLite's own naive-UTC form, a value of another
  type than its column's) makes the row's text NULL (NULL spreads through `||`),
  and that row is rendered by the Python path instead;
- json_quote leaves non-ASCII characters raw: rows that hold any are escaped
  afterwards (version_json.ascii_json), so control and bidi characters never reach a
  terminal raw, as with json.dumps' ensure_ascii.

Kept free of SQLAlchemy: the CLI's quick read path imports it.
"""

from __future__ import annotations

from regtui.catalog.version_fields import Field, Kind
from regtui.catalog.version_json import json_layout
from regtui.text import json_text


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _empty(f: Field) -> str:
    """A JSON field's text when nothing is stored: its record value of None."""
    value = f.finish(None) if f.finish is not None else None
    return json_text(list(value) if isinstance(value, tuple) else value)


def _value(f: Field) -> str:
    """SQL giving one field's JSON text; NULL where Python must render it."""
    if f.name == "model":
        return "json_quote(model.name)"
    col = f"version.{f.column}"
    if f.kind is Kind.INT:
        return f"CASE WHEN typeof({col}) = 'integer' THEN CAST({col} AS TEXT) END"
    if f.kind is Kind.FLAG:
        return f"CASE WHEN {col} THEN 'true' ELSE 'false' END"
    if f.kind is Kind.TIME:
        # SQLite keeps UTC as naive 'YYYY-MM-DD HH:MM:SS[.ffffff]' text (version_json._iso_text).
        return (
            f"CASE WHEN {col} IS NULL THEN 'null' "
            f"WHEN typeof({col}) = 'text' AND length({col}) >= 19 "
            f"AND substr({col}, 11, 1) = ' ' AND instr({col}, '+') = 0 "
            f"AND instr(substr({col}, 12), ' ') = 0 "
            f"THEN '\"' || replace({col}, ' ', 'T') || 'Z\"' END"
        )
    if f.kind is Kind.JSON:
        return (
            f"CASE WHEN {col} IS NULL OR {col} = 'null' THEN {_literal(_empty(f))} "
            f"WHEN typeof({col}) = 'text' AND instr({col}, 'NaN') = 0 "
            f"AND instr({col}, 'Infinity') = 0 THEN {col} END"
        )
    # Text; json_quote would write a number unquoted, so only text takes this path.
    return (
        f"CASE WHEN {col} IS NULL THEN 'null' "
        f"WHEN typeof({col}) = 'text' THEN json_quote({col}) END"
    )


def _halves() -> tuple[str, str]:
    """(SQL of the text before the stages, SQL of the text after them)."""
    halves: list[list[str]] = [[], []]
    half = 0
    for piece in json_layout():
        if isinstance(piece, str):
            halves[half].append(_literal(piece))
        elif piece.name == "stages":
            half = 1
        else:
            halves[half].append(_value(piece))
    return " || ".join(halves[0]), " || ".join(halves[1])


_BEFORE, _AFTER = _halves()
# The select list of reads' version queries for the JSON shape: (id, before, after).
SELECT_JSON = (
    f"SELECT version.id, {_BEFORE}, {_AFTER} "
    "FROM version JOIN model ON model.id = version.model_id "
)
