"""Kept copies made for a protected stage: made outside the write lock (copying
a big artifact must not hold it), then re-checked and recorded inside it.

Promote, rollback and a policy change all follow the same steps: decide in a read
transaction, `make` the copy, then in the write transaction check it is `still_good`
and `record` it; if not, go round again, at most KEEP_ATTEMPTS times.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, update

from regtui.catalog import audit, store
from regtui.catalog.bucket import Bucket
from regtui.catalog.core import Core
from regtui.catalog.db import read_txn, write_txn
from regtui.catalog.records import VersionInfo
from regtui.catalog.refs import Ref
from regtui.catalog.schema import VersionRow
from regtui.errors import Conflict

V = VersionRow.__table__

# How often promote/rollback re-keep when the catalog changed under them meanwhile.
KEEP_ATTEMPTS = 3


@dataclass(frozen=True)
class CopyMade:
    """A kept copy made outside the write lock, to be re-checked inside it."""

    version_id: int
    store: store.Place
    key: str
    # The audit head when the copy was decided on: every change appends an event,
    # so an unchanged head means nothing (the store location included) moved since.
    head: tuple[int, str]


def make(v: VersionInfo, where: store.Place) -> str:
    """The key of the version's kept copy in the store at `where`, made now from
    an older copy or the training output (whichever still matches) if the store
    has none that matches. Slow for big artifacts: call it outside any transaction.
    (A bucket is checked for the copy first; only the training output is a source.)"""
    sources: list[Path] = []
    if v.stored_path and not isinstance(where, Bucket):
        sources = store.copy_paths(v.stored_path, v.sha256, where)
    sources.append(Path(v.path))
    return store.keep_at(Path(v.path).name, v.sha256, where, sources)


def still_good(core: Core, conn: Connection, kept: CopyMade | None, vid: int) -> bool:
    """Inside the write transaction: the copy kept outside it is for this version
    and in the store the catalog names now."""
    if kept is None or kept.version_id != vid:
        return False
    return audit.head(conn) == kept.head or kept.store == core.store_location(conn).path


def record(conn: Connection, v: VersionInfo, kept: CopyMade) -> None:
    if kept.key != v.stored_path:
        conn.execute(update(V).where(V.c.id == v.id).values(stored_path=kept.key))


def keep_now(core: Core, ref: Ref, reason: str | None = None) -> VersionInfo:
    """Keep a copy of the version's bytes in the store now, whatever its stages (an
    import asked for it); audited as `kept`. A version already kept is left alone."""
    for _ in range(KEEP_ATTEMPTS):
        with read_txn(core.engine) as conn:
            v = core.version_by_id(conn, core.resolve_id(conn, ref))
            where = core.store_location(conn).path
            seen = audit.head(conn)
        if v.stored_path and store.present_at(v.stored_path, v.sha256, where):
            return v
        kept = CopyMade(v.id, where, make(v, where), seen)
        with write_txn(core.engine) as conn:
            if not still_good(core, conn, kept, v.id):
                continue  # the store moved meanwhile: again
            v = core.version_by_id(conn, v.id)
            record(conn, v, kept)
            core.event(conn, "kept", v.model, v.target, None, {"stored_path": kept.key}, reason)
            return core.version_by_id(conn, v.id)
    raise Conflict(f"{ref} kept changing while its kept copy was made; try again")
