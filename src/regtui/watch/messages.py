"""What the watcher's threads pass each other: one frozen dataclass per message.

Three queues, each with its own message types:
- to the scheduler (`SchedulerMsg`): file-system changes, units found by a
  catch-up walk, a worker's end of a unit's turn, asks to rescan, and stop;
- to the register thread (`Prepared` or `Stop`): candidates ready to write;
- to the mark thread (`Registered` or `Stop`): written batches, to cache and to
  check for overwritten versions off the path to the next batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from regtui.catalog.records import RegisterResult
    from regtui.catalog.service import Candidate, WatchRoot


class Turn(StrEnum):
    """How a unit's turn with a worker ends (the scheduler decides what next)."""

    QUEUED = "queued"  # handed to the register thread, which finishes it
    DONE = "done"  # nothing more to do until it changes
    AGAIN = "again"  # changed while it was read: let it settle again
    LATER = "later"  # an early look did not prove it complete: wait out the settle time
    WAITING = "waiting"  # its format shows it incomplete: hold it
    FAILED = "failed"  # the catalog write failed: retried up to MAX_ATTEMPTS


@dataclass(frozen=True)
class Job:
    """One unit handed to a hash pool."""

    unit: Path
    root: Path
    model: str
    bundle: bool
    size: int
    quick: bool = False  # an early look: register only if the format proves it complete


@dataclass(frozen=True)
class Stop:
    """The thread reading this queue returns."""


@dataclass(frozen=True)
class FsChange:
    """One watchdog event (observer.Enqueue)."""

    kind: str  # watchdog's event_type: created, modified, closed, moved, deleted, ...
    is_dir: bool
    src: Path
    dest: Path | None = None


@dataclass(frozen=True)
class Overflow:
    """Events were dropped (the queue or the kernel's fell too far behind)."""


@dataclass(frozen=True)
class Rescan:
    reason: str


@dataclass(frozen=True)
class Found:
    """An artifact the catch-up walk found, quiet since `quiet_since` (monotonic)."""

    root: WatchRoot
    path: Path
    quiet_since: float


@dataclass(frozen=True)
class Scanned:
    """The walk is over; `summary` is shown in the ready event."""

    summary: str


@dataclass(frozen=True)
class Finished:
    """A unit's turn with a worker (or the register thread) is over."""

    path: Path
    turn: Turn
    detail: str = ""  # for WAITING: why it is incomplete


SchedulerMsg = FsChange | Found | Finished | Overflow | Rescan | Scanned | Stop


@dataclass(frozen=True)
class Prepared:
    """A candidate ready to be written, with the signature it was hashed at."""

    job: Job
    cand: Candidate
    sig: str


@dataclass(frozen=True)
class Registered:
    """A written batch and what writing it gave, in the same order."""

    batch: list[Prepared]
    results: list[RegisterResult]
