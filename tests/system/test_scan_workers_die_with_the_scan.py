"""No process is left behind when `regtui scan` is killed.

The CLI installs no SIGTERM handler, so SIGTERM (or SIGKILL, or the OOM killer)
ends the parent at once; its forked workers are not told. They keep preparing
their run of up to 64 files and exit only when a later write to their pipe
fails (and the pipe of worker w stays open in workers w+1…, which inherited its
read end). Meanwhile each holds every descriptor the parent had: on PostgreSQL
the dead scan's server session (and whatever lock its transaction held) stays
open until the last worker exits.

Preparation is slowed in the workers only (50 ms a file: a slow or network
disk, or hostile files near the inspection deadline) so the window is visible."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.unit.inspect.helpers import safetensors_bytes

REPO = Path(__file__).resolve().parents[2]
SLOW_CLI = """
import os, sys, time
from regtui.catalog.service import Catalog
parent = os.getpid()
real = Catalog.prepare
def slow(self, *a, **k):
    if os.getpid() != parent:
        time.sleep(0.05)
    return real(self, *a, **k)
Catalog.prepare = slow
from regtui.cli.main import main
sys.exit(main())
"""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _scan_then_sigterm(tmp_path: Path, db: str) -> tuple[subprocess.Popen[bytes], list[int]]:
    root = tmp_path / "runs" / "churn"
    root.mkdir(parents=True)
    for i in range(600):
        (root / f"m{i:04}.safetensors").write_bytes(safetensors_bytes({"w": ("F32", [i + 1])}))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_CLI, "scan", str(tmp_path / "runs"), "--db", db],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    kids: list[int] = []
    end = time.monotonic() + 30
    while len(kids) < 2 and time.monotonic() < end:
        with contextlib.suppress(OSError):
            kids = [
                int(x)
                for x in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
            ]
        time.sleep(0.02)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    return proc, kids


@pytest.mark.skipif(
    sys.platform != "linux" or (os.cpu_count() or 1) < 2, reason="forks on Linux, 2+ CPUs"
)
def test_no_worker_outlives_a_killed_scan(tmp_path: Path) -> None:
    _, kids = _scan_then_sigterm(tmp_path, str(tmp_path / "c.db"))
    assert kids, "the scan did not fork"
    time.sleep(1.0)
    left = [k for k in kids if _alive(k)]
    for k in left:  # clean up what the test found
        os.kill(k, signal.SIGKILL)
    assert not left, f"workers still running 1 s after their scan was killed: {left}"


@pytest.mark.pg
@pytest.mark.skipif(
    sys.platform != "linux" or (os.cpu_count() or 1) < 2, reason="forks on Linux, 2+ CPUs"
)
def test_a_killed_scan_leaves_no_postgres_session(tmp_path: Path, pg_server: object) -> None:
    import psycopg

    url = pg_server.new_database()  # type: ignore[attr-defined]
    dbname = url.split("@/", 1)[1].split("?", 1)[0]
    _, kids = _scan_then_sigterm(tmp_path, url)
    assert kids, "the scan did not fork"
    time.sleep(1.0)
    with psycopg.connect(
        host=str(pg_server.socket_dir),
        port=pg_server.port,  # type: ignore[attr-defined]
        user="postgres",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        sessions = conn.execute(
            "SELECT pid, state FROM pg_stat_activity WHERE datname = %s", (dbname,)
        ).fetchall()
    for k in kids:
        if _alive(k):
            os.kill(k, signal.SIGKILL)
    assert not sessions, f"the killed scan's session is still open 1 s later: {sessions}"
