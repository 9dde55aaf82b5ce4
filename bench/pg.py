"""PostgreSQL for the benchmark: a throwaway server started the way the tests start
one (tests/support/pg.py: its own Unix socket, as `postgres` through runuser when
root), and bench catalogs on it, generated once per catalog code and kept in
bench/.cache as `pg_dump` archives (a restore is much faster than regenerating)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from tests.support.pg import PG_BIN_DIRS, PgServer, start_server, url_as

from bench.common import CACHE_DIR
from bench.fixtures import generate_catalog, src_fingerprint

__all__ = ["PgServer", "cached_pg_catalog", "database_size", "start_server", "url_as"]


def pg_bin(name: str) -> str:
    """The server's own version of a client tool (a pg_dump older than the server fails)."""
    for d in PG_BIN_DIRS:
        if (Path(d) / name).exists():
            return str(Path(d) / name)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed")
    return found


def dbname_of(url: str) -> str:
    return url.split("://", 1)[1].split("@", 1)[1].lstrip("/").split("?", 1)[0]


def _conn_args(server: PgServer) -> list[str]:
    return ["-h", str(server.socket_dir), "-p", str(server.port), "-U", "postgres"]


def cached_pg_catalog(server: PgServer, n: int, models: int = 1) -> tuple[str, float | None]:
    """A new database on `server` holding the same n versions `fixtures.cached_catalog`
    writes (through `Catalog.add_candidates`), restored from bench/.cache when this
    catalog code made it before. Returns (url, generation rate or None when restored)."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    stem = f"regtui-pg-{n}" if models == 1 else f"regtui-pg-{n}x{models}"
    cached = CACHE_DIR / f"{stem}-{src_fingerprint()}.dump"
    url = server.new_database()
    if cached.exists():
        subprocess.run(
            [pg_bin("pg_restore"), *_conn_args(server), "-d", dbname_of(url), "-j", "2",
             "--no-owner", str(cached)],
            check=True, capture_output=True, timeout=3600,
        )  # fmt: skip
        _analyze(server, url)  # fresh statistics: the same plans as after generating it
        return url, None
    for old in CACHE_DIR.glob(f"{stem}-*.dump*"):
        old.unlink()
    rate = generate_catalog(url, n, models=models)
    _analyze(server, url)
    tmp = cached.with_suffix(".tmp")
    subprocess.run(
        [pg_bin("pg_dump"), *_conn_args(server), "-Fc", "-Z", "1", "-f", str(tmp),
         dbname_of(url)],
        check=True, capture_output=True, timeout=3600,
    )  # fmt: skip
    tmp.rename(cached)
    return url, rate


def _analyze(server: PgServer, url: str) -> None:
    import psycopg

    with psycopg.connect(
        host=str(server.socket_dir),
        port=server.port,
        user="postgres",
        dbname=dbname_of(url),
        autocommit=True,
    ) as conn:
        conn.execute("ANALYZE")


def database_size(server: PgServer, url: str) -> int:
    """`pg_database_size` of the catalog's database, in bytes."""
    import psycopg

    with psycopg.connect(
        host=str(server.socket_dir), port=server.port, user="postgres", dbname="postgres"
    ) as conn:
        row = conn.execute("SELECT pg_database_size(%s)", (dbname_of(url),)).fetchone()
    assert row is not None
    return int(row[0])


class Server:
    """Started on first use, stopped at the end of the run (a context manager)."""

    def __init__(self) -> None:
        self.server: PgServer | None = None
        self.start_s = 0.0

    def get(self) -> PgServer:
        if self.server is None:
            t0 = time.perf_counter()
            self.server = start_server()
            self.start_s = time.perf_counter() - t0
        return self.server

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.stop()
