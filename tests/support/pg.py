"""A throwaway PostgreSQL server for the test session.

PostgreSQL refuses to run as root, so when the tests run as root (as CI does)
the server runs as the `postgres` user through runuser. It listens only on a
Unix socket in its own folder, so parallel test workers never collide.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

PG_BIN_DIRS = [
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/17/bin",
]


def _bin(name: str) -> str:
    for d in PG_BIN_DIRS:
        p = Path(d) / name
        if p.exists():
            return str(p)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed")
    return found


@dataclass
class PgServer:
    root: Path
    socket_dir: Path
    port: int
    as_user: list[str]

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@/{dbname}?host={self.socket_dir}&port={self.port}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user="postgres",
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(sql)

    def new_database(self) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        self.admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            [
                *self.as_user,
                _bin("pg_ctl"),
                "-D",
                str(self.root / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PgServer:
    root = Path(tempfile.mkdtemp(prefix="regtui-pg-"))
    socket_dir = root / "sock"
    socket_dir.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(socket_dir, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = root / "data"
    port = 5432
    subprocess.run(
        [
            *as_user,
            _bin("initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    opts = (
        f"-k {socket_dir} -p {port} -c listen_addresses='' -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
    )
    proc = subprocess.run(
        [
            *as_user,
            _bin("pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    if proc.returncode != 0:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {proc.stderr.strip()} {log[-500:]}")
    return PgServer(root, socket_dir, port, as_user)


def url_as(url: str, role: str, *, superuser: bool = True) -> str:
    """The same PostgreSQL catalog URL, logged in as `role` (created if missing).

    Test roles are superusers unless asked otherwise: they stand for trusted
    clients; the team-mode tests make plain roles to see the server refuse them.
    """
    import psycopg

    if not url.startswith("postgresql://"):
        return url
    rest = url.split("://", 1)[1]
    _, _, after_at = rest.partition("@")
    dbname, _, query = after_at.lstrip("/").partition("?")
    params = dict(p.split("=", 1) for p in query.split("&") if p)
    with psycopg.connect(
        host=params["host"],
        port=int(params["port"]),
        user="postgres",
        dbname=dbname,
        autocommit=True,
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if not exists:
            kind = "SUPERUSER" if superuser else "NOSUPERUSER"
            conn.execute(f'CREATE ROLE "{role}" LOGIN {kind}')
    return f"postgresql://{role}@/{after_at.lstrip('/')}"
