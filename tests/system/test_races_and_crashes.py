"""Processes racing for a stage, and processes killed mid-write (issue: reliability)."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from regtui.catalog.service import Catalog
from tests.unit.helpers import artifact, open_as

ROOT = Path(__file__).resolve().parents[2]
FULL = os.environ.get("REGTUI_FULL") == "1"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.mark.slow
def test_two_racers_one_holder_every_round(db_url: str, tmp_path: Path) -> None:
    rounds = 200 if FULL else int(os.environ.get("REGTUI_RACE_ROUNDS", "60"))
    cat = open_as(db_url, "setup")
    for i in range(1, 2 * rounds + 3):
        cat.register(artifact(tmp_path / "a", f"{i}.bin", f"v{i}"), "m")
    for i in range(1, 2 * rounds + 3):
        cat.approve(f"m:{i}", "race fixture")
    sync = tmp_path / "sync"
    sync.mkdir()
    racers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.stage_race",
                db_url,
                str(me),
                str(rounds),
                str(sync),
            ],
            cwd=ROOT,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me in (0, 1)
    ]
    holder = 0
    # A reader that watches the stage the whole time, not only between rounds.
    seen_holders: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        watcher = Catalog(db_url)
        while not stop.is_set():
            seen_holders.append(len(watcher.versions("m", where="stage = 'production'")))

    watching = threading.Thread(target=reader, daemon=True)
    watching.start()
    try:
        for r in range(rounds):
            # Atomic: a racer must never read a half-written file.
            (sync / "go.tmp").write_text(str(holder))
            (sync / "go.tmp").rename(sync / f"go-{r}")
            deadline = time.monotonic() + 60
            while not all((sync / f"done-{r}-{me}").exists() for me in (0, 1)):
                assert time.monotonic() < deadline, "racers stalled"
                time.sleep(0.001)
            # A reader between rounds: exactly one holder, and it is one of the two.
            holders = cat.versions("m", where="stage = 'production'")
            assert len(holders) == 1
            assert holders[0].version in (2 + 2 * r, 3 + 2 * r)
            holder = holders[0].version
    finally:
        outs = [p.communicate(timeout=120) for p in racers]
        stop.set()
        watching.join(timeout=30)
    # Before the first round nothing holds production; after it, always exactly one.
    first_one = seen_holders.index(1) if 1 in seen_holders else len(seen_holders)
    assert set(seen_holders[first_one:]) == {1}
    assert len(seen_holders) > rounds
    assert [p.returncode for p in racers] == [0, 0], [o[1] for o in outs]
    lines = [line for out, _ in outs for line in out.splitlines()]
    assert sum(" won" in line for line in lines) == rounds
    lost = [line for line in lines if " lost: " in line]
    assert len(lost) == rounds and all("moved meanwhile" in line for line in lost)
    moves = cat.stage_history("m", "production")
    assert len(moves) == rounds
    assert len(cat.audit_events("m", action="promoted")) == rounds
    assert cat.verify_audit().ok


def test_kill_nine_leaves_no_half_writes(sqlite_path: str, tmp_path: Path) -> None:
    kills = 50 if FULL else 8
    files = tmp_path / "files"
    for i in range(400):
        artifact(files, f"{i:04}.bin", f"artifact {i}")
    rng = random.Random(99)
    Catalog(sqlite_path).close()
    for _ in range(kills):
        victim = subprocess.Popen(
            [sys.executable, "-m", "tests.support.crash_victim", sqlite_path, str(files)],
            cwd=ROOT,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert victim.stdout is not None
        assert victim.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.25))
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        _assert_consistent(sqlite_path)
    # A rerun registers whatever the kills cut short, and nothing twice.
    rerun = subprocess.run(
        [sys.executable, "-m", "tests.support.crash_victim", sqlite_path, str(files)],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    _assert_consistent(sqlite_path)
    cat = Catalog(sqlite_path)
    assert [v.version for v in cat.versions("crashy")] == list(range(1, 401))


def _assert_consistent(path: str) -> None:
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    cat = Catalog(path)
    assert cat.verify_audit().ok
    versions = cat.versions("crashy") if cat.models() else []
    registered = {e.target for e in cat.audit_events("crashy", action="registered")}
    assert {v.ref for v in versions} == registered
    assert [v.version for v in versions] == list(range(1, len(versions) + 1))
    for model in cat.models():
        for stage, number in model.stages.items():
            held = cat.get(f"{model.name}:{number}")
            assert stage in held.stages and held.approval.status == "approved"
    cat.close()
