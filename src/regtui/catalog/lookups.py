"""Typed reads the watcher asks the catalog: versions by sha256, at exact paths,
in one folder. Values are bound parameters, never filter text: no quoting, no
length cap, and a `%` or `_` in a folder name matches only itself.

Each function takes the version select of the caller (its columns and join)
and a connection, and returns rows; `Catalog` turns them into VersionInfo.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Select

from regtui.catalog.schema import ModelRow, VersionRow

M = ModelRow.__table__
V = VersionRow.__table__

PATHS_PER_QUERY = 500  # bound parameters per IN list, well under every driver's limit


def by_sha(
    conn: Connection, versions: Select[Any], sha256: str, model: str | None = None
) -> list[Any]:
    """Rows of the versions holding these bytes, oldest first: of `model`, or of every model."""
    q = versions.where(V.c.sha256 == sha256)
    if model is not None:
        q = q.where(M.c.name == model)
    return list(conn.execute(q.order_by(V.c.id)).all())


def at_paths(conn: Connection, versions: Select[Any], paths: Iterable[str]) -> list[Any]:
    """Rows of every version (any model) recorded at exactly one of `paths`, oldest
    first. Any number of paths of any length: they go as bound values, in IN lists
    of PATHS_PER_QUERY."""
    wanted = sorted(set(paths))
    rows: list[Any] = []
    for i in range(0, len(wanted), PATHS_PER_QUERY):
        q = versions.where(V.c.path.in_(wanted[i : i + PATHS_PER_QUERY]))
        rows.extend(conn.execute(q).all())
    return sorted(rows, key=lambda r: r.id)


def newest_in_folder(
    conn: Connection, versions: Select[Any], folder: str | os.PathLike[str]
) -> Any | None:
    """The row of the newest version recorded at `folder` itself or at a file
    right inside it (None: none)."""
    base = os.fspath(folder).rstrip(os.sep)
    prefix = base + os.sep
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = conn.execute(
        versions.where((V.c.path == base) | V.c.path.like(escaped + "%", escape="\\")).order_by(
            V.c.id.desc()
        )
    )
    for row in rows:
        if row.path == base or os.sep not in row.path[len(prefix) :]:
            return row
    return None
