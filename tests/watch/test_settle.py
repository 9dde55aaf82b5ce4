"""The settle rules alone, on a fake clock and fake stats."""

from __future__ import annotations

from pathlib import Path

from regtui.watch.settle import SettleTracker


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def tracker(sigs: dict[Path, str | None]) -> tuple[SettleTracker, Clock]:
    clock = Clock()
    return SettleTracker(no_close_grace=30, clock=clock, sig=sigs.get), clock


ROOT = Path("/r")
F = Path("/r/m/model.bin")


def test_open_file_waits_for_its_close() -> None:
    sigs = {F: "1"}
    t, clock = tracker(sigs)
    t.touch(F, root=ROOT, bundle=False, settle=1, writing=True)
    clock.t += 5
    assert t.due() == []  # quiet, but never closed
    t.touch(F, root=ROOT, bundle=False, settle=1, closed=True)
    clock.t += 0.5
    assert t.due() == []
    clock.t += 0.6
    [u] = t.due()
    assert u.path == F and u.in_flight
    assert t.finish(F) is None and len(t) == 0


def test_a_writer_that_never_closes_is_taken_after_the_grace() -> None:
    t, clock = tracker({F: "1"})
    t.touch(F, root=ROOT, bundle=False, settle=1, writing=True)
    clock.t += 30.5
    assert t.due() == []
    clock.t += 1
    assert len(t.due()) == 1


def test_a_stat_change_without_an_event_restarts_the_quiet_time() -> None:
    sigs = {F: "1"}
    t, clock = tracker(sigs)
    t.touch(F, root=ROOT, bundle=False, settle=1, closed=True)
    sigs[F] = "2"  # grew, but no event arrived (polling, lost event)
    clock.t += 1.1
    assert t.due() == []
    clock.t += 1.1
    assert len(t.due()) == 1


def test_activity_while_in_flight_requeues_once_it_lands() -> None:
    t, clock = tracker({F: "1"})
    t.touch(F, root=ROOT, bundle=False, settle=1, closed=True)
    clock.t += 2
    [u] = t.due()
    t.touch(F, root=ROOT, bundle=False, settle=1, writing=True)
    t.touch(F, root=ROOT, bundle=False, settle=1, closed=True)
    assert t.due() == []  # never twice at once
    assert t.finish(F) is u
    clock.t += 1.1
    assert t.due() == [u]


def test_deleted_while_in_flight_is_dropped_when_it_lands() -> None:
    t, clock = tracker({F: "1"})
    t.touch(F, root=ROOT, bundle=False, settle=1, closed=True)
    clock.t += 2
    t.due()
    t.forget(F.parent)
    assert t.finish(F) is None and len(t) == 0


def test_units_found_by_a_scan_are_quiet_since_they_last_changed() -> None:
    t, clock = tracker({F: "1"})
    t.touch(F, root=ROOT, bundle=False, settle=1, quiet_since=clock.t - 60)
    assert len(t.due()) == 1
    g = Path("/r/m/fresh.bin")
    t.touch(g, root=ROOT, bundle=False, settle=1, quiet_since=clock.t - 0.2)
    assert t.due() == []
    clock.t += 0.9
    assert [u.path for u in t.due()] == [g]


def test_bundle_waits_for_every_file_in_it() -> None:
    b = Path("/r/bert")
    a, w = b / "config.json", b / "model.safetensors"
    t, clock = tracker({a: "1", w: "1"})
    t.touch(b, root=ROOT, bundle=True, settle=1, file=a, closed=True)
    t.touch(b, root=ROOT, bundle=True, settle=1, file=w, writing=True)
    clock.t += 2
    assert t.due() == []
    t.touch(b, root=ROOT, bundle=True, settle=1, file=w, closed=True)
    clock.t += 1.1
    assert [u.path for u in t.due()] == [b]
