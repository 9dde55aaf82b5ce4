"""The watcher cannot be stalled by one entry, and always stops when told.

- FIFOs, sockets and /dev links wherever a run folder can hold them (as weights,
  sidecars, bundle members, .git/HEAD) do not delay a model written next;
- an entry whose inspection is slow (here: an inspector that keeps reading until
  released) holds one worker only, and stop() ends it at its next read;
- `regtui watch --headless` as a subprocess exits 0 on SIGTERM and SIGINT while
  such entries are around; a hang is a failure by timeout, not a measured time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from regtui.catalog.service import Catalog
from regtui.inspect.bounds import open_file
from regtui.inspect.formats import FORMATS
from tests.system.watch.conftest import Harness, wait_for, weights

SETTLE = ("--settle", "0.3")
EXIT_WITHIN = 5.0  # seconds from the signal to the process gone (a hang guard)


def _hostile_tree(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Special files in every place a run folder can put them."""
    a = root / "fifo-weights"
    a.mkdir()
    for i in range(3):
        os.mkfifo(a / f"model{i}.safetensors")
    b = root / "fifo-git" / ".git"
    b.mkdir(parents=True)
    os.mkfifo(b / "HEAD")
    (root / "fifo-git" / "model.safetensors").write_bytes(weights("git"))
    c = root / "fifo-sidecar"
    c.mkdir()
    os.mkfifo(c / "metrics.json")
    (c / "model.safetensors").write_bytes(weights("sidecar"))
    d = root / "fifo-bundle"
    d.mkdir()
    (d / "config.json").write_text('{"model_type": "bert"}')
    (d / "model.safetensors").write_bytes(weights("bundle"))
    os.mkfifo(d / "tokenizer.json")
    e = root / "devices"
    e.mkdir()
    (e / "model.safetensors").symlink_to("/dev/zero")
    (e / "model.gguf").symlink_to("/dev/urandom")
    monkeypatch.chdir(e)  # AF_UNIX paths are short: bind the bare name
    sock = socket.socket(socket.AF_UNIX)
    sock.bind("model.onnx")
    sock.close()


@pytest.fixture
def harness(catalog: Catalog, root: Path, cache_path: Path) -> Iterator[Harness]:
    h = Harness(catalog, root, cache_path)
    yield h
    h.stop_all()


def test_special_files_do_not_delay_the_next_model(
    harness: Harness, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _hostile_tree(root, monkeypatch)
    harness.start()
    fresh = root / "fresh" / "model.safetensors"
    fresh.parent.mkdir()
    fresh.write_bytes(weights("fresh"))
    wait_for(lambda: harness.count("fresh") == 1, timeout=30)
    # The sound models beside the special files were registered too.
    for model in ("fifo-git", "fifo-sidecar"):
        assert harness.count(model) == 1, model


class _SlowInspector:
    """An inspector that keeps reading its file (as a slow parser does) until
    released: it holds a worker, and every read is where a stop can reach it."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.reads = 0

    def __call__(self, path: Path, facts: object, head: bytes, size: int) -> None:
        self.started.set()
        while not self.release.is_set():
            with open_file(path) as fh:
                fh.read(4)
            self.reads += 1
            self.release.wait(0.01)


def test_a_slow_entry_holds_one_worker_and_the_others_go_on(
    harness: Harness, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = _SlowInspector()
    monkeypatch.setitem(FORMATS, "gguf", dataclasses.replace(FORMATS["gguf"], read=slow))
    w = harness.start(workers=2)
    try:
        (root / "slow").mkdir()
        (root / "slow" / "model.gguf").write_bytes(b"GGUF" + b"\0" * 60)
        assert slow.started.wait(30), "the slow entry was never looked at"
        for i in range(3):
            f = root / f"m{i}" / "model.safetensors"
            f.parent.mkdir()
            f.write_bytes(weights(f"m{i}"))
        wait_for(lambda: all(harness.count(f"m{i}") == 1 for i in range(3)), timeout=30)
        assert not slow.release.is_set()  # all of that while the slow one still ran
    finally:
        stopper = threading.Thread(target=w.stop, kwargs={"timeout": 30})
        stopper.start()
        stopper.join(60)
    # stop() reached the slow inspection at its next read: nothing left running.
    assert not stopper.is_alive() and w.stuck == []
    assert not slow.release.is_set()


def _spawn(root: Path, db: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "REGTUI_DB": str(db), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "regtui", "watch", str(root), "--headless", "--json", *SETTLE],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _until(proc: subprocess.Popen[str], event: str, ref: str | None = None) -> None:
    assert proc.stdout is not None
    got = []
    while True:
        line = proc.stdout.readline()  # a dead or silent watcher ends the test by timeout
        if not line:
            raise AssertionError(f"no {event!r} before exit: {got}")
        ev = json.loads(line)
        got.append(ev)
        if ev["event"] == event and (ref is None or ev.get("ref") == ref):
            return


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_watch_command_stops_on_a_signal_among_special_files(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch, sig: signal.Signals
) -> None:
    _hostile_tree(root, monkeypatch)
    proc = _spawn(root, tmp_path / "cli.sqlite")
    try:
        ready = threading.Thread(target=_until, args=(proc, "ready"), daemon=True)
        ready.start()
        ready.join(60)
        assert not ready.is_alive(), "no ready line within a minute"
        f = root / "late" / "model.safetensors"
        f.parent.mkdir()
        f.write_bytes(weights("late"))
        seen = threading.Thread(target=_until, args=(proc, "registered", "late:1"), daemon=True)
        seen.start()
        seen.join(60)
        assert not seen.is_alive(), "a model written after the special files was not registered"
        proc.send_signal(sig)
        proc.wait(EXIT_WITHIN)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
