"""Engines and transactions for SQLite and PostgreSQL.

Writers are serialised so that version numbers stay gapless and the audit
chain stays linear: on SQLite a write transaction starts with BEGIN IMMEDIATE
(it takes the write lock up front and waits up to the busy timeout, instead of
failing halfway); on PostgreSQL it takes a transaction-scoped advisory lock.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, Table, create_engine, event, text
from sqlalchemy.exc import DBAPIError

from regtui.errors import CatalogError, PolicyRefused, RegtuiError

BUSY_TIMEOUT_S = float(os.environ.get("REGTUI_BUSY_TIMEOUT", "30"))
# Any constant works; it only has to be the same for every regtui client.
PG_WRITE_LOCK_KEY = 0x7265677475


# JSON columns are written without NaN/Infinity: the catalog refuses them where
# they enter (input_checks.clean_*), and this is the backstop that nothing else can.
# One encoder made once: json.dumps with any non-default option builds a new one
# per call, which was a visible share of writing a batch (nine JSON columns a row).
_encode = json.JSONEncoder(allow_nan=False).encode


def strict_json(value: Any) -> str:
    # Most rows leave several JSON columns empty: their text needs no encoder.
    if not value and type(value) in (dict, list):
        return "{}" if type(value) is dict else "[]"
    return _encode(value)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine for `url` with regtui's connection settings."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, read_only=read_only)
    try:
        engine = create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 10},
            json_serializer=strict_json,
        )
    except ImportError as exc:
        raise CatalogError(f"cannot use {url.split(':', 1)[0]}: {exc}") from None
    except Exception as exc:  # bad URL syntax
        raise CatalogError(f"bad database URL: {exc}") from None
    return engine


# Tables every regtui catalog has held since its first revision.
CATALOG_TABLES = frozenset({"model", "version", "audit_event"})


def _ours_or_empty(cur: Any) -> bool:
    """A regtui catalog or an empty database: never switch someone else's SQLite file
    to WAL (migrate.ensure_schema then refuses it, having changed nothing)."""
    names = {r[0] for r in cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return not names or bool(names & CATALOG_TABLES)


def _sqlite_engine(url: str, *, read_only: bool) -> Engine:
    from sqlalchemy.engine import URL

    from regtui.settings import sqlite_file, sqlite_needs_immutable, sqlite_uri

    target: str | URL = url
    path = sqlite_file(url)
    if read_only and path:
        uri = sqlite_uri(path, "ro", immutable=sqlite_needs_immutable(path))
        target = URL.create("sqlite", database=uri, query={"uri": "true"})
    engine = create_engine(
        target,
        connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
        json_serializer=strict_json,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # Driver-level autocommit: we issue BEGIN ourselves (see _begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        if not read_only:
            if _ours_or_empty(cur):  # the journal mode is written into the file
                cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            # Checkpoints are what fsync in WAL mode; at the default 1,000 pages one
            # came every ~80 registrations (~13 pages each) and cost two fsyncs. At
            # 10,000 (a WAL of up to ~40 MB) there are 10x fewer, and the pages a
            # burst rewrites over and over are copied once instead of each time.
            cur.execute("PRAGMA wal_autocheckpoint = 10000")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("regtui_write", False)
        # On the driver: exec_driver_sql's bookkeeping costs more than BEGIN itself.
        # Its errors ("database is locked") are translated by write_txn/read_txn.
        dbapi_conn = conn.connection.dbapi_connection
        dbapi_conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")  # type: ignore[union-attr]

    @event.listens_for(engine, "engine_disposed")
    def _disposed(engine: Engine) -> None:
        # Whoever disposes the engine means every connection, the kept one too.
        found: _Writer | None = getattr(engine, _WRITER, None)
        if found is not None:
            found.close(pool_gone=True)

    return engine


class _Writer:
    """The one connection a SQLite catalog writes through, kept open.

    SQLite lets one writer in at a time anyway (BEGIN IMMEDIATE), so threads of
    one process take turns on this lock instead of each checking a connection
    out of the pool and back: that round trip cost about a tenth of a one-file
    registration. The lock waits as long as SQLite's busy timeout would."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.conn: Connection | None = None  # no reference to the engine: see _writers

    @contextmanager
    def turn(self, engine: Engine) -> Iterator[Connection]:
        if not self.lock.acquire(timeout=BUSY_TIMEOUT_S):
            raise CatalogError(
                "the catalog is busy: another writer in this process held it for "
                f"{BUSY_TIMEOUT_S:.0f} s"
            )
        try:
            if self.conn is None or self.conn.closed or self.conn.invalidated:
                self.conn = engine.connect().execution_options(regtui_write=True)
            try:
                with self.conn.begin():
                    yield self.conn
            except BaseException:
                if self.conn.invalidated:  # the driver lost it: open another next time
                    self.conn.close()
                    self.conn = None
                raise
        finally:
            self.lock.release()

    def close(self, *, pool_gone: bool = False) -> None:
        """Give the connection back to the pool; when the pool was disposed
        already, close it outright (the old pool would keep it open)."""
        with self.lock:
            if self.conn is not None:
                if pool_gone:
                    self.conn.invalidate()
                self.conn.close()
                self.conn = None


_WRITER = "_regtui_writer"  # kept on the engine: an engine nobody holds takes it along
_writers_lock = threading.Lock()


def _writer(engine: Engine) -> _Writer:
    found: _Writer | None = getattr(engine, _WRITER, None)
    if found is None:
        with _writers_lock:
            found = getattr(engine, _WRITER, None) or _Writer()
            setattr(engine, _WRITER, found)
    return found


def close_engine(engine: Engine) -> None:
    """Close every connection, the kept write connection first."""
    found: _Writer | None = getattr(engine, _WRITER, None)
    if found is not None:
        found.close()
    engine.dispose()


@contextmanager
def write_txn(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the catalog's write lock; commits on success."""
    try:
        if is_sqlite(engine):
            with _writer(engine).turn(engine) as conn:
                yield conn
            return
        with engine.connect().execution_options(regtui_write=True) as conn, conn.begin():
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_WRITE_LOCK_KEY})
            yield conn
    except Exception as exc:
        if _is_db_error(engine, exc):
            raise translate_db_error(exc) from None
        raise


@contextmanager
def read_txn(engine: Engine) -> Iterator[Connection]:
    """A read transaction: one consistent snapshot for several queries."""
    try:
        with engine.connect() as conn, conn.begin():
            yield conn
    except Exception as exc:
        if _is_db_error(engine, exc):
            raise translate_db_error(exc) from None
        raise


def _is_db_error(engine: Engine, exc: Exception) -> bool:
    """Wrapped by SQLAlchemy, or raw from the driver (BEGIN and DriverSQL run there)."""
    return isinstance(exc, DBAPIError | engine.dialect.loaded_dbapi.Error)


def translate_db_error(exc: Exception) -> RegtuiError:
    """One line a person can act on, for the database errors people meet
    (SQLAlchemy's wrapped ones, or the driver's own from DriverSQL)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    msg = str(orig) if orig is not None else str(exc)
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


_PLACEHOLDER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class DriverSQL:
    """One fixed statement run on the DBAPI cursor of a SQLAlchemy transaction.

    Core spends ~0.1 ms a statement on cache keys, parameter compilation, result
    wrapping and events; the registration path runs a handful of statements per
    call, so that was half its time. The statement still runs inside the
    caller's transaction (same lock, same commit), and values pass through the
    columns' own bind processors, so what is stored is exactly what Core stores.
    Write `sql` with `:name` placeholders; names that are columns of `table`
    get that column's processor. Driver errors are translated by write_txn.
    """

    def __init__(self, dialect: Dialect, sql: str, table: Table | None = None) -> None:
        names = _PLACEHOLDER.findall(sql)
        if dialect.paramstyle == "pyformat":  # psycopg
            sql = _PLACEHOLDER.sub(r"%(\1)s", sql)
        elif dialect.paramstyle != "named" and dialect.name != "sqlite":
            # sqlite3 takes :name whatever SQLAlchemy's paramstyle says; others would need work.
            raise CatalogError(f"driver-level SQL is not supported on {dialect.name}")
        self.sql = sql
        procs: list[tuple[str, Callable[[Any], Any]]] = []
        if table is not None:
            for name in dict.fromkeys(names):
                if name in table.c:
                    proc = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                    if proc is not None:
                        procs.append((name, proc))
        self.procs = tuple(procs)

    def bind(self, params: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(params)
        for name, proc in self.procs:
            out[name] = proc(out[name])
        return out

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """Run once; the first row (a tuple) or None."""
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cur.execute(self.sql, self.bind(params) if params else {})
            return cur.fetchone()
        finally:
            cur.close()

    def all(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Run once; all rows (tuples)."""
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cur.execute(self.sql, self.bind(params) if params else {})
            return list(cur.fetchall())
        finally:
            cur.close()

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            cur.executemany(self.sql, [self.bind(r) for r in rows])
            cur.close()


def insert_sql(dialect: Dialect, table: Table, columns: Sequence[str], suffix: str = "") -> str:
    """INSERT INTO table (columns) VALUES (:columns) [suffix], names quoted for the dialect."""
    q = dialect.identifier_preparer
    cols = ", ".join(q.quote(c) for c in columns)
    vals = ", ".join(f":{c}" for c in columns)
    return f"INSERT INTO {q.format_table(table)} ({cols}) VALUES ({vals}){suffix}"


class MultiRowInsert:
    """INSERT of many rows, `chunk` per statement, RETURNING some columns.

    Driver-level like DriverSQL, and one statement per chunk instead of one per
    row: each statement releases and re-takes the GIL, and in a scan the hashing
    threads hold it, so per-row statements left the writer waiting most of the time.
    RETURNING rows come in no promised order: return a key with them.
    """

    def __init__(
        self,
        dialect: Dialect,
        table: Table,
        columns: Sequence[str],
        returning: Sequence[str],
        chunk: int = 100,
    ) -> None:
        if dialect.name == "sqlite":
            mark = "?"
        elif dialect.paramstyle in ("pyformat", "format"):  # psycopg
            mark = "%s"
        else:
            raise CatalogError(f"driver-level SQL is not supported on {dialect.name}")
        q = dialect.identifier_preparer
        names = ", ".join(q.quote(c) for c in columns)
        self._head = f"INSERT INTO {q.format_table(table)} ({names}) VALUES "
        self._row = "(" + ", ".join([mark] * len(columns)) + ")"
        self._tail = " RETURNING " + ", ".join(q.quote(c) for c in returning)
        self.columns = tuple(columns)
        self.procs = tuple(
            table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns
        )
        self.chunk = chunk
        self._sql: dict[int, str] = {}

    def run(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        out: list[Any] = []
        if not rows:
            return out
        cols = tuple(zip(self.columns, self.procs, strict=True))
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            for start in range(0, len(rows), self.chunk):
                part = rows[start : start + self.chunk]
                sql = self._sql.get(len(part))
                if sql is None:
                    sql = self._sql[len(part)] = (
                        self._head + ", ".join([self._row] * len(part)) + self._tail
                    )
                params = [proc(row[c]) if proc else row[c] for row in part for c, proc in cols]
                cur.execute(sql, params)
                out.extend(cur.fetchall())
        finally:
            cur.close()
        return out
