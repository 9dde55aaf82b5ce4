"""When a unit (a file or a bundle folder) counts as finished.

Finished means: no file in it is open for writing (we saw it modified and not
yet closed; only where the platform reports closes), nothing happened to it for
`settle` seconds, and a last stat agrees with what we saw. Where closes are not
reported (polling, other platforms) the stat check stands in for them. A file
that stays open with no close event at all (a hard link, a crashed writer) is
taken after `settle + no_close_grace` seconds of silence.

The tracker is plain single-threaded state: the watcher's scheduler thread owns it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from regtui.watch.cache import signature

NO_CLOSE_GRACE = 30.0


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

    def deadline(self, grace: float) -> float:
        wait = self.settle + (grace if self.open_files else 0.0)
        return self.last_activity + wait


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
    ) -> Unit:
        """Record activity on `file` (default: the unit itself) of `unit`.

        writing: modified and presumably still open; closed: the writer closed it.
        quiet_since: for units found by a scan, when they last changed (monotonic).
        """
        now = self.clock()
        u = self.units.get(unit)
        created = u is None
        if u is None:
            u = self.units[unit] = Unit(unit, root, bundle, settle, now)
        f = file or unit
        if quiet_since is None:
            u.last_activity = now
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

    def next_deadline(self) -> float | None:
        times = [u.deadline(self.grace) for u in self.units.values() if not u.in_flight]
        return min(times, default=None)

    def due(self) -> list[Unit]:
        """Units finished now, marked in flight. A unit whose files changed
        without an event (polling, lost events) starts its quiet time again."""
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
                continue
            u.in_flight = True
            u.dirty = False
            out.append(u)
        return out

    def finish(self, path: Path, *, retry: bool = False) -> Unit | None:
        """The unit's work landed. It stays pending if it changed meanwhile (or
        `retry`), otherwise it is done. Returns the unit if it stays."""
        u = self.units.get(path)
        if u is None:
            return None
        u.in_flight = False
        if u.attempts == -1:
            del self.units[path]
            return None
        if u.dirty or retry:
            u.dirty = False
            if retry:
                u.attempts += 1
                u.last_activity = self.clock()
            return u
        del self.units[path]
        return None
