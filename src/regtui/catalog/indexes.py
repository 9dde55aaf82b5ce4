"""Metrics and tags repeated as indexed rows (migration 0004), for fast filters.

`version.metrics` and `version.tags` stay the record; whoever writes those
also calls `index_versions` in the same transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import Connection, Dialect

from regtui.catalog.db import DriverSQL, insert_sql
from regtui.catalog.schema import VersionMetricRow, VersionTagRow

VM = VersionMetricRow.__table__
VT = VersionTagRow.__table__


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
