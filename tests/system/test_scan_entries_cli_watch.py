"""Scans report per entry and always finish, as `regtui scan` in a subprocess and the
watcher's catch-up run them: each bad entry (loop, deep folder, FIFO, not-UTF-8 name)
is exactly one refused line, and everything else under the root is registered.
The scan itself, in-process: tests/unit/test_scan_entries.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from regtui.catalog.service import Catalog
from regtui.tree_walk import MAX_DEPTH
from tests.support.patience import patient
from tests.unit.test_scan_entries import BAD_KINDS, LINES, bad_entry, weights


def cli_scan(root: Path, db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "regtui", "scan", str(root), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "REGTUI_DB": str(db), "PYTHONIOENCODING": "utf-8"},
    )


def test_cli_scan_prints_one_line_per_bad_entry_and_valid_json(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "good.safetensors").write_bytes(weights(1))
    reasons = [bad_entry(root / kind, kind, i) for i, kind in enumerate(BAD_KINDS)]
    text = cli_scan(root, tmp_path / "a.sqlite")
    assert text.returncode == 0, text.stderr
    assert "Traceback" not in text.stderr and "internal error" not in text.stderr
    lines = text.stdout.splitlines()
    for kind, reason in zip(BAD_KINDS, reasons, strict=True):
        mine = [ln for ln in lines if f"/{kind}/" in ln and reason in ln]
        assert len(mine) == LINES.get(kind, 1), (kind, reason, lines)
    n_refused = sum(LINES.get(kind, 1) for kind in BAD_KINDS)
    assert "1 registered" in text.stdout and f"{n_refused} refused" in text.stdout
    js = cli_scan(root, tmp_path / "b.sqlite", "--json")
    assert js.returncode == 0, js.stderr
    items = json.loads(js.stdout)
    assert [i["outcome"] for i in items].count("refused") == n_refused
    assert [i["outcome"] for i in items].count("registered") == 1
    js.stdout.encode("ascii")  # escaped: any strict JSON reader takes it


def test_the_watchers_catch_up_reports_bad_entries_and_registers_the_rest(
    tmp_path: Path,
) -> None:
    from regtui.watch import Watcher, WatchEvent

    root = tmp_path / "runs"
    root.mkdir()
    (root / "churn").mkdir()
    (root / "churn" / "model.safetensors").write_bytes(weights(1))
    for i, kind in enumerate(["loop", "deep", "not-utf8-folder"]):
        bad_entry(root / kind, kind, i)
    events: list[WatchEvent] = []
    cat = Catalog(str(tmp_path / "catalog.sqlite"))
    w = Watcher(cat, [root], on_event=events.append, settle=0.2)
    w.start()
    try:
        assert w.wait_idle(patient(30)), "catch-up did not finish"
        end = time.monotonic() + 30
        while time.monotonic() < end and cat.count_versions() < 1:
            time.sleep(0.05)
        assert cat.count_versions() == 1
    finally:
        w.stop()
        cat.close()
    kinds = [e.kind for e in events]
    assert "ready" in kinds
    assert not [e for e in events if e.kind == "error"], events
    refused = [e for e in events if e.kind == "refused"]
    details = " | ".join(e.detail for e in refused)
    for reason in ("symlink loop", f"deeper than {MAX_DEPTH}", "not valid UTF-8"):
        assert reason in details, details
    assert "registered" in kinds
