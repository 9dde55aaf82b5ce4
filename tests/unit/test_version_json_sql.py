"""`versions --json` on the quick path builds each row's text in SQLite
(version_json_sql): it must say exactly what the Python path says, for every
value a row can hold, and never let a non-ASCII character out raw."""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.catalog.quickread import QuickReader
from regtui.catalog.service import Catalog
from regtui.catalog.version_json import ascii_json, versions_json_text
from regtui.catalog.version_json_sql import SELECT_JSON
from tests.support.hypothesis_runs import examples
from tests.unit.helpers import catalog_with_versions
from tests.unit.test_quickread import busy_catalog  # noqa: F401  (a fixture)

ORDERS: list[dict[str, Any]] = [
    {},
    {"desc": True},
    {"limit": 2},
    {"order_by": "metrics.auc", "desc": True, "limit": 3},
    {"order_by": "created"},
    {"order_by": "tags.x", "limit": 1},
]


def both(path: str, model: str | None, **order: Any) -> tuple[str, str]:
    reader = QuickReader.open(path)
    assert reader is not None
    with reader:
        quick = "".join(reader.versions_json(model, **order))
        slow = versions_json_text(reader.versions(model, **order))
    return quick, slow


def test_same_text_as_the_python_path(busy_catalog: Catalog, sqlite_path: str) -> None:  # noqa: F811
    for model in ("churn", "beta", None):
        for order in ORDERS:
            quick, slow = both(sqlite_path, model, **order)
            assert quick.isascii()
            assert quick == slow, (model, order)
            full = busy_catalog.versions(model, **order)
            assert json.loads(quick) == [v.to_json() for v in full], (model, order)


def test_an_empty_list_is_the_same_text(sqlite_path: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(sqlite_path, tmp_path, 1)
    cat.archive("churn:1")
    quick, slow = both(sqlite_path, "churn", limit=1, order_by="tags.none")
    assert quick == slow


# Values a stored row may hold: as regtui writes them, as older releases or other
# tools may have left them, and text of every kind of character.
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
TIMES = st.sampled_from(
    [
        "2026-01-02 03:04:05.123456",
        "2026-01-02 03:04:05",  # no fraction: the Python path keeps it so too
        "2026-01-02T03:04:05",  # another writer's form: left to Python
        "2026-01-02 03:04:05+00:00",
        "2026-01-02 03:04:05.5+00:00",
    ]
)
JSON_TEXT = st.one_of(
    st.just("null"),
    st.just('{"auc": NaN}'),
    st.just('{"loss": Infinity, "x": -Infinity}'),
    st.dictionaries(TEXT, st.floats(allow_nan=False, allow_infinity=False), max_size=3).map(
        json.dumps
    ),
    st.dictionaries(TEXT, TEXT, max_size=3).map(lambda d: json.dumps(d, ensure_ascii=False)),
    st.just('{"note": "NaN in a tag value"}'),
)


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalog whose churn:2 each example rewrites (a copy of it, each time)."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "catalog.sqlite"
    with catalog_with_versions(str(path), folder, 2) as cat:
        cat.promote("churn:2", "staging")
    return path


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    text=st.fixed_dictionaries(
        {"path": TEXT, "format": TEXT, "description": st.none() | TEXT, "approval_reason": TEXT}
    ),
    metrics=JSON_TEXT,
    tags=JSON_TEXT,
    warnings=st.sampled_from(["null", "[]", '["a \\u202e b"]']),
    created=TIMES,
    approved=st.none() | TIMES,
    archived=st.sampled_from([0, 1]),
)
def test_every_stored_value_says_what_python_says(
    two_versions: Path,
    tmp_path: Path,
    text: dict[str, Any],
    metrics: str,
    tags: str,
    warnings: str,
    created: str,
    approved: str | None,
    archived: int,
) -> None:
    sqlite_path = str(tmp_path / f"{uuid.uuid4().hex}.sqlite")  # no -wal of an earlier example
    shutil.copyfile(two_versions, sqlite_path)
    con = sqlite3.connect(sqlite_path)
    with con:
        con.execute(
            "UPDATE version SET path = :path, format = :format, description = :description, "
            "approval_reason = :approval_reason, metrics = :metrics, tags = :tags, "
            "warnings = :warnings, created_at = :created, approval_at = :approved, "
            "archived = :archived WHERE number = 2",
            {
                **text,
                "metrics": metrics,
                "tags": tags,
                "warnings": warnings,
                "created": created,
                "approved": approved,
                "archived": archived,
            },
        )
    con.close()
    quick, slow = both(sqlite_path, "churn")
    assert quick.isascii()
    assert json.loads(quick) == json.loads(slow)


def test_rows_sqlite_cannot_render_alike_go_to_python(sqlite_path: str, tmp_path: Path) -> None:
    """The fallback is per row: NULL text from SQLite for exactly those rows."""
    catalog_with_versions(sqlite_path, tmp_path, 3)
    con = sqlite3.connect(sqlite_path)
    with con:
        con.execute("UPDATE version SET metrics = '{\"auc\": NaN}' WHERE number = 2")
        con.execute("UPDATE version SET created_at = '2026-01-02T03:04:05' WHERE number = 3")
    rows = con.execute(SELECT_JSON + "ORDER BY version.number").fetchall()
    con.close()
    texts = [(before, after) for _, before, after in rows]
    assert None not in texts[0]
    assert texts[1][0] is None and texts[1][1] is not None  # metrics come before the stages
    assert texts[2][0] is not None and texts[2][1] is None  # created_at comes after them
    quick, slow = both(sqlite_path, "churn")
    assert quick == slow


@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"])))
def test_ascii_json_keeps_the_meaning(value: str) -> None:
    doc = json.dumps({"k": [value, {value: 1}]}, ensure_ascii=False)
    out = ascii_json(doc)
    assert out.isascii()
    assert json.loads(out) == json.loads(doc)
    assert out == json.dumps({"k": [value, {value: 1}]})  # json.dumps' own escapes
