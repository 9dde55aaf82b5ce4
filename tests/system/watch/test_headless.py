"""`regtui watch --headless`: the printer in-process, and the real command in a subprocess."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from regtui.catalog.service import Catalog
from regtui.watch import run_headless
from tests.system.watch.conftest import PATIENCE, wait_for, weights

STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")


def untimed(line: str) -> str:
    """A text line without its leading local time (which it must have)."""
    assert STAMP.match(line), line
    return line[STAMP.match(line).end() :]  # type: ignore[union-attr]


def start_headless(catalog: Catalog, root: Path, json_lines: bool):  # type: ignore[no-untyped-def]
    out = io.StringIO()
    stop = threading.Event()
    rc: list[int] = []
    t = threading.Thread(
        target=lambda: rc.append(
            run_headless(catalog, [root], None, 0.3, False, json_lines, out=out, stop=stop)
        )
    )
    t.start()
    return out, stop, t, rc


def test_text_lines(catalog: Catalog, root: Path) -> None:
    out, stop, t, rc = start_headless(catalog, root, json_lines=False)
    try:
        f = root / "churn-xgb" / "2026-11-26" / "model.safetensors"
        f.parent.mkdir(parents=True)
        wait_for(lambda: "ready" in out.getvalue())
        f.write_bytes(weights("xgb", 1_200_000))
        wait_for(lambda: "registered" in out.getvalue())
    finally:
        stop.set()
        t.join(10)
    assert rc == [0]
    lines = [untimed(line) for line in out.getvalue().splitlines()]
    [reg] = [line for line in lines if line.startswith("registered")]
    assert (
        reg == "registered churn-xgb:1  churn-xgb/2026-11-26/model.safetensors  1.2 MB  safetensors"
    )
    assert lines[-1] == "stopped"
    assert [r.path for r in catalog.watch_roots()] == [str(root)]


def test_json_lines(catalog: Catalog, root: Path) -> None:
    out, stop, t, rc = start_headless(catalog, root, json_lines=True)
    try:
        wait_for(lambda: '"ready"' in out.getvalue())
        (root / "churn").mkdir()
        (root / "churn" / "model.bin").write_bytes(weights("churn"))
        wait_for(lambda: '"registered"' in out.getvalue())
    finally:
        stop.set()
        t.join(10)
    assert rc == [0]
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert events[0]["event"] == "started"
    [reg] = [e for e in events if e["event"] == "registered"]
    assert reg["ref"] == "churn:1" and reg["version"]["model"] == "churn"
    assert reg["path"] == str(root / "churn" / "model.bin")
    assert events[-1]["event"] == "stopped"


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "regtui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _read_until(proc: subprocess.Popen[str], event: str, timeout: float = 20) -> list[dict]:
    got: list[dict] = []
    end = time.monotonic() + timeout * PATIENCE
    assert proc.stdout is not None
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            break
        got.append(json.loads(line))
        if got[-1]["event"] == event:
            return got
    raise AssertionError(f"no {event!r} event; got {got}")


def test_watch_command_in_a_subprocess(tmp_path: Path, root: Path) -> None:
    db = tmp_path / "cli.sqlite"
    env = {**os.environ, "REGTUI_DB": str(db), "PYTHONUNBUFFERED": "1"}
    proc = _spawn(["watch", str(root), "--headless", "--json", "--settle", "0.3"], env)
    try:
        _read_until(proc, "ready")
        (root / "fraud").mkdir()
        (root / "fraud" / "model.bin").write_bytes(weights("fraud"))
        [*_, reg] = _read_until(proc, "registered")
        assert reg["ref"] == "fraud:1"
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=20)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert json.loads(rest.splitlines()[-1])["event"] == "stopped"

    # A later start with no folder watches the saved root, and registers nothing twice.
    (root / "fraud" / "model-2.bin").write_bytes(weights("written while nobody watched"))
    proc = _spawn(["watch", "--headless", "--json"], env)
    try:
        got = _read_until(proc, "registered")
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert [e["ref"] for e in got if e["event"] == "registered"] == ["fraud:2"]
    with Catalog(db) as cat:
        assert cat.count_versions("fraud") == 2


def test_the_watcher_imports_neither_textual_nor_rich() -> None:
    code = (
        "import sys, regtui.watch, regtui.watch.headless;"
        "print([m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("kind", "detail", "text"),
    [
        (
            "waiting",
            "truncated: 10 of 64 data bytes",
            "waiting  churn/model.safetensors  incomplete: truncated: 10 of 64 data bytes",
        ),
        (
            "incomplete",
            "truncated; unchanged for 30s",
            "incomplete  churn/model.safetensors  truncated; unchanged for 30s",
        ),
        (
            "waiting",
            "bad \x1b[31mred\x1b[0m\nline",
            "waiting  churn/model.safetensors  incomplete: bad \\x1b[31mred\\x1b[0m\\x0aline",
        ),
    ],
)
def test_held_artifacts_are_said_in_text_and_json(
    catalog: Catalog, root: Path, kind: str, detail: str, text: str
) -> None:
    from regtui.catalog.service import WatchRoot
    from regtui.watch.events import EventKind, WatchEvent
    from regtui.watch.headless import Printer

    ev = WatchEvent(
        EventKind(kind), str(root / "churn" / "model.safetensors"), "churn", detail=detail
    )
    out = io.StringIO()
    Printer(out, False, [WatchRoot(str(root), None, 0.3)])(ev)
    assert untimed(out.getvalue()) == text + "\n"
    line = io.StringIO()
    Printer(line, True, [WatchRoot(str(root), None, 0.3)])(ev)
    got = json.loads(line.getvalue())
    assert got["event"] == kind and got["detail"] == detail and got["model"] == "churn"


def test_a_late_sidecar_is_a_logged_line(catalog: Catalog, root: Path) -> None:
    out, stop, t, _ = start_headless(catalog, root, json_lines=True)
    try:
        wait_for(lambda: '"ready"' in out.getvalue())
        (root / "churn").mkdir()
        (root / "churn" / "model.safetensors").write_bytes(weights("late"))
        wait_for(lambda: '"registered"' in out.getvalue())
        (root / "churn" / "eval_results.json").write_text('{"eval_accuracy": 0.75}')
        wait_for(lambda: '"event":"logged"' in out.getvalue())
    finally:
        stop.set()
        t.join(10)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    [logged] = [e for e in events if e["event"] == "logged"]
    assert logged["ref"] == "churn:1"
    assert logged["version"]["metrics"] == {"eval_accuracy": 0.75}
    assert logged["detail"] == "eval_results.json: metrics.eval_accuracy"
