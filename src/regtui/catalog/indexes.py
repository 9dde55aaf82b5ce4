"""Metrics, tags and dataset identities repeated as indexed rows (migrations
0004, 0005), for fast filters.

`version.metrics`, `version.tags` and `version.datasets` stay the record;
whoever writes those also calls `index_versions` / `index_datasets` in the
same transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Dialect

from regtui.catalog.db import DriverSQL, insert_sql
from regtui.catalog.schema import VersionDatasetRow, VersionMetricRow, VersionTagRow

VM = VersionMetricRow.__table__
VT = VersionTagRow.__table__
VD = VersionDatasetRow.__table__


def index_versions(
    conn: Connection, rows: Sequence[tuple[int, dict[str, float], dict[str, str]]]
) -> None:
    """Add index rows for (version id, metrics, tags) triples, as driver-level SQL
    (the registration hot path writes them for every version)."""
    metrics = [
        {"version_id": vid, "name": k, "value": float(x)}
        for vid, m, _ in rows
        for k, x in m.items()
    ]
    tags = [{"version_id": vid, "key": k, "value": x} for vid, _, t in rows for k, x in t.items()]
    ins_metric, ins_tag = _driver_sql(conn.dialect)
    ins_metric.executemany(conn, metrics)
    ins_tag.executemany(conn, tags)


@functools.lru_cache(maxsize=64)
def _driver_sql(dialect: Dialect) -> tuple[DriverSQL, DriverSQL]:
    return (
        DriverSQL(dialect, insert_sql(dialect, VM, ["version_id", "name", "value"]), VM),
        DriverSQL(dialect, insert_sql(dialect, VT, ["version_id", "key", "value"]), VT),
    )


def index_datasets(conn: Connection, rows: Sequence[tuple[int, Sequence[dict[str, Any]]]]) -> None:
    """Add `version_dataset` rows for (version id, dataset identities) pairs: each
    identity's hash, path or URI, so `dataset = '…'` is an index seek."""
    from regtui.catalog.datasets import idents

    seen: set[tuple[int, str]] = set()
    params = []
    for vid, datasets in rows:
        for ds in datasets or ():
            for ident in idents(ds):
                if (vid, ident) not in seen:
                    seen.add((vid, ident))
                    params.append({"version_id": vid, "ident": ident})
    if params:
        _dataset_sql(conn.dialect).executemany(conn, params)


@functools.lru_cache(maxsize=64)
def _dataset_sql(dialect: Dialect) -> DriverSQL:
    return DriverSQL(dialect, insert_sql(dialect, VD, ["version_id", "ident"]), VD)
