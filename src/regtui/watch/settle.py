"""When a unit (a file or a bundle folder) counts as finished.

Finished means: no file in it is open for writing (we saw it modified and not
yet closed; only where the platform reports closes), nothing happened to it for
`settle` seconds, and a last stat agrees with what we saw. Where closes are not
reported (polling, other platforms) the stat check stands in for them. A file
that stays open with no close event at all (a hard link, a crashed writer) is
taken after `settle + no_close_grace` seconds of silence.

Two refinements, because quiet time alone cannot tell a finished file from a
paused writer:
- a file its writer closed, whose format may prove it complete (`quick`), is
  looked at after QUICK_LOOK seconds instead of the whole settle time; if the
  format does not prove it, it goes back to wait out the rest (`later`);
- a unit the format shows incomplete is held (`held_since`): it is looked at
  again when it changes, and once it has stayed unchanged for its hold time
  `due()` hands it out one last time, still held, to be reported and dropped.

The tracker is plain single-threaded state: the watcher's scheduler thread owns it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from regtui.watch.cache import signature

NO_CLOSE_GRACE = 30.0
QUICK_LOOK = 0.03  # seconds of quiet after a close before a provable format is looked at
HOLD_SETTLES = 10  # an incomplete unit is held this many settle times...
HOLD_MIN = 30.0  # ...and at least this long, before it is reported incomplete


def hold_time(settle: float) -> float:
    """How long an incomplete unit is held unchanged before it is given up."""
    return max(HOLD_MIN, HOLD_SETTLES * settle)


@dataclass
class Unit:
    path: Path
    root: Path
    bundle: bool
    settle: float
    last_activity: float
    open_files: set[Path] = field(default_factory=set)
    sigs: dict[Path, str | None] = field(default_factory=dict)
    in_flight: bool = False
    dirty: bool = False  # activity while in flight: look again when it lands
    attempts: int = 0
    quick: bool = False  # closed, in a format that may prove it complete: look early
    held_since: float | None = None  # the format said incomplete; unchanged since then
    hold: float = 0.0
    reason: str | None = None  # why it is held
    not_before: float = 0.0  # deferred: its folder is still being written as a bundle

    def deadline(self, grace: float) -> float:
        if self.held_since is not None:
            return self.held_since + self.hold
        if self.open_files:
            return max(self.not_before, self.last_activity + self.settle + grace)
        quiet = min(QUICK_LOOK, self.settle) if self.quick else self.settle
        return max(self.not_before, self.last_activity + quiet)


class SettleTracker:
    def __init__(
        self,
        *,
        no_close_grace: float = NO_CLOSE_GRACE,
        clock: Callable[[], float] = time.monotonic,
        sig: Callable[[Path], str | None] = signature,
    ) -> None:
        self.units: dict[Path, Unit] = {}
        self.grace = no_close_grace
        self.clock = clock
        self.sig = sig

    def __len__(self) -> int:
        return len(self.units)

    @property
    def in_flight(self) -> int:
        return sum(1 for u in self.units.values() if u.in_flight)

    def touch(
        self,
        unit: Path,
        *,
        root: Path,
        bundle: bool,
        settle: float,
        file: Path | None = None,
        writing: bool = False,
        closed: bool = False,
        quiet_since: float | None = None,
        quick: bool = False,
    ) -> Unit:
        """Record activity on `file` (default: the unit itself) of `unit`.

        writing: modified and presumably still open; closed: the writer closed it.
        quiet_since: for units found by a scan, when they last changed (monotonic).
        quick: closed and in a format that may prove itself complete (see QUICK_LOOK).
        """
        now = self.clock()
        u = self.units.get(unit)
        created = u is None
        if u is None:
            u = self.units[unit] = Unit(unit, root, bundle, settle, now)
        f = file or unit
        if quiet_since is None:
            u.last_activity = now
            u.quick = quick and closed
            u.held_since = None  # it changed: look again after the usual quiet time
            if u.in_flight:
                u.dirty = True
        elif created:
            # Found by a scan, not an event: quiet since it last changed.
            u.last_activity = min(now, quiet_since)
        if writing:
            u.open_files.add(f)
        if closed:
            u.open_files.discard(f)
        if not (writing and u.open_files):
            # A file open for writing gets its stat taken when it closes; one
            # stat per write event would cost a big streaming writer dearly.
            u.sigs[f] = self.sig(f)
        return u

    def forget(self, path: Path) -> list[Unit]:
        """Drop units at or under `path` (deleted, moved away). In-flight ones are
        left to land; they are then dropped, not requeued."""
        gone = []
        for key in list(self.units):
            if key == path or path in key.parents:
                u = self.units[key]
                if u.in_flight:
                    u.dirty = False
                    u.sigs.clear()
                    u.open_files.clear()
                    u.attempts = -1  # tombstone: finish() drops it
                else:
                    del self.units[key]
                gone.append(u)
        return gone

    def went_away(self, path: Path) -> None:
        """`path` (a file, or a folder and all in it) was deleted or renamed: none
        of it is open for writing in any unit any more. Without this a file
        written under a temporary name and renamed into place (safetensors,
        huggingface_hub, torch.save via a temp file) stayed "open" under its
        old name, and its unit waited out the no-close grace on top of settle."""
        for u in self.units.values():
            for f in [f for f in u.open_files if f == path or path in f.parents]:
                u.open_files.discard(f)
            for f in [f for f in u.sigs if f == path or path in f.parents]:
                del u.sigs[f]

    def defer(self, path: Path, until: float) -> None:
        """The unit (handed out by `due()`) is not to be looked at before `until`."""
        u = self.units.get(path)
        if u is not None:
            u.in_flight = False
            u.not_before = until

    def absorb(self, bundle: Path) -> None:
        """`bundle` became a bundle folder: files in it pending on their own are
        part of it now, not units of their own (in-flight ones are left to land)."""
        for key in [k for k, u in self.units.items() if bundle in k.parents and not u.bundle]:
            if not self.units[key].in_flight:
                del self.units[key]

    def next_deadline(self) -> float | None:
        times = [u.deadline(self.grace) for u in self.units.values() if not u.in_flight]
        return min(times, default=None)

    def due(self) -> list[Unit]:
        """Units finished now, marked in flight. A unit whose files changed
        without an event (polling, lost events) starts its quiet time again.
        A held unit comes out (still `held_since`) when its hold time is over."""
        now = self.clock()
        out = []
        for u in self.units.values():
            if u.in_flight or now < u.deadline(self.grace):
                continue
            changed = False
            for f, old in list(u.sigs.items()):
                new = self.sig(f)
                if new != old:
                    u.sigs[f] = new
                    changed = True
            if changed:
                u.last_activity = now
                u.quick = False
                u.held_since = None
                continue
            u.in_flight = True
            u.dirty = False
            out.append(u)
        return out

    def finish(
        self,
        path: Path,
        *,
        retry: bool = False,
        later: bool = False,
        hold: float | None = None,
        reason: str | None = None,
    ) -> Unit | None:
        """The unit's work landed. It stays pending if it changed meanwhile (or
        `retry`), otherwise it is done. Returns the unit if it stays.

        later: an early look did not prove it complete; it waits out the rest of
        its settle time. hold: the format says it is incomplete (`reason`); it
        is held for `hold` seconds unless it changes."""
        u = self.units.get(path)
        if u is None:
            return None
        u.in_flight = False
        if u.attempts == -1:
            del self.units[path]
            return None
        u.quick = False
        if u.dirty or retry:
            u.dirty = False
            if retry:
                u.attempts += 1
                u.last_activity = self.clock()
            return u
        if later:
            return u
        if hold is not None:
            u.held_since = self.clock()
            u.hold = hold
            u.reason = reason
            return u
        del self.units[path]
        return None
