"""Complete-only registration: what the format shows incomplete is held, never
registered; what it proves complete need not wait out the settle time. The
inspectors' own checks decide (safetensors and zip files here)."""

from __future__ import annotations

import io
import os
import random
import threading
import time
import zipfile
from pathlib import Path

import pytest

from tests.system.watch.conftest import SETTLE, Harness, wait_for, weights


def zip_weights(tag: str, n: int = 4096) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", tag.encode())
        zf.writestr("archive/data/0", os.urandom(n))
    return buf.getvalue()


def registered_shas(harness: Harness) -> list[str]:
    return [v.sha256 for v in harness.catalog.versions()]


def sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ paused writer


def write_with_pause(path: Path, data: bytes, cut: int, pause: float, *, reopen: bool) -> None:
    """Write `data[:cut]`, pause, write the rest: closing in between (a two-phase
    save) or holding the file open (a slow writer)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if reopen:
        with path.open("wb") as fh:
            fh.write(data[:cut])
        time.sleep(pause)
        with path.open("ab") as fh:
            fh.write(data[cut:])
        return
    with path.open("wb") as fh:
        fh.write(data[:cut])
        fh.flush()
        os.fsync(fh.fileno())
        time.sleep(pause)
        fh.write(data[cut:])


@pytest.mark.parametrize(
    ("reopen", "poll"),
    [(True, False), (False, True), (True, True)],
    ids=["two-phase-events", "held-open-polling", "two-phase-polling"],
)
def test_writer_pausing_three_settles_mid_file_gives_one_version(
    harness: Harness, reopen: bool, poll: bool
) -> None:
    harness.start(poll=poll, poll_interval=0.1, no_close_grace=SETTLE)
    data = weights("paused", 1 << 16)
    f = harness.root / "churn" / "model.safetensors"
    write_with_pause(f, data, len(data) // 2, 3 * SETTLE + 0.5, reopen=reopen)
    wait_for(lambda: harness.count() == 1)
    time.sleep(SETTLE * 3)
    assert registered_shas(harness) == [sha(data)]
    [waiting] = harness.rec.of("waiting")  # held while it was half there, said once
    assert waiting.path == str(f) and "truncated" in waiting.detail
    assert not harness.rec.of("changed", "incomplete", "error")


def test_file_that_never_completes_is_reported_once_and_not_registered(
    harness: Harness,
) -> None:
    harness.start(hold=1.0)
    data = weights("abandoned", 4096)
    f = harness.root / "churn" / "model.safetensors"
    f.parent.mkdir()
    f.write_bytes(data[:-100])
    wait_for(lambda: harness.rec.of("incomplete"))
    time.sleep(1.0 + SETTLE * 3)  # past another hold time: still said once
    [ev] = harness.rec.of("incomplete")
    assert ev.path == str(f) and ev.model == "churn" and "truncated" in ev.detail
    assert ev.to_json()["event"] == "incomplete"
    assert harness.count() == 0
    # A change brings it back: finished now, it is registered.
    f.write_bytes(data)
    wait_for(lambda: harness.count() == 1)
    assert registered_shas(harness) == [sha(data)]


def test_restart_does_not_register_a_file_left_incomplete(harness: Harness) -> None:
    data = weights("left", 4096)
    f = harness.root / "fraud" / "model.safetensors"
    f.parent.mkdir()
    f.write_bytes(data[: len(data) // 3])
    harness.start(hold=0.5)  # the catch-up walk finds it
    wait_for(lambda: harness.rec.of("incomplete"))
    assert harness.count() == 0
    assert [e.path for e in harness.rec.of("waiting")] == [str(f)]


# ------------------------------------------------- partial writes, generated family

MAKERS = {".safetensors": weights, ".pt": zip_weights}


def _family(seed: int) -> list[tuple[str, str, int | None]]:
    """(suffix, tag, cut) triples: files cut at random points, and whole ones."""
    rng = random.Random(seed)
    out: list[tuple[str, str, int | None]] = []
    for i in range(12):
        suffix = rng.choice(sorted(MAKERS))
        size = len(MAKERS[suffix](f"{seed}-{i}", 4096))
        cut = None if rng.random() < 0.4 else rng.randrange(1, size)
        out.append((suffix, f"{seed}-{i}", cut))
    return out


@pytest.mark.parametrize("seed", range(3))
def test_only_complete_bytes_are_registered(harness: Harness, seed: int) -> None:
    """Files cut at random points (some written in two phases with a pause past
    the settle time, some left cut) register only at their complete bytes."""
    # The hold time is far past the writers' pause (2 × settle), so a loaded
    # machine stretching that pause does not turn a paused writer into a report.
    harness.start(hold=5.0, no_close_grace=SETTLE)
    complete: set[str] = set()
    left_cut: set[str] = set()
    threads = []
    for suffix, tag, cut in _family(seed):
        data = MAKERS[suffix](tag, 4096)
        f = harness.root / f"m{tag}" / f"model{suffix}"
        if cut is None:
            f.parent.mkdir()
            f.write_bytes(data)
            complete.add(sha(data))
        elif int(tag.split("-")[1]) % 2:
            f.parent.mkdir()
            f.write_bytes(data[:cut])  # never finished
            left_cut.add(str(f))
        else:
            t = threading.Thread(
                target=write_with_pause, args=(f, data, cut, 2 * SETTLE), kwargs={"reopen": True}
            )
            t.start()
            threads.append(t)
            complete.add(sha(data))
    for t in threads:
        t.join()
    wait_for(lambda: len(harness.rec.of("incomplete")) >= len(left_cut), timeout=20)
    wait_for(lambda: harness.count() == len(complete), timeout=20)
    time.sleep(SETTLE * 3)
    assert set(registered_shas(harness)) == complete
    assert harness.count() == len(complete)
    assert {e.path for e in harness.rec.of("incomplete")} == left_cut
    assert not harness.rec.of("changed", "error")


# --------------------------------------------------------------- proven complete


def test_proven_complete_file_does_not_wait_out_the_settle_time(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import regtui.catalog.candidates as candidates

    hashed: list[Path] = []
    real_hash = candidates.hash_path

    def counting(path: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        hashed.append(path)
        return real_hash(path, *args, **kwargs)

    monkeypatch.setattr(candidates, "hash_path", counting)
    settle = 4.0
    folder = harness.root / "churn"
    folder.mkdir()  # watched before the files come: their closes are seen
    w = harness.start(settle=settle)
    if not w.close_events:
        pytest.skip("close events are not reported here: every file waits the settle time")
    proven = folder / "model.safetensors"
    unproven = folder / "model.bin"  # a zip-less .bin: looked at early, not proven
    # A pickle then a byte no opcode has: sound, but not proven whole. (Random bytes
    # here made one run in twelve a truncated pickle: damaged, so never registered.)
    unproven.write_bytes(b"\x80\x04N." + b"\xff" * 64)
    proven.write_bytes(weights("fast", 4096))
    wait_for(lambda: harness.rec.of("registered"))
    # The unproven one waits out its settle time, so it lands later...
    assert harness.rec.of("registered")[0].path == str(proven)
    wait_for(lambda: harness.count() == 2, timeout=settle * 3)
    assert [e.path for e in harness.rec.of("registered")] == [str(proven), str(unproven)]
    # ...without being hashed a second time.
    assert hashed.count(unproven) == 1 and hashed.count(proven) == 1


def test_proven_early_look_of_a_damaged_file_waits_the_settle_time(harness: Harness) -> None:
    """A closed file the format shows cut short is not held at the early look
    (a two-phase writer may be about to reopen it): it gets its settle time."""
    data = weights("two-phase", 4096)
    f = harness.root / "churn" / "model.safetensors"
    f.parent.mkdir()
    w = harness.start(settle=1.0, hold=30)
    if not w.close_events:
        pytest.skip("close events are not reported here")
    f.write_bytes(data[:100])
    time.sleep(0.5)  # past the early look, within the settle time
    assert not harness.rec.of("waiting")
    with f.open("ab") as fh:
        fh.write(data[100:])
    wait_for(lambda: harness.count() == 1)
    assert not harness.rec.of("waiting")
    assert registered_shas(harness) == [sha(data)]
