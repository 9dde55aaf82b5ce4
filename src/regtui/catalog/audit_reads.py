"""Reads of the audit log: its events, the hash chain and the tables checked
against it, its head (a cheap change counter) and a version's registration event."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from regtui.catalog import audit, audit_replay
from regtui.catalog.core import Core
from regtui.catalog.db import read_txn
from regtui.catalog.records import AuditEvent, ChainCheck, VersionInfo
from regtui.catalog.schema import AuditEventRow

E = AuditEventRow.__table__
# (phase, done, total): "events" of the chain checked, then "tables" (compared).
VerifyProgress = Callable[[str, int, int], None]


def audit_events(
    core: Core,
    model: str | None = None,
    *,
    actor: str | None = None,
    action: str | None = None,
    limit: int | None = None,
    newest_first: bool = False,
    after: int | None = None,
    since: datetime | None = None,
) -> list[AuditEvent]:
    """Events, oldest first; `after`: only those with a higher seq (an index range),
    `since`: only those at or after that time."""
    q = select(E)
    if after is not None:
        q = q.where(E.c.seq > after)
    if since is not None:
        q = q.where(E.c.at >= since)
    if model is not None:
        q = q.where(E.c.model == model)
    if actor is not None:
        q = q.where(E.c.actor == actor)
    if action is not None:
        q = q.where(E.c.action == action)
    q = q.order_by(E.c.seq.desc() if newest_first else E.c.seq)
    if limit is not None:
        q = q.limit(limit)
    with read_txn(core.engine) as conn:
        return [audit.row_to_event(r) for r in conn.execute(q)]


def verify_audit(core: Core, expected_head: str | None = None) -> ChainCheck:
    """The hash chain, and the tables against the state it records (a table
    edited beside the log fails it, naming the first row; see verify_catalog)."""
    chain, state = verify_catalog(core, expected_head)
    if chain.ok and state is not None and not state.ok:
        first = state.mismatches[0]
        return ChainCheck(
            False,
            chain.events,
            chain.head,
            None,
            f"{len(state.mismatches)} table values disagree with the log, first: "
            f"{first.row} {first.field}: log says {first.log_says!r}, "
            f"table says {first.table_says!r}",
        )
    return chain


def registration(core: Core, v: VersionInfo) -> Any:
    """What the audit log recorded when `v` was registered (its `after`), or None."""
    with read_txn(core.engine) as conn:
        return conn.execute(
            select(E.c.after)
            .where(E.c.model == v.model, E.c.target == v.target, E.c.action == "registered")
            .order_by(E.c.seq)
            .limit(1)
        ).scalar()


def verify_catalog(
    core: Core, expected_head: str | None = None, progress: VerifyProgress | None = None
) -> tuple[ChainCheck, audit_replay.StateCheck | None]:
    """The chain and the tables compared with its replay, in one snapshot and one
    pass over the events (state None when the chain itself is broken). `progress`
    hears ("events", done, total) as the chain is walked, then ("tables", 0, 0)."""
    with read_txn(core.engine) as conn:
        if core.dialect == "postgresql":
            # One snapshot for the log and the tables: under READ COMMITTED a
            # writer committing between the two reads would look like an edit.
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        replay = audit_replay.Replay()
        chain = audit.verify_rows(
            log_rows(conn),
            expected_head,
            on_row=replay.feed_row,
            progress=None
            if progress is None
            else lambda done, total: progress("events", done, total),
            total=audit.head(conn)[0],
        )
        if not chain.ok:
            return chain, None
        if progress is not None:
            progress("tables", 0, 0)
        return chain, audit_replay.compare(conn, replay.expected)


def log_rows(conn: Connection) -> Iterator[Sequence[Any]]:
    """Every event as a row of audit.CHAIN_COLUMNS, in order, fetched in batches."""
    q = select(*(E.c[c] for c in audit.CHAIN_COLUMNS)).order_by(E.c.seq)
    return iter(conn.execute(q).yield_per(5000))


def audit_head(core: Core) -> tuple[int, str]:
    with read_txn(core.engine) as conn:
        return audit.head(conn)


def change_counter(core: Core) -> int:
    """Rises with every change to the catalog: a cheap way to notice other writers."""
    return audit_head(core)[0]
