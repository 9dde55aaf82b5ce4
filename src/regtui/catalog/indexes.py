"""Metrics and tags repeated as indexed rows (migration 0004), for fast filters.

`version.metrics` and `version.tags` stay the record; whoever writes those
also calls `index_versions` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, insert

from regtui.catalog.schema import VersionMetricRow, VersionTagRow

VM = VersionMetricRow.__table__
VT = VersionTagRow.__table__


def index_versions(
    conn: Connection, rows: Sequence[tuple[int, dict[str, float], dict[str, str]]]
) -> None:
    """Add index rows for (version id, metrics, tags) triples."""
    metrics = [
        {"version_id": vid, "name": k, "value": float(x)}
        for vid, m, _ in rows
        for k, x in m.items()
    ]
    tags = [{"version_id": vid, "key": k, "value": x} for vid, _, t in rows for k, x in t.items()]
    if metrics:
        conn.execute(insert(VM), metrics)
    if tags:
        conn.execute(insert(VT), tags)
