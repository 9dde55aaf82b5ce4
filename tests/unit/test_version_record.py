"""The version record is declared once (catalog.version_fields) and every layer
agrees with that declaration: the table, VersionInfo, the JSON shape, the rows
registration writes, and both read paths (Catalog and the CLI's QuickReader)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from regtui.catalog import reads
from regtui.catalog.quickread import QuickReader
from regtui.catalog.records import Approval, VersionInfo
from regtui.catalog.refs import parse_ref
from regtui.catalog.schema import VersionRow
from regtui.catalog.service import VERSION_COLUMNS, Catalog
from regtui.catalog.version_fields import (
    AT,
    COLUMNS,
    FIELDS,
    INSERT_COLUMNS,
    MODEL_AT,
    STORED,
    Kind,
    new_row,
)
from tests.unit.helpers import artifact, catalog_with_versions

TABLE = VersionRow.__table__


def test_the_columns_are_the_tables() -> None:
    assert len(set(COLUMNS)) == len(COLUMNS)
    assert sorted(COLUMNS) == sorted(c.name for c in TABLE.c)
    assert sorted(INSERT_COLUMNS) == sorted(c.name for c in TABLE.c if c.name != "id")


def test_both_read_paths_select_the_declared_columns_in_its_order() -> None:
    assert list(select(*VERSION_COLUMNS).selected_columns.keys()) == [*COLUMNS, "model_name"]
    selected = reads.SELECT_VERSIONS.split(" FROM ")[0].removeprefix("SELECT ").split(", ")
    assert selected == [*(f"version.{c}" for c in COLUMNS), "model.name"]
    assert len(COLUMNS) == MODEL_AT
    assert [AT[f.name] for f in STORED] == list(range(len(COLUMNS)))


def test_the_fields_are_versioninfos() -> None:
    """Each declared name is a VersionInfo attribute (a dotted one, an attribute
    of a composite), and VersionInfo holds nothing the declaration lacks."""
    methods = {"ref", "target", "to_json", "to_json_text", "from_db"}
    public = {n for n in dir(VersionInfo) if not n.startswith("_")} - methods
    assert public == {f.name.partition(".")[0] for f in FIELDS}
    parts = [f.name.partition(".")[2] for f in FIELDS if f.name.startswith("approval.")]
    assert parts == [f.name for f in dataclasses.fields(Approval)]


def test_new_rows_map_record_names_to_columns() -> None:
    row = new_row(version=7, metadata={"a": 1}, path="/p")
    assert list(row) == list(INSERT_COLUMNS)
    assert (row["number"], row["meta"], row["path"]) == (7, {"a": 1}, "/p")
    assert (row["approval_status"], row["archived"], row["artifact_state"]) == (
        "pending",
        False,
        "ok",
    )
    assert row["metrics"] == {} and row["warnings"] == () and row["datasets"] == []
    assert new_row()["metrics"] is not new_row()["metrics"]  # no shared mutable default
    wrongs: list[dict[str, Any]] = [{"number": 7}, {"meta": {}}, {"id": 1}, {"model": "m"}]
    for wrong in wrongs:
        with pytest.raises(TypeError):
            new_row(**wrong)


def _distinct_values(vid: int, mid: int, number: int) -> dict[str, Any]:
    """A value for every column, each one different, keyed by column name."""
    values: dict[str, Any] = {}
    for i, f in enumerate(STORED):
        column = str(f.column)
        if f.kind is Kind.TEXT:
            values[column] = f"<{column}>"
        elif f.kind is Kind.JSON:
            values[column] = json.dumps(
                [f"<{column}>"] if f.name in ("warnings", "datasets") else {f"<{column}>": i}
            )
        elif f.kind is Kind.TIME:
            values[column] = f"2001-01-{i:02d} 00:00:{i:02d}.{i:06d}"
        elif f.kind is Kind.FLAG:
            values[column] = 0  # false: every other slot here reads as true
    values.update(id=vid, model_id=mid, number=number, size_bytes=424242)
    return values


def _expected(f: Any, values: dict[str, Any]) -> Any:
    """What the record says for field `f` given the stored `values`."""
    raw = values[f.column]
    if f.kind is Kind.JSON:
        decoded = json.loads(raw)
        return tuple(decoded) if f.name == "warnings" else decoded
    if f.kind is Kind.TIME:
        return datetime.fromisoformat(raw).replace(tzinfo=UTC)
    if f.kind is Kind.FLAG:
        return bool(raw)
    return raw


def test_every_field_reads_back_by_name_on_both_paths(sqlite_path: str, tmp_path: Path) -> None:
    """A distinct value in every column comes back under the field that declares
    that column, on every read: a position off by one anywhere would show."""
    cat = catalog_with_versions(sqlite_path, tmp_path, 1)
    v = cat.get("churn:1")
    values = _distinct_values(v.id, v.model_id, v.version)
    with sqlite3.connect(sqlite_path) as con:
        sets = ", ".join(f"{c} = :{c}" for c in values if c != "id")
        con.execute(f"UPDATE version SET {sets} WHERE id = :id", values)
    cat.close()
    cat = Catalog(sqlite_path)
    reader = QuickReader.open(sqlite_path)
    assert reader is not None
    with reader:
        seen = [
            cat.get("churn:1"),
            cat.versions("churn")[0],
            cat.versions(where="version = 1", limit=1)[0],
            reader.get(parse_ref("churn:1")),
            reader.versions("churn")[0],
        ]
    for got in seen:
        for f in STORED:
            head, _, part = f.name.partition(".")
            value = getattr(getattr(got, head), part) if part else getattr(got, f.name)
            assert value == _expected(f, values), f.name
        shown = got.to_json()
        assert shown["metadata"] == {"<meta>": AT["metadata"]}
        assert shown["approval"]["status"] == "<approval_status>"
        assert json.loads(got.to_json_text()) == shown


def test_the_json_shape_follows_the_declaration(db_url: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(db_url, tmp_path, 2)
    cat.promote("churn:1", "staging")
    registered = cat.register(artifact(tmp_path, "m3.bin", "model 3"), "churn", tags={"k": "v"})
    keys = list(dict.fromkeys(f.name.partition(".")[0] for f in FIELDS if f.json))
    for v in [*cat.versions("churn"), registered]:
        shown = v.to_json()
        assert list(shown) == keys
        assert list(shown["approval"]) == [f.name for f in dataclasses.fields(Approval)]
        assert list(json.loads(v.to_json_text())) == keys
        assert json.loads(v.to_json_text()) == shown
    # The record built from the row it wrote is the record read back.
    assert registered.to_json() == cat.get("churn:3").to_json()
    assert cat.get("churn:1").stages == ("staging",)
