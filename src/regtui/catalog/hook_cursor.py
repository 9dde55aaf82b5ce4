"""A hook's cursor: the last seq it finished, and the lease a deliverer holds
while it delivers. Deliverers claim a lease and move the cursor by compare-and-set
under the catalog's write lock, so two never deliver one hook's events at once;
a lease its holder did not renew (a crashed deliverer) runs out and is taken over.
The database holds every writer to what this module does (migration 0010): a
cursor's seq only moves forward, never past the audit log's head, and a cursor is
deleted only with its hook (ON DELETE CASCADE)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from regtui.catalog import audit, clock
from regtui.catalog.clock import utc
from regtui.catalog.core import Core
from regtui.catalog.db import read_txn, write_txn
from regtui.catalog.hooks import C, E
from regtui.catalog.records import AuditEvent


def claim(core: Core, hook_id: int, owner: str, seconds: float) -> int | None:
    """Take the hook's lease for `seconds` if nobody else holds a live one; the
    cursor's seq if taken, else None. Under the write lock, so two deliverers
    cannot both take it."""
    now = clock.now()
    with write_txn(core.engine) as conn:
        row = conn.execute(select(C).where(C.c.hook_id == hook_id)).first()
        if row is None:
            return None  # removed meanwhile
        until = utc(row.lease_until)
        if row.lease_owner not in (None, owner) and until is not None and until > now:
            return None
        conn.execute(
            update(C)
            .where(C.c.hook_id == hook_id)
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
        )
        return int(row.seq)


def advance(core: Core, hook_id: int, owner: str, done: int, seconds: float) -> bool:
    """Move the cursor to `done` (compare-and-set on the lease, extended); False if
    the lease was lost (it ran out and another deliverer took it) or the hook is gone."""
    now = clock.now()
    with write_txn(core.engine) as conn:
        moved = conn.execute(
            update(C)
            .where(C.c.hook_id == hook_id, C.c.lease_owner == owner, C.c.seq < done)
            .values(seq=done, lease_until=now + timedelta(seconds=seconds))
        )
        return moved.rowcount == 1


def release(core: Core, hook_id: int, owner: str) -> None:
    with write_txn(core.engine) as conn:
        conn.execute(
            update(C)
            .where(C.c.hook_id == hook_id, C.c.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )


def events_after(core: Core, seq: int, limit: int = 200) -> list[AuditEvent]:
    """The events after `seq`, in order (a primary-key range: cheap however long the log)."""
    with read_txn(core.engine) as conn:
        rows = conn.execute(select(E).where(E.c.seq > seq).order_by(E.c.seq).limit(limit))
        return [audit.row_to_event(r) for r in rows]
