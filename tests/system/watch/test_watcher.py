"""The watcher against real files and a real observer (settle 0.3 s)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.system.watch.conftest import SETTLE, Harness, wait_for, weights


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_registers_a_new_file_once(harness: Harness) -> None:
    harness.start()
    f = write(harness.root / "churn" / "2026-11-26" / "model.bin", weights("1"))
    wait_for(lambda: harness.count() == 1)
    time.sleep(SETTLE * 3)
    assert harness.count() == 1
    [v] = harness.catalog.versions("churn")
    assert v.path == str(f)
    assert v.sha256 == hashlib.sha256(weights("1")).hexdigest()
    [ev] = harness.rec.of("registered")
    assert ev.version is not None and ev.version.ref == "churn:1"


def run_writer(code: str, *args: object) -> float:
    """Run `code` in another process, as a training run would; returns its own
    seconds spent writing (so the check is not skewed by this process's threads)."""
    out = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return float(out.stdout.strip())


BURST = """
import json, struct, sys, time
from pathlib import Path
root = Path(sys.argv[1])
def weights(i):  # a small safetensors file, distinct per i
    h = json.dumps({"w": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]},
                    "__metadata__": {"i": str(i)}}).encode()
    return struct.pack("<Q", len(h)) + h + bytes(8)
files = [weights(i) for i in range(1000)]
t = time.monotonic()
for i in range(1000):
    p = root / f"m{i % 10}" / f"model-{i}.bin"
    p.parent.mkdir(exist_ok=True)
    p.write_bytes(files[i])
print(time.monotonic() - t)
"""


def test_burst_of_1000_files_all_registered_none_twice(harness: Harness) -> None:
    harness.start()
    # About 0.1 s on an idle machine; the bound only keeps it a burst on a busy one.
    assert run_writer(BURST, harness.root) < 5.0, "the writer was too slow to be a burst"
    wait_for(lambda: harness.count() == 1000, timeout=30)
    time.sleep(SETTLE * 3)
    assert harness.count() == 1000
    registered = harness.rec.of("registered")
    assert len(registered) == 1000
    assert len({e.path for e in registered}) == 1000
    assert not harness.rec.of("error")
    # Under load a file's close can arrive after a folder's creation already
    # queued it: the second look must be a cache hit, never a second hashing.
    assert all(e.detail == "unchanged" for e in harness.rec.of("exists"))
    assert {v.model for v in harness.catalog.versions()} == {f"m{i}" for i in range(10)}


def test_slow_writer_is_registered_once_after_close(harness: Harness) -> None:
    big = harness.root / "llm" / "model.bin"
    big.parent.mkdir()
    (harness.root / "small").mkdir()  # watched from the start: its close is seen too
    harness.start()
    chunk = os.urandom(1 << 20)
    header = weights("llm", 200 << 20)[: -(200 << 20)]  # the data follows in chunks
    digest = hashlib.sha256(header)
    with big.open("wb") as fh:
        fh.write(header)
        for i in range(200):  # 200 MB over ~3 s
            fh.write(chunk)
            digest.update(chunk)
            if i % 10 == 9:
                fh.flush()
                time.sleep(0.15)
                assert harness.count() == 0, "registered while still being written"
    # A small file written right after must not wait behind the big one.
    write(harness.root / "small" / "model.bin", weights("tiny"))
    wait_for(lambda: harness.count() == 2, timeout=20)
    order = [e.model for e in harness.rec.of("registered")]
    assert order == ["small", "llm"]
    [v] = harness.catalog.versions("llm")
    assert v.size_bytes == len(header) + (200 << 20)
    assert v.sha256 == digest.hexdigest()
    assert harness.rec.of("progress"), "no progress for a 200 MB file"
    time.sleep(SETTLE * 3)
    assert harness.count() == 2


def test_atomic_rename_registers_the_final_name_once(harness: Harness) -> None:
    harness.start()
    folder = harness.root / "churn"
    data = weights("churn")
    tmp = write(folder / "model.bin.tmp", data[:20])
    time.sleep(SETTLE * 2)  # the temporary name settles but is never registered
    with tmp.open("ab") as fh:
        fh.write(data[20:])
    os.rename(tmp, folder / "model.bin")
    wait_for(lambda: harness.count() == 1)
    time.sleep(SETTLE * 3)
    [v] = harness.catalog.versions("churn")
    assert v.path == str(folder / "model.bin")
    assert v.size_bytes == len(data)
    assert all(not e.path.endswith(".tmp") for e in harness.rec.events)


def test_overwrite_in_place_makes_a_new_version_and_marks_the_old(harness: Harness) -> None:
    harness.start()
    f = write(harness.root / "churn" / "model.bin", weights("first"))
    wait_for(lambda: harness.count() == 1)
    f.write_bytes(weights("second, longer"))
    wait_for(lambda: harness.count() == 2)
    wait_for(lambda: harness.catalog.get("churn:1").artifact_state == "changed")
    assert harness.catalog.get("churn:2").artifact_state == "ok"
    [changed] = harness.rec.of("changed")
    assert changed.ref == "churn:1" and "churn:2" in changed.detail
    # Same bytes again: no new version, and the matching version is ok again.
    f.write_bytes(weights("first"))
    wait_for(lambda: harness.catalog.get("churn:1").artifact_state == "ok")
    wait_for(lambda: harness.catalog.get("churn:2").artifact_state == "changed")
    assert harness.count() == 2


def test_restart_hashes_nothing_unchanged_and_registers_nothing_twice(
    harness: Harness, monkeypatch
) -> None:
    w = harness.start()
    for i in range(20):
        write(harness.root / "churn" / f"m{i}.bin", weights(f"v{i}"))
    wait_for(lambda: harness.count() == 20)
    w.stop()
    # While nobody watches: 3 new files, one rewritten.
    for i in range(20, 23):
        write(harness.root / "churn" / f"m{i}.bin", weights(f"v{i}"))
    write(harness.root / "churn" / "m0.bin", weights("v0 retrained"))
    prepared: list[Path] = []
    real_prepare = harness.catalog.prepare

    def counting_prepare(path, *a, **kw):  # type: ignore[no-untyped-def]
        prepared.append(Path(path))
        return real_prepare(path, *a, **kw)

    monkeypatch.setattr(harness.catalog, "prepare", counting_prepare)
    harness.start()  # waits for the catch-up
    wait_for(lambda: harness.count() == 24)
    names = sorted(p.name for p in prepared)
    assert names == ["m0.bin", "m20.bin", "m21.bin", "m22.bin"]
    assert len(harness.rec.of("registered")) == 4
    assert len([e for e in harness.rec.of("exists") if e.detail == "unchanged"]) == 19
    m0 = str(harness.root / "churn" / "m0.bin")

    def m0_states() -> list[str]:
        # By path, not by number: a burst's files may be numbered in any order.
        return [v.artifact_state for v in harness.catalog.versions("churn") if v.path == m0]

    wait_for(lambda: sorted(m0_states()) == ["changed", "ok"])
    time.sleep(SETTLE * 2)
    assert harness.count() == 24
    assert m0_states()[-1] == "ok"  # the newest version of m0.bin matches the file


def test_file_deleted_while_hashing_is_skipped(harness: Harness, monkeypatch) -> None:
    real_prepare = harness.catalog.prepare

    def prepare_then_delete(path, *a, progress=None, **kw):  # type: ignore[no-untyped-def]
        def step(done: int, total: int) -> None:
            if Path(path).name == "doomed.bin" and Path(path).exists():
                Path(path).unlink()
            if progress is not None:
                progress(done, total)

        return real_prepare(path, *a, progress=step, **kw)

    monkeypatch.setattr(harness.catalog, "prepare", prepare_then_delete)
    harness.start()
    write(harness.root / "churn" / "doomed.bin", weights("doomed", 3 << 20))
    wait_for(lambda: harness.rec.of("skipped"))
    [ev] = harness.rec.of("skipped")
    assert "deleted" in ev.detail
    write(harness.root / "churn" / "fine.bin", weights("still working"))
    wait_for(lambda: harness.count() == 1)
    assert harness.catalog.versions("churn")[0].path.endswith("fine.bin")
    assert not harness.rec.of("error")


def test_bundle_folders_register_once_as_a_whole(harness: Harness) -> None:
    harness.start()
    hf = harness.root / "bert" / "final"
    write(hf / "config.json", b'{"model_type": "bert"}')
    write(hf / "model.safetensors", b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    write(hf / "tokenizer.json", b"{}")
    ml = harness.root / "churn-mlflow" / "model"
    write(ml / "model.pkl", b"\x80\x04N.")
    write(ml / "MLmodel", b"flavors: {}\n")
    wait_for(lambda: harness.count() == 2)
    time.sleep(SETTLE * 3)
    assert harness.count() == 2
    assert [v.path for v in harness.catalog.versions("bert")] == [str(hf)]
    assert [v.path for v in harness.catalog.versions("churn-mlflow")] == [str(ml)]
    # A file added to the bundle later makes a new version of the folder.
    write(hf / "generation_config.json", b"{}")
    wait_for(lambda: harness.count("bert") == 2)
    assert harness.catalog.get("bert:2").path == str(hf)


def test_checkpoint_folders_belong_to_the_run_above(harness: Harness) -> None:
    harness.start()
    run = harness.root / "gpt-small" / "2026-11-26"
    for step in (100, 200):
        ck = run / f"checkpoint-{step}"
        write(ck / "config.json", b"{}")
        write(ck / "model.safetensors", weights(f"step {step}"))
        time.sleep(0.05)
    wait_for(lambda: harness.count() == 2)
    time.sleep(SETTLE * 3)
    paths = [v.path for v in harness.catalog.versions("gpt-small")]
    assert paths == [str(run / "checkpoint-100"), str(run / "checkpoint-200")]
    assert harness.count() == 2


def test_ignored_names_are_never_registered(harness: Harness) -> None:
    harness.start()
    folder = harness.root / "churn"
    for name in ("x.tmp", "y.part", "z.partial", "a.lock", "b.bin~", ".hidden.bin"):
        write(folder / name, name.encode())
    write(harness.root / ".cache" / "model.bin", b"cached")
    write(folder / "model.bin", weights("real"))
    wait_for(lambda: harness.count() == 1)
    time.sleep(SETTLE * 3)
    assert [Path(v.path).name for v in harness.catalog.versions()] == ["model.bin"]


def test_catch_up_registers_what_was_written_while_nobody_watched(harness: Harness) -> None:
    write(harness.root / "churn" / "model.bin", weights("old"))
    write(harness.root / "fraud" / "model.safetensors", weights("older"))
    harness.start()
    wait_for(lambda: harness.count() == 2)
    assert harness.rec.of("ready")


def test_lost_events_trigger_a_rescan(harness: Harness, monkeypatch) -> None:
    import logging

    from regtui.watch.observer import Enqueue

    w = harness.start()
    monkeypatch.setattr(Enqueue, "dispatch", lambda self, event: None)  # the kernel drops them
    write(harness.root / "churn" / "model.bin", weights("unseen"))
    time.sleep(SETTLE * 2)
    assert harness.count() == 0
    logging.getLogger("watchdog.observers.inotify_c").warning(
        "Inotify queue overflowed; filesystem events were lost"
    )
    wait_for(lambda: harness.count() == 1)
    assert harness.rec.of("rescan")
    assert w.running


def test_polling_mode(harness: Harness) -> None:
    harness.start(poll=True, poll_interval=0.1)
    write(harness.root / "churn" / "model.bin", weights("polled"))
    wait_for(lambda: harness.count() == 1)
    time.sleep(SETTLE * 3)
    assert harness.count() == 1


def test_fixed_model_name(harness: Harness) -> None:
    harness.start(model="everything")
    write(harness.root / "a" / "model.bin", weights("a"))
    write(harness.root / "b" / "c" / "model.bin", weights("b"))
    wait_for(lambda: harness.count("everything") == 2)
