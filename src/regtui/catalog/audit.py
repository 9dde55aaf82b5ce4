"""The hash-chained audit log: appending in a write transaction, and verifying.

Each event's hash covers its own fields and the previous event's hash, so an
edited event breaks its own hash, and a deleted, inserted or reordered one
breaks the link (and the gapless sequence) after it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Dialect, func, select

from regtui.catalog.clock import iso
from regtui.catalog.db import DriverSQL, insert_sql
from regtui.catalog.records import AuditEvent, ChainCheck
from regtui.catalog.schema import AuditEventRow

GENESIS = "0" * 64
# Set while an import replays another registry's history: "imported from MLflow <uri>"
imported_from: ContextVar[str | None] = ContextVar("regtui_imported_from", default=None)
T = AuditEventRow.__table__


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    model: str | None,
    target: str,
    before: Any,
    after: Any,
    reason: str | None,
    prev_hash: str,
) -> str:
    body = {
        "seq": seq,
        "at": iso(at),
        "actor": actor,
        "action": action,
        "model": model,
        "target": target,
        "before": before,
        "after": after,
        "reason": reason,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


class Appender:
    """Adds events to the chain inside one write transaction (which holds the
    write lock, so the tail cannot move); many events go in one executemany,
    as driver-level SQL (registration's hot path writes one per version)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.seq, self.prev = head(conn)
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        model: str | None,
        target: str,
        before: Any,
        after: Any,
        reason: str | None,
    ) -> int:
        self.seq += 1
        source = imported_from.get()
        # An imported change says so, and from where, in its own event. A reason the
        # change also keeps in its row (an approval's) names the source itself.
        if source and source not in (reason or ""):
            reason = f"{reason} ({source})" if reason else source
        fields = dict(
            seq=self.seq,
            at=at,
            actor=actor,
            action=action,
            model=model,
            target=target,
            before=before,
            after=after,
            reason=reason,
            prev_hash=self.prev,
        )
        self.prev = event_hash(**fields)
        self.rows.append({**fields, "hash": self.prev})
        return self.seq

    def flush(self) -> None:
        if self.rows:
            _driver_sql(self.conn.dialect)[1].executemany(self.conn, self.rows)
            self.rows = []


def row_to_event(row: Any) -> AuditEvent:
    return AuditEvent(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        model=row.model,
        target=row.target,
        before=row.before,
        after=row.after,
        reason=row.reason,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def verify(events: Iterable[AuditEvent], expected_head: str | None = None) -> ChainCheck:
    """Walk the chain in sequence order; name the first event that does not fit."""
    prev = GENESIS
    count = 0
    for ev in events:
        count += 1
        if ev.seq != count:
            return ChainCheck(
                False, count, prev, ev.seq, f"sequence jumps to {ev.seq} after {count - 1}"
            )
        if ev.prev_hash != prev:
            return ChainCheck(False, count, prev, ev.seq, "does not link to the event before it")
        fields = {
            k: getattr(ev, k)
            for k in (
                "seq",
                "at",
                "actor",
                "action",
                "model",
                "target",
                "before",
                "after",
                "reason",
                "prev_hash",
            )
        }
        if event_hash(**fields) != ev.hash:
            return ChainCheck(
                False, count, prev, ev.seq, "its content was changed after it was written"
            )
        prev = ev.hash
    if expected_head is not None and expected_head != prev:
        return ChainCheck(
            False,
            count,
            prev,
            None,
            f"chain head {prev[:12]} is not the expected {expected_head[:12]}",
        )
    return ChainCheck(True, count, prev)


@functools.lru_cache(maxsize=64)
def _driver_sql(dialect: Dialect) -> tuple[DriverSQL, DriverSQL]:
    """(head, insert) for one engine's dialect; built once per engine."""
    q = dialect.identifier_preparer
    table, seq, hash_ = q.format_table(T), q.quote("seq"), q.quote("hash")
    return (
        DriverSQL(dialect, f"SELECT {seq}, {hash_} FROM {table} ORDER BY {seq} DESC LIMIT 1"),
        DriverSQL(dialect, insert_sql(dialect, T, [c.name for c in T.c]), T),
    )


def head(conn: Connection) -> tuple[int, str]:
    """(sequence number, hash) of the newest event; (0, GENESIS) for an empty log."""
    row = _driver_sql(conn.dialect)[0].first(conn)
    return (row[0], row[1]) if row else (0, GENESIS)


def count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(T)).scalar_one()
