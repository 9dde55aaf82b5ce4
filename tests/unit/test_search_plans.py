"""The first page of a search across every model is served by indexes: SQLite's
EXPLAIN QUERY PLAN of each statement `Catalog.versions(where=..., limit=...)`
runs searches the version and index tables by key and never scans them whole
(the speed itself is measured by bench/, never asserted here).

Without ANALYZE statistics, which regtui never gathers, SQLite plans a query the
same at 40 versions as at 100,000, so a small catalog shows the plan a big one gets."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from regtui.catalog.service import Candidate, Catalog
from regtui.hashing import Digest

# A whole-table pass over versions or an index table (models are few: scanning
# their name index is how the walk goes model by model).
FULL_SCAN = re.compile(r"^SCAN (version|version_metric|version_tag|version_dataset)\b")


@pytest.fixture
def cat(sqlite_path: str) -> Catalog:
    c = Catalog(sqlite_path)
    c.add_candidates(
        [
            Candidate(
                path=Path(f"/runs/{i}.onnx"),
                model=f"m{i % 4}",
                digest=Digest(hashlib.sha256(f"plan{i}".encode()).hexdigest(), i + 1),
                metrics={"auc": (i % 10) / 10},
                tags={"team": f"t{i % 5}"},
            )
            for i in range(40)
        ]
    )
    return c


def plans(cat: Catalog, **asked: Any) -> list[tuple[str, list[str]]]:
    """Each SELECT `cat.versions(**asked)` ran, with its query plan's lines."""
    engine = cat._core.engine
    ran: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            ran.append((statement, params))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        cat.versions(**asked)
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    out = []
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        for statement, params in ran:
            rows = raw.execute("EXPLAIN QUERY PLAN " + statement, params).fetchall()
            out.append((statement, [r[3] for r in rows]))
    return out


@pytest.mark.parametrize(
    "where",
    [
        "metrics.auc > 0.5",  # broad: the walk finds the page
        "metrics.auc > 0.85",  # narrow: the walk falls short, the matches are sorted
        "tags.team = 't1'",
        "tags.team = 't1' and metrics.auc > 0.3",
        "metrics.auc >= 0.2 and metrics.auc < 0.6",
        "not tags.team = 't1'",
    ],
)
@pytest.mark.parametrize("desc", [False, True])
@pytest.mark.parametrize("model", [None, "m1"])
def test_a_filtered_first_page_never_scans_a_table_whole(
    cat: Catalog, where: str, desc: bool, model: str | None
) -> None:
    seen = plans(cat, model=model, where=where, desc=desc, limit=5)
    assert seen
    for statement, lines in seen:
        scans = [line for line in lines if FULL_SCAN.match(line)]
        assert not scans, (statement, lines)


@pytest.mark.parametrize("desc", [False, True])
def test_the_unfiltered_first_page_walks_the_indexes_in_order(cat: Catalog, desc: bool) -> None:
    [(_, lines)] = [p for p in plans(cat, desc=desc, limit=5) if "FROM version" in p[0]]
    assert not any(FULL_SCAN.match(line) for line in lines), lines
    # Read in index order: nothing to sort.
    assert not any("TEMP B-TREE" in line for line in lines), lines


@pytest.mark.parametrize("order_by", ["metrics.auc", "tags.team"])
@pytest.mark.parametrize("where", [None, "metrics.auc > 0.3"])
@pytest.mark.parametrize("desc", [False, True])
def test_a_page_ordered_by_a_metric_or_tag_reads_its_index_by_value(
    cat: Catalog, order_by: str, where: str | None, desc: bool
) -> None:
    seen = plans(cat, where=where, order_by=order_by, desc=desc, limit=5)
    for statement, lines in seen:
        assert not any(FULL_SCAN.match(line) for line in lines), (statement, lines)
    index = (
        "ix_version_metric_name_value"
        if order_by.startswith("metrics")
        else "ix_version_tag_key_value"
    )
    assert any(index in line for _, lines in seen for line in lines)
