"""The whole catalog copied out: a SQLite backup file (taking its kept copies
along) and the JSON export and import (catalog.exchange)."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from regtui.catalog import store, store_settings
from regtui.catalog.core import Core
from regtui.catalog.db import read_txn, write_txn
from regtui.errors import ArtifactError, UsageError
from regtui.path_problems import describe, folder_problem
from regtui.settings import sqlite_file, sqlite_uri, sqlite_url


@dataclass(frozen=True)
class Backup:
    """What `Catalog.backup` wrote: the file, and the kept copies it took along
    (`store` is None when the catalog's store is a setting the backup shares)."""

    file: Path
    pages: int
    store: Path | None
    copies: int
    problems: list[str]


def backup(core: Core, target: str | os.PathLike[str]) -> Backup:
    """A consistent copy of a live SQLite catalog (SQLite's online backup API).

    A catalog whose store is the default one (beside its file) takes its kept
    copies along: each is copied (reflinked where possible, verified) into the
    backup's own default store, so the backup resolves production by itself.
    """
    if core.dialect != "sqlite":
        raise UsageError("backup copies SQLite catalogs; for PostgreSQL use pg_dump")
    dest = Path(target).expanduser().absolute()
    if dest.exists():
        raise UsageError(f"{dest} exists; choose a new file")
    problem = folder_problem(dest)
    if problem is not None:
        raise UsageError(f"cannot back up to {dest}: {problem}")
    source = sqlite_file(core.url) or ""
    tmp = dest.with_name(dest.name + ".partial")
    try:
        src = sqlite3.connect(sqlite_uri(source, "ro"), uri=True)
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
            pages = dst.execute("PRAGMA page_count").fetchone()[0]
            # From the copy itself: exactly the versions the backup holds.
            kept = dst.execute(
                "SELECT path, sha256, stored_path FROM version "
                "WHERE stored_path IS NOT NULL ORDER BY id"
            ).fetchall()
        finally:
            dst.close()
            src.close()
        tmp.replace(dest)
    except (sqlite3.Error, OSError) as exc:
        tmp.unlink(missing_ok=True)
        why = describe(dest, exc) if isinstance(exc, OSError) else f"{dest}: {exc}"
        raise UsageError(f"backup failed: {why}") from None
    here = store_settings.store_location(core)
    there = store.location_for(sqlite_url(dest), None).path
    # A store a setting names (a shared folder, a bucket) is shared, not carried along.
    if here.source != "default" or not isinstance(here.path, Path):
        return Backup(dest, pages, None, 0, [])
    assert isinstance(there, Path), "a SQLite catalog's default store is a folder"
    copied, problems = 0, []
    for path, sha256, stored_path in kept:
        sources = [*store.copy_paths(stored_path, sha256, here.path), Path(path)]
        try:
            store.keep(Path(path).name, sha256, there, sources)
        except ArtifactError as exc:
            problems.append(str(exc))
        else:
            copied += 1
    return Backup(dest, pages, there, copied, problems)


def export_data(core: Core) -> dict[str, Any]:
    from regtui.catalog.exchange import export_catalog

    with read_txn(core.engine) as conn:
        return export_catalog(conn)


def import_data(core: Core, data: dict[str, Any], notes: list[str] | None = None) -> int:
    """Load an export into this empty catalog; what a person should know about it
    (such as the export's store setting) is appended to `notes`."""
    from regtui.catalog.exchange import import_catalog

    with write_txn(core.engine) as conn:
        return import_catalog(conn, data, notes)
