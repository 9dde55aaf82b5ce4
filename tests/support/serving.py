"""A `regtui serve` subprocess for the serve tests, and what is left of its sessions.

The server is started as a user would (`python -m regtui serve`), on a free port
(`--port 0`); its first line is the URL. Sessions are process groups led by a
child of the server (serve.session), so "nothing left behind" is counted by group:
a grandchild orphaned by its parent is still found.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.patience import patient


@dataclass
class Served:
    proc: subprocess.Popen[str]
    url: str  # as printed: with ?token=… unless --no-token
    base: str  # http://127.0.0.1:PORT
    token: str | None

    @property
    def port(self) -> int:
        return int(urlsplit(self.base).port or 0)

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        """Signal it, wait, and return its exit code and everything it printed."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, _ = self.proc.communicate(timeout=patient(10))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            raise AssertionError(f"regtui serve did not exit on {sig}: {out}") from None
        return self.proc.returncode, out


def start(db: str | Path, *args: str, env: dict[str, str] | None = None) -> Served:
    """`regtui --db DB serve --port 0 ARGS`, once it listens."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "regtui", "--db", str(db), "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=full_env,
        start_new_session=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # blocks until it listens, or ends
    if not first.startswith("regtui serve: http"):
        rest = proc.communicate(timeout=patient(10))[0]
        raise AssertionError(f"regtui serve did not start: {first}{rest}")
    url = first.split(": ", 1)[1].strip()
    parts = urlsplit(url)
    token = parts.query.removeprefix("token=") or None
    return Served(proc, url, f"{parts.scheme}://{parts.netloc}", token)


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, process group) of a live process, else None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    if fields[0] == "Z":
        return None  # a zombie is gone but for its exit status
    return int(fields[1]), int(fields[2])


def _all() -> dict[int, tuple[int, int]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None:
                found[int(entry)] = st
    return found


def session_groups(server_pid: int) -> set[int]:
    """The process groups of the server's sessions: children leading their own."""
    return {pid for pid, (ppid, pgid) in _all().items() if ppid == server_pid and pgid == pid}


def alive_in(groups: set[int]) -> list[int]:
    """Processes still alive in any of these groups (an orphaned grandchild counts)."""
    return [pid for pid, (_, pgid) in _all().items() if pgid in groups]


def wait_until(check, seconds: float, what: str):  # type: ignore[no-untyped-def]
    """Poll `check` (a cheap look at /proc or the catalog) until it returns truthy."""
    deadline = time.monotonic() + patient(seconds)
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
