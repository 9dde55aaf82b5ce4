"""The settle rules alone, on a fake clock and fake stats."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regtui.watch.settle import HOLD_MIN, QUICK_LOOK, SettleTracker, hold_time


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


# Early looks at provable formats, and holding what the format shows incomplete.


def test_a_closed_provable_file_is_looked_at_early_then_waits_the_rest() -> None:
    t, clock = tracker({F: "1"})
    t.touch(F, root=ROOT, bundle=False, settle=2, writing=True)
    t.touch(F, root=ROOT, bundle=False, settle=2, closed=True, quick=True)
    clock.t += QUICK_LOOK + 0.001
    [u] = t.due()
    assert t.finish(F, later=True) is u  # not proven: back to the full settle time
    assert not u.quick
    clock.t += 1
    assert t.due() == []
    clock.t += 1
    assert t.due() == [u]


def test_quick_only_when_closed() -> None:
    t, clock = tracker({F: "1"})
    t.touch(F, root=ROOT, bundle=False, settle=2, quick=True)  # created/modified, no close
    clock.t += QUICK_LOOK + 0.01
    assert t.due() == []


@given(st.lists(st.sampled_from(["write", "close", "close-quick", "tick"]), max_size=12))
def test_any_later_activity_after_a_quick_close_waits_the_settle_time(events: list[str]) -> None:
    t, clock = tracker({F: "1"})
    t.touch(F, root=ROOT, bundle=False, settle=2, closed=True, quick=True)
    for e in events:
        if e == "tick":
            clock.t += 0.001
        else:
            t.touch(
                F,
                root=ROOT,
                bundle=False,
                settle=2,
                writing=e == "write",
                closed=e.startswith("close"),
                quick=e == "close-quick",
            )
    u = t.units[F]
    last = [e for e in events if e != "tick"]
    if not last or last[-1] == "close-quick":
        assert u.deadline(30) == u.last_activity + QUICK_LOOK
    elif last[-1] == "write":
        assert u.deadline(30) == u.last_activity + 2 + 30
    else:
        assert u.deadline(30) == u.last_activity + 2


def test_held_unit_waits_for_a_change_or_its_hold_time() -> None:
    sigs = {F: "1"}
    t, clock = tracker(sigs)
    t.touch(F, root=ROOT, bundle=False, settle=1, closed=True)
    clock.t += 1.1
    [u] = t.due()
    assert t.finish(F, hold=10, reason="truncated") is u
    assert u.held_since == clock.t and u.reason == "truncated"
    clock.t += 5
    assert t.due() == []  # quiet, but held: not looked at again
    t.touch(F, root=ROOT, bundle=False, settle=1, closed=True)  # the writer came back
    assert u.held_since is None
    clock.t += 1.1
    assert t.due() == [u]
    t.finish(F, hold=10, reason="truncated")
    clock.t += 10
    [expired] = t.due()
    assert expired.held_since is not None  # handed out still held: to be given up
    assert t.finish(F) is None and len(t) == 0


def test_held_unit_changed_without_an_event_is_looked_at_again() -> None:
    sigs = {F: "1"}
    t, clock = tracker(sigs)
    t.touch(F, root=ROOT, bundle=False, settle=1, closed=True)
    clock.t += 1.1
    t.due()
    t.finish(F, hold=10, reason="truncated")
    sigs[F] = "2"
    clock.t += 10
    assert t.due() == []  # it changed: quiet time again, no longer held
    assert t.units[F].held_since is None
    clock.t += 1.1
    assert len(t.due()) == 1


def test_activity_while_in_flight_wins_over_holding() -> None:
    t, clock = tracker({F: "1"})
    t.touch(F, root=ROOT, bundle=False, settle=1, closed=True)
    clock.t += 1.1
    [u] = t.due()
    t.touch(F, root=ROOT, bundle=False, settle=1, closed=True)
    assert t.finish(F, hold=10, reason="truncated") is u
    assert u.held_since is None


@given(st.floats(min_value=0.01, max_value=1000, allow_nan=False))
def test_hold_time_is_ten_settles_and_at_least_the_minimum(settle: float) -> None:
    assert hold_time(settle) == max(HOLD_MIN, 10 * settle) >= 30


@pytest.mark.parametrize("gone", ["file", "its folder"])
def test_a_file_renamed_or_deleted_while_open_is_open_no_more(gone: str) -> None:
    """A bundle's file written under a temporary name and renamed into place
    (safetensors, huggingface_hub): its close arrives under the new name, so
    the old name must not keep the bundle waiting out the no-close grace."""
    b = Path("/r/bert/checkpoint-4")
    tmp, final = b / ".tmpXYZ", b / "model.safetensors"
    t, clock = tracker({tmp: "1", final: "1"})
    t.touch(b, root=ROOT, bundle=True, settle=1, file=tmp, writing=True)
    t.went_away(tmp if gone == "file" else b.parent / "checkpoint-4" / ".tmpXYZ")
    t.touch(b, root=ROOT, bundle=True, settle=1, file=final, closed=True)
    clock.t += 1.1
    assert [u.path for u in t.due()] == [b]


@pytest.mark.parametrize("quick", [False, True])
@pytest.mark.parametrize("wait", [0.5, 3.0, 40.0])
def test_a_deferred_unit_is_not_handed_out_before_its_time(quick: bool, wait: float) -> None:
    shard = Path("/r/m/model-00001-of-00002.safetensors")
    t, clock = tracker({shard: "1"})
    t.touch(shard, root=ROOT, bundle=False, settle=1, closed=True, quick=quick)
    clock.t += 1.1
    [u] = t.due()
    t.defer(shard, clock.t + wait)
    assert not u.in_flight
    clock.t += wait - 0.01
    assert t.due() == []
    clock.t += 0.02
    assert [x.path for x in t.due()] == [shard]


def test_a_new_bundle_absorbs_the_lone_units_inside_it() -> None:
    bundle = Path("/r/m/final")
    inner = [bundle / "model-00001-of-00002.safetensors", bundle / "sub" / "model.pkl"]
    ckpt = bundle / "checkpoint-5"
    busy = bundle / "model.skops"
    outside = Path("/r/m/other.safetensors")
    t, _ = tracker(dict.fromkeys([*inner, ckpt, busy, outside], "1"))
    for f in [*inner, busy, outside]:
        t.touch(f, root=ROOT, bundle=False, settle=1)
    t.touch(ckpt, root=ROOT, bundle=True, settle=1)
    t.units[busy].in_flight = True
    t.absorb(bundle)
    # Checkpoint folders are their own units; an in-flight unit is left to land.
    assert set(t.units) == {ckpt, busy, outside}
