"""The version record, declared once.

`FIELDS` lists what a version is, in the order its JSON shows it: the record's
name for each field (`VersionInfo` attribute and JSON key), the `version` table
column that stores it, and how the stored value becomes the record's value.
Everything else is derived from it by name: the columns a read selects and the
position of each in the fetched row (`AT`), the row a registration inserts
(`new_row`), `VersionInfo`'s attributes and its JSON. Adding a field is one
entry here and one migration (plus the column in schema.VersionRow).

Kept free of SQLAlchemy: the CLI's quick read path imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Kind(Enum):
    """How a stored value becomes the record's value."""

    INT = "int"  # a number, never null
    TEXT = "text"  # text or null
    FLAG = "flag"  # a boolean (SQLite stores 0/1)
    JSON = "json"  # JSON, handed over as text and decoded on first use
    TIME = "time"  # a UTC timestamp, handed over as the database gives it and decoded on use
    JOINED = "joined"  # not a column of `version`: the owning model's name, or its stages


@dataclass(frozen=True)
class Field:
    # VersionInfo's attribute and the JSON key; a dotted name is a part of a
    # composite in both (`approval.status` is `v.approval.status`).
    name: str
    column: str | None  # the `version` column that stores it; None: not stored there
    kind: Kind = Kind.TEXT
    json: bool = True  # shown in the JSON shape (to_json, --json)
    # A new row's value when registration does not give one (JSON fields: a
    # fresh `finish(None)`, so no two rows share a mutable default).
    default: Any = None
    # For JSON fields: what a decoded value becomes (an absent one included).
    finish: Callable[[Any], Any] | None = None


def _dict(value: Any) -> Any:
    return {} if value is None else value


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value or ())


def _list(value: Any) -> Any:
    return value or []


_J = Kind.JSON
FIELDS: tuple[Field, ...] = (
    Field("id", "id", Kind.INT, json=False),
    Field("model_id", "model_id", Kind.INT, json=False),
    Field("model", None, Kind.JOINED),
    Field("version", "number", Kind.INT),
    Field("path", "path"),
    Field("sha256", "sha256"),
    Field("size_bytes", "size_bytes", Kind.INT),
    Field("format", "format", default="unknown"),
    Field("framework", "framework"),
    Field("description", "description"),
    Field("metrics", "metrics", _J, finish=_dict),
    Field("params", "params", _J, finish=_dict),
    Field("tags", "tags", _J, finish=_dict),
    Field("metadata", "meta", _J, finish=_dict),
    Field("lineage", "lineage", _J, finish=_dict),
    # The latest review decision; ApprovalRow keeps every one.
    Field("approval.status", "approval_status", default="pending"),
    Field("approval.by", "approval_by"),
    Field("approval.at", "approval_at", Kind.TIME),
    Field("approval.reason", "approval_reason"),
    Field("stages", None, Kind.JOINED),
    Field("warnings", "warnings", _J, finish=_tuple),
    Field("created_at", "created_at", Kind.TIME),
    Field("created_by", "created_by"),
    Field("archived", "archived", Kind.FLAG, default=False),
    Field("artifact_state", "artifact_state", default="ok"),
    Field("stored_path", "stored_path"),
    Field("damage", "damage"),
    Field("datasets", "datasets", _J, finish=_list),
    Field("logged", "logged", _J, finish=_dict),
)

BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
STORED: tuple[Field, ...] = tuple(f for f in FIELDS if f.column is not None)
# The `version` columns a read selects, in this order, followed by the model's name.
COLUMNS: tuple[str, ...] = tuple(str(f.column) for f in STORED)
# Where each stored field sits in a fetched row, by record name.
AT: dict[str, int] = {f.name: i for i, f in enumerate(STORED)}
MODEL_AT = len(STORED)  # the model's name, joined on after the version columns
# Columns handed over undecoded (VersionInfo decodes them on first use).
RAW_COLUMNS: frozenset[str] = frozenset(
    str(f.column) for f in STORED if f.kind in (Kind.JSON, Kind.TIME)
)
# The JSON columns among them (PostgreSQL hands these over as UTF-8 bytes).
JSON_COLUMNS: frozenset[str] = frozenset(str(f.column) for f in STORED if f.kind is Kind.JSON)
# What a registration writes: every column but the id the database assigns.
INSERT_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c != "id")


def new_row(**values: Any) -> dict[str, Any]:
    """A `version` row to insert, keyed by column, from values keyed by record
    name (`version=3, metadata={...}`); fields not given take their default
    (so a new version is pending review, not archived, its artifact "ok")."""
    unknown = values.keys() - AT.keys()
    if unknown or "id" in values:
        raise TypeError(f"not a field a new version row takes: {sorted(unknown or {'id'})}")
    return {
        column: values[f.name] if f.name in values else _default(f)
        for f, column in zip(STORED, COLUMNS, strict=True)
        if f.name != "id"
    }


def _default(f: Field) -> Any:
    return f.finish(None) if f.finish is not None else f.default
