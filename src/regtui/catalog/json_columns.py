"""JSON columns read without decoding them in the driver.

psycopg decodes every JSONB value it fetches with `json.loads`: listing 10,000
versions spent 80% of its time there (8 JSON columns a row), though most of
those values are never looked at. `json_undecoded(column)` selects such a
column so that the driver hands it over undecoded, for `VersionInfo` to decode
on first use:

- SQLite stores JSON as text already; the column is selected as it is, and the
  text (json.dumps' own, ASCII-escaped) may be spliced into JSON output as is.
- PostgreSQL's text form of a JSONB value is its own (keys reordered, numbers
  as NUMERIC writes them, non-ASCII raw), so it must be decoded and encoded
  anew, never spliced: it is selected as UTF-8 *bytes*, which the record
  decodes (`json.loads` takes bytes) and the JSON writer never splices (it
  splices only `str`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class json_undecoded(FunctionElement[Any]):
    """A JSON column, as text on SQLite and as UTF-8 bytes on PostgreSQL."""

    inherit_cache = True
    name = "json_undecoded"

    def __init__(self, column: ColumnElement[Any]) -> None:
        super().__init__(column)
        self.type = Text()  # no result processing on either backend: the driver's value as is


@compiles(json_undecoded)
def _as_stored(element: json_undecoded, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(json_undecoded, "postgresql")
def _as_bytes(element: json_undecoded, compiler: Any, **kw: Any) -> str:
    return f"convert_to(CAST({compiler.process(element.clauses, **kw)} AS TEXT), 'UTF8')"
