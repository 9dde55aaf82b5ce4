"""Where the catalog keeps its copies: the store location, how many kept copies
are there, and moving the store (every copy first, then the setting)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Connection, select

from regtui.catalog import bucket, store
from regtui.catalog.core import VERSION_COLUMNS, Core
from regtui.catalog.db import read_txn, write_txn
from regtui.catalog.input_checks import clean_reason
from regtui.catalog.kept_copies import KEEP_ATTEMPTS
from regtui.catalog.records import VersionInfo
from regtui.catalog.schema import ModelRow, VersionRow
from regtui.errors import ArtifactError, Conflict, StoreUnreachable, UsageError

M = ModelRow.__table__
V = VersionRow.__table__


def store_location(core: Core) -> store.StoreLocation:
    """Where this catalog keeps its copies: its "store" setting, else the default
    (beside a SQLite catalog; host-local for a server catalog)."""
    with read_txn(core.engine) as conn:
        return core.store_location(conn)


def count_kept_copies(core: Core) -> store.KeptCount:
    """How many versions have a kept copy that is in the store (or where an older
    catalog recorded it), and how many have none there (see `verify`)."""
    where = store_location(core).path
    with read_txn(core.engine) as conn:
        rows = conn.execute(
            select(V.c.stored_path, V.c.sha256).where(V.c.stored_path.is_not(None))
        ).all()
    present = sum(store.present_at(sp, sha, where) for sp, sha in rows)
    return store.KeptCount(present, len(rows) - present)


def _usable_folder(new: Path) -> None:
    try:
        new.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot use {new} as the store: {exc.strerror or exc}") from None
    if not new.is_dir() or not os.access(new, os.W_OK | os.X_OK):
        raise UsageError(f"cannot use {new} as the store: not a folder this user may write")


def _kept_versions(core: Core, conn: Connection) -> list[VersionInfo]:
    q = (
        select(*VERSION_COLUMNS)
        .select_from(V.join(M, M.c.id == V.c.model_id))
        .where(V.c.stored_path.is_not(None))
        .order_by(V.c.id)
    )
    return core.to_infos(conn, conn.execute(q).all())


def set_store_location(
    core: Core, path: str | os.PathLike[str] | bucket.Bucket, reason: str | None = None
) -> store.StoreLocation:
    """Point the catalog's store at `path` (absolute; made if missing), or at a
    bucket (`s3://bucket/prefix`, which this host must be able to use).

    Every kept copy is copied there first (each verified, outside the write
    lock); then the new location and its audit event (`store_moved`) commit in
    one transaction. The old copies stay where they were. Refused, with nothing
    changed, when a kept copy matches nowhere (see `verify`).
    """
    core.writable()
    reason = clean_reason(reason)
    new = store.absolute_location(path)
    if isinstance(new, bucket.Bucket):
        bucket.probe(new)
    else:
        _usable_folder(new)
    copied: set[int] = set()
    for _ in range(KEEP_ATTEMPTS):
        with read_txn(core.engine) as conn:
            before = core.store_location(conn)
            kept = _kept_versions(core, conn)
        if new == before.path:
            raise Conflict(f"the store is already at {new}")
        problems = []
        for v in kept:
            if v.id in copied:
                continue
            try:
                sources = store.local_sources(v.stored_path or "", v.sha256, before.path)
                store.keep_at(Path(v.path).name, v.sha256, new, [*sources, Path(v.path)])
            except StoreUnreachable:
                raise
            except ArtifactError as exc:
                problems.append(f"{v.ref}: {exc}")
            else:
                copied.add(v.id)
        if problems:
            raise ArtifactError(
                f"store not moved: {len(problems)} kept copies match nowhere (first: {problems[0]})"
            )
        with write_txn(core.engine) as conn:
            if (
                core.store_location(conn) != before
                or {v.id for v in _kept_versions(core, conn)} - copied
            ):
                continue  # moved, or copies kept, meanwhile: copy what is new, again
            core.write_setting(conn, store.SETTING_KEY, {"location": str(new)})
            core.event(
                conn,
                "store_moved",
                None,
                "store",
                {"location": str(before.path), "source": before.source},
                {"location": str(new)},
                reason,
            )
            return core.store_location(conn)
    raise Conflict("the catalog kept changing while the store was moved; try again")
