"""Engines and transactions for SQLite and PostgreSQL.

Writers are serialised so that version numbers stay gapless and the audit
chain stays linear: on SQLite a write transaction starts with BEGIN IMMEDIATE
(it takes the write lock up front and waits up to the busy timeout, instead of
failing halfway); on PostgreSQL it takes a transaction-scoped advisory lock.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError

from regtui.errors import CatalogError, PolicyRefused, RegtuiError

BUSY_TIMEOUT_S = float(os.environ.get("REGTUI_BUSY_TIMEOUT", "30"))
# Any constant works; it only has to be the same for every regtui client.
PG_WRITE_LOCK_KEY = 0x7265677475


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine for `url` with regtui's connection settings."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, read_only=read_only)
    try:
        engine = create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    except ImportError as exc:
        raise CatalogError(f"cannot use {url.split(':', 1)[0]}: {exc}") from None
    except Exception as exc:  # bad URL syntax
        raise CatalogError(f"bad database URL: {exc}") from None
    return engine


def _sqlite_engine(url: str, *, read_only: bool) -> Engine:
    path = url.split("///", 1)[1] if "///" in url else ""
    if read_only and path:
        url = f"sqlite:///file:{path}?mode=ro&uri=true"
    engine = create_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # Driver-level autocommit: we issue BEGIN ourselves (see _begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        if not read_only:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("regtui_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


@contextmanager
def write_txn(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the catalog's write lock; commits on success."""
    try:
        with engine.connect().execution_options(regtui_write=True) as conn, conn.begin():
            if not is_sqlite(engine):
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_WRITE_LOCK_KEY})
            yield conn
    except DBAPIError as exc:
        raise translate_db_error(exc) from None


@contextmanager
def read_txn(engine: Engine) -> Iterator[Connection]:
    """A read transaction: one consistent snapshot for several queries."""
    try:
        with engine.connect() as conn, conn.begin():
            yield conn
    except DBAPIError as exc:
        raise translate_db_error(exc) from None


def translate_db_error(exc: DBAPIError) -> RegtuiError:
    """One line a person can act on, for the database errors people meet."""
    msg = str(exc.orig) if exc.orig is not None else str(exc)
    low = msg.lower()
    if msg.startswith("regtui: "):
        # Raised by the PostgreSQL team-mode triggers: "regtui: <rule>: <why>".
        rule, _, why = msg[len("regtui: ") :].partition(": ")
        return PolicyRefused(rule, why.splitlines()[0] if why else rule)
    if "permission denied" in low:
        return CatalogError(
            "your database role lacks a privilege for this; ask the catalog's admin "
            f"(README: team mode): {msg.strip().splitlines()[0]}"
        )
    if "database is locked" in low or "database table is locked" in low:
        return CatalogError(
            f"catalog is locked by another process (waited {BUSY_TIMEOUT_S:g}s); try again"
        )
    if "readonly" in low or "read-only" in low:
        return CatalogError("catalog is read-only; nothing was changed")
    if "unable to open database" in low:
        return CatalogError("cannot open the catalog file (missing folder or no permission)")
    if "disk is full" in low or "database or disk is full" in low:
        return CatalogError("disk is full; nothing was changed")
    if "not a database" in low or "file is encrypted" in low:
        return CatalogError("the catalog file is not an SQLite database")
    first = msg.strip().splitlines()[0] if msg.strip() else type(exc).__name__
    return CatalogError(f"database error: {first}")
