"""The hash pools: each due unit is hashed and inspected on a worker thread,
then handed to the register thread (`Prepared`) or back to the scheduler
(`Finished`, saying how its turn ended).

Two pools, small and large artifacts, so a 5 GB checkpoint never holds up a
small file queued behind it (hashlib and file reads release the GIL).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from regtui.errors import ArtifactChanged, ArtifactError, ArtifactRefused, RegtuiError
from regtui.inspect.bounds import Cancelled, cancelled_by
from regtui.inspect.layouts import is_sidecar
from regtui.inspect.sidecars import sidecars_for
from regtui.watch.cache import signature
from regtui.watch.events import EventKind, WatchEvent
from regtui.watch.messages import Finished, Job, Prepared, Stop, Turn

if TYPE_CHECKING:
    from regtui.catalog.service import Candidate
    from regtui.watch.watcher import Watcher

log = logging.getLogger(__name__)

PROGRESS_MIN_BYTES = 16 << 20  # smaller artifacts hash too fast for progress to help
PROGRESS_EVERY = 0.5  # seconds between progress events for one artifact
LARGE_WORKERS = 2


class Abandoned(Exception):
    """Raised inside a hash when the watcher stops without waiting for it."""


class Looks:
    """What workers remember between two turns of a unit, shared with the
    scheduler (which forgets what went away): hence the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Candidates from an early look that did not prove them complete, kept
        # (with the signature they were hashed at) so the look after the settle
        # time does not hash them again.
        self._early: dict[Path, tuple[str, Candidate]] = {}
        # Units reported incomplete, with the signature they had then: a rescan
        # finding them unchanged says nothing more.
        self._given_up: dict[Path, str | None] = {}

    def keep_early(self, path: Path, sig: str, cand: Candidate) -> None:
        with self._lock:
            self._early[path] = (sig, cand)

    def take_early(self, path: Path) -> tuple[str, Candidate] | None:
        with self._lock:
            return self._early.pop(path, None)

    def forget_under(self, path: Path) -> None:
        with self._lock:
            for key in [k for k in self._early if k == path or path in k.parents]:
                del self._early[key]

    def give_up(self, path: Path, sig: str | None) -> None:
        with self._lock:
            self._given_up[path] = sig
            self._early.pop(path, None)

    def given_up_at(self, path: Path, sig: str) -> bool:
        with self._lock:
            return self._given_up.get(path, "") == sig

    def complete_again(self, path: Path) -> None:
        with self._lock:
            self._given_up.pop(path, None)


def pool_threads(pool: ThreadPoolExecutor) -> list[threading.Thread]:
    return list(getattr(pool, "_threads", ()))  # the pool keeps no public list


class Preparer:
    """The two pools and what runs on them."""

    def __init__(self, watcher: Watcher, outbox: queue.SimpleQueue[Prepared | Stop]) -> None:
        self.w = watcher
        self.outbox = outbox
        self._small = ThreadPoolExecutor(watcher.workers, thread_name_prefix="regtui-hash")
        self._large = ThreadPoolExecutor(LARGE_WORKERS, thread_name_prefix="regtui-hash-large")

    def submit(self, job: Job, *, large: bool) -> None:
        (self._large if large else self._small).submit(self._work, job)

    def shutdown(self, *, abandon: bool, timeout: float) -> list[str]:
        """Stop both pools; the names of workers still running after `timeout`.
        Workers stop at their next read (Cancelled) or hashed chunk (Abandoned);
        one stuck elsewhere is waited for `timeout` at most, never forever."""
        workers = pool_threads(self._small) + pool_threads(self._large)
        self._small.shutdown(wait=not abandon, cancel_futures=True)
        self._large.shutdown(wait=not abandon, cancel_futures=True)
        until = time.monotonic() + timeout
        for t in workers:
            t.join(max(0.0, until - time.monotonic()))
        return [t.name for t in workers if t.is_alive()]

    def _progress(self, job: Job) -> Callable[[int, int], None]:
        last = 0.0

        def step(done: int, total: int) -> None:
            nonlocal last
            if self.w.abandon.is_set():
                raise Abandoned
            if total < PROGRESS_MIN_BYTES:
                return
            now = time.monotonic()
            if done >= total or now - last >= PROGRESS_EVERY:
                last = now
                self.w.emit(
                    WatchEvent(EventKind.PROGRESS, str(job.unit), job.model, done=done, total=total)
                )

        return step

    def _work(self, job: Job) -> None:
        turn, detail = Turn.DONE, ""
        try:
            with cancelled_by(self.w.abandon):  # an inspection in flight stops with us
                turn, detail = self._prepare(job)
        except (Abandoned, Cancelled):
            pass
        except Exception as exc:  # never let a worker die silently
            log.exception("watch: %s", job.unit)
            self.w.emit(WatchEvent(EventKind.ERROR, str(job.unit), job.model, detail=str(exc)))
        finally:
            if turn is not Turn.QUEUED:
                self.w.scheduler.inbox.put(Finished(job.unit, turn, detail))

    def _prepare(self, job: Job) -> tuple[Turn, str]:
        """Hash and inspect one unit and queue it for registration; returns how
        the unit's turn ends and, for WAITING, why."""
        from regtui.inspect import is_artifact_candidate

        w = self.w
        if w.abandon.is_set():
            return Turn.DONE, ""
        if not job.bundle and is_sidecar(job.unit.name):
            self._attach_sidecar(job)
            return Turn.DONE, ""
        if not job.bundle and not is_artifact_candidate(job.unit):
            return Turn.DONE, ""
        sig = signature(job.unit)
        if sig is None:
            w.emit(
                WatchEvent(
                    EventKind.SKIPPED, str(job.unit), job.model, detail="gone before it settled"
                )
            )
            return Turn.DONE, ""
        assert w.cache is not None
        sha = w.cache.get(job.unit, sig)
        if sha is not None:
            known = w.catalog.version_by_sha(job.model, sha)
            if known is not None:
                w.emit(
                    WatchEvent(
                        EventKind.EXISTS, str(job.unit), job.model, known, detail="unchanged"
                    )
                )
                return Turn.DONE, ""
        early = w.looks.take_early(job.unit)
        if early is not None and early[0] == sig and early[1].model == job.model:
            cand = early[1]  # hashed by the early look, unchanged since
        else:
            try:
                cand = w.catalog.prepare(
                    job.unit, job.model, root=job.root, progress=self._progress(job)
                )
            except ArtifactError as exc:
                if not job.unit.exists():
                    w.emit(WatchEvent(EventKind.SKIPPED, str(job.unit), job.model, detail=str(exc)))
                    return Turn.DONE, ""
                if isinstance(exc, ArtifactChanged):
                    return Turn.AGAIN, ""  # still being written: let it settle again
                kind = EventKind.REFUSED if isinstance(exc, ArtifactRefused) else EventKind.ERROR
                w.emit(WatchEvent(kind, str(job.unit), job.model, detail=str(exc)))
                return Turn.DONE, ""
            except RegtuiError as exc:
                w.emit(WatchEvent(EventKind.ERROR, str(job.unit), job.model, detail=str(exc)))
                return Turn.DONE, ""
        if job.bundle and signature(job.unit) != sig:
            return Turn.AGAIN, ""  # a file in the folder changed while we hashed it
        if job.quick and (cand.damage is not None or not cand.complete):
            # The early look did not prove it: wait out the rest of the settle time.
            w.looks.keep_early(job.unit, sig, cand)
            return Turn.LATER, ""
        if cand.damage is not None:
            if w.looks.given_up_at(job.unit, sig):
                return Turn.DONE, ""  # reported already and unchanged since
            return Turn.WAITING, cand.damage
        w.looks.complete_again(job.unit)
        self.outbox.put(Prepared(job, cand, sig))
        return Turn.QUEUED, ""

    def _attach_sidecar(self, job: Job) -> None:
        """A sidecar settled: log its folder's values onto the folder's newest
        version, if the sidecar was written after that version was registered
        (earlier ones were read when it was). A folder with no versions of its
        own may keep them in `checkpoints/` (Lightning's version_N/ holds
        hparams.yaml and metrics.csv, its checkpoints/ the .ckpt files)."""
        w = self.w
        folder = job.unit.parent
        try:
            mtime = os.lstat(job.unit).st_mtime
        except OSError:
            return
        target = w.catalog.newest_in_folder(folder) or w.catalog.newest_in_folder(
            folder / "checkpoints"
        )
        if target is None or mtime < target.created_at.timestamp():
            return
        # Read exactly what registering the version would read now (for a
        # Lightning checkpoint: the metrics.csv row of its own epoch and step).
        found, _ = sidecars_for(Path(target.path), job.root, target.metadata)
        metrics, params = found.merged(), found.params
        if not metrics and not params:
            return
        try:
            after = w.catalog.log(
                target.ref,
                metrics=metrics,
                params=params,
                reason=f"sidecar {job.unit.name} written after the model",
            )
        except RegtuiError as exc:
            w.emit(WatchEvent(EventKind.ERROR, str(job.unit), target.model, detail=str(exc)))
            return
        added = [k for k in after.logged if after.logged[k] != target.logged.get(k)]
        if added:
            w.emit(
                WatchEvent(
                    EventKind.LOGGED,
                    str(job.unit),
                    after.model,
                    after,
                    detail=f"{job.unit.name}: " + ", ".join(sorted(added)),
                )
            )
