"""The hash-chained audit log: appending in a write transaction, and verifying.

Each event's hash covers its own fields and the previous event's hash, so an
edited event breaks its own hash, and a deleted, inserted or reordered one
breaks the link (and the gapless sequence) after it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
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


# One encoder for every canonical text: json.dumps with options builds a new
# encoder per call, a fifth of verifying a long log.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
# An event's columns as the chain is checked over them (AuditEvent's field order).
CHAIN_COLUMNS = (
    "seq", "at", "actor", "action", "model", "target", "before", "after", "reason",
    "prev_hash", "hash",
)  # fmt: skip
# The columns an event's hash covers: all but the hash itself.
HASHED = CHAIN_COLUMNS[:-1]
# Verifying reports progress every this many events (or each hundredth of the log).
PROGRESS_EVERY = 1000
# (done, total) events of the chain checked so far.
ChainProgress = Callable[[int, int], None]


def canonical(value: Any) -> str:
    return _CANONICAL.encode(value)


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
    return hashlib.sha256(_CANONICAL.encode(body).encode("utf-8")).hexdigest()


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
    return verify_rows(
        (tuple(getattr(ev, c) for c in CHAIN_COLUMNS) for ev in events), expected_head
    )


def verify_rows(
    rows: Iterable[Sequence[Any]],
    expected_head: str | None = None,
    *,
    on_row: Callable[[Sequence[Any]], object] | None = None,
    progress: ChainProgress | None = None,
    total: int = 0,
) -> ChainCheck:
    """`verify` over rows of CHAIN_COLUMNS, each handed to `on_row` once it
    verified (the replay); `progress` is told every so many events of `total`.
    One loop with no record built per event: a million events go through it."""
    prev = GENESIS
    count = 0
    step = max(PROGRESS_EVERY, total // 100)
    for row in rows:
        count += 1
        seq, prev_hash, hash_ = row[0], row[9], row[10]
        if seq != count:
            return ChainCheck(False, count, prev, seq, f"sequence jumps to {seq} after {count - 1}")
        if prev_hash != prev:
            return ChainCheck(False, count, prev, seq, "does not link to the event before it")
        if event_hash(**dict(zip(HASHED, row[:-1], strict=True))) != hash_:
            return ChainCheck(
                False, count, prev, seq, "its content was changed after it was written"
            )
        if on_row is not None:
            on_row(row)
        prev = hash_
        if progress is not None and count % step == 0:
            progress(count, total)
    if progress is not None:
        progress(count, max(count, total))
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
