"""What `regtui watch DIR --headless` prints, run as the command: each line led by
the local time it happened, a registration naming the format (as `versions` and
`show` do, not the framework), and a last line saying it stopped and by which
signal, exit code 0, whether the signal is SIGINT, SIGTERM or Ctrl-C typed at a
terminal (where the stop line starts back at column 0 after the "^C" echo)."""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from regtui.catalog.service import Catalog
from tests.support.patience import PATIENCE

SAMPLES = Path(__file__).resolve().parents[3] / "sample_models" / "runs"
# Real files whose framework differs from their format (or has none), one model each.
FILES = {
    "vision": SAMPLES / "vision-mlp" / "2026-11-09" / "model.safetensors",
    "legacy": SAMPLES / "vision-mlp" / "2026-10-28" / "model.pt",
    "churn": SAMPLES / "churn-onnx" / "2026-10-15" / "model.onnx",
    "llm": SAMPLES / "tiny-llm" / "2026-09-20" / "model.gguf",
}
# UTC+05:30 as a POSIX TZ (no tz database needed): local time is then not UTC.
TZ, OFFSET = "RGT-05:30", timedelta(hours=5, minutes=30)
LINE = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (.*)")


def _env(db: Path) -> dict[str, str]:
    return {**os.environ, "REGTUI_DB": str(db), "TZ": TZ, "PYTHONUNBUFFERED": "1"}


def _command(root: Path) -> list[str]:
    return [sys.executable, "-m", "regtui", "watch", str(root), "--headless", "--settle", "0.3"]


def _now_here() -> datetime:
    return datetime.now(timezone(OFFSET)).replace(tzinfo=None, microsecond=0)


def _read_lines_until(proc: subprocess.Popen[str], done: object, timeout: float = 30) -> list[str]:
    lines: list[str] = []
    end = time.monotonic() + timeout * PATIENCE
    assert proc.stdout is not None
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if done(lines):  # type: ignore[operator]
            return lines
    raise AssertionError(f"gave up waiting; got {lines}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_lines_have_local_times_formats_and_a_stop_line(
    tmp_path: Path, sig: signal.Signals
) -> None:
    root, db = tmp_path / "runs", tmp_path / "c.sqlite"
    root.mkdir()
    start = _now_here()
    proc = subprocess.Popen(
        _command(root), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(db)
    )
    try:
        lines = _read_lines_until(proc, lambda got: "ready" in got[-1])
        for model, src in FILES.items():
            (root / model).mkdir()
            shutil.copyfile(src, root / model / src.name)
        lines += _read_lines_until(
            proc, lambda got: sum(" registered " in f" {x}" for x in got) == len(FILES)
        )
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20 * PATIENCE)
    finally:
        if proc.poll() is None:
            proc.kill()
    end = _now_here()
    lines += out.splitlines()
    assert proc.returncode == 0, err
    assert err == ""

    texts = []
    for line in lines:
        m = LINE.fullmatch(line)
        assert m, f"no local time leads {line!r}"
        when = datetime.strptime(m[1], "%Y-%m-%d %H:%M:%S")
        assert start - timedelta(seconds=2) <= when <= end + timedelta(seconds=2), line
        texts.append(m[2])
    assert texts[-1] == f"stopped ({sig.name})"

    registered = [t.split("  ") for t in texts if t.startswith("registered ")]
    assert len(registered) == len(FILES)
    differs = 0
    with Catalog(db) as cat:
        for head, _where, _size, shown in registered:
            v = cat.get(head.removeprefix("registered "))
            assert shown == v.format, (shown, v.format, v.framework)
            differs += v.framework not in (None, v.format)
    assert differs >= 2  # the files prove the line shows the format, not the framework


def test_ctrl_c_at_a_terminal_ends_with_a_stop_line_at_column_zero(tmp_path: Path) -> None:
    """Ctrl-C typed at a terminal (the line discipline echoes ^C and signals the
    foreground process group): the stop line overwrites the echo, from column 0."""
    root = tmp_path / "runs"
    root.mkdir()
    pid, fd = pty.fork()
    if pid == 0:  # the child: a session on the new terminal, as a shell would start it
        os.execve(sys.executable, _command(root), _env(tmp_path / "c.sqlite"))
    seen = b""
    try:
        seen = _read_pty_until(fd, b"ready")
        os.write(fd, b"\x03")  # Ctrl-C, as typed
        seen += _read_pty_until(fd, None, 20)  # to the end: the child exits
        _, status = os.waitpid(pid, 0)
    finally:
        with_child_gone(pid)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    text = seen.decode(errors="replace")
    last = text.split("^C")[-1]
    assert re.fullmatch(r"\r\d{4}-\d\d-\d\d \d\d:\d\d:\d\d stopped \(SIGINT\)\r?\n", last), text


def _read_pty_until(fd: int, mark: bytes | None, timeout: float = 30) -> bytes:
    """What the terminal shows until `mark` appears (None: until the child closes it)."""
    got = b""
    end = time.monotonic() + timeout * PATIENCE
    while (mark is None or mark not in got) and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            got += chunk
    assert mark is None or mark in got, got
    return got


def with_child_gone(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
