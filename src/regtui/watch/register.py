"""The register and mark threads.

`regtui-reg` takes every prepared candidate waiting and writes them with one
`add_candidates` (one transaction): a burst becomes a few batches, a lone file
is written at once. `regtui-mark` then fills the restart cache and marks
versions whose file was overwritten, off the path to the next batch.
"""

from __future__ import annotations

import logging
import queue
from typing import TYPE_CHECKING

from regtui.catalog.records import RegisterResult, VersionInfo
from regtui.watch.events import EventKind, WatchEvent
from regtui.watch.messages import Finished, Prepared, Registered, Stop, Turn

if TYPE_CHECKING:
    from regtui.catalog.service import Candidate
    from regtui.watch.watcher import Watcher

log = logging.getLogger(__name__)

BATCH_MAX = 500


class Registrar:
    def __init__(self, watcher: Watcher) -> None:
        self.w = watcher
        self.inbox: queue.SimpleQueue[Prepared | Stop] = queue.SimpleQueue()
        self.marks: queue.SimpleQueue[Registered | Stop] = queue.SimpleQueue()

    def _finished(self, item: Prepared, turn: Turn) -> None:
        self.w.scheduler.inbox.put(Finished(item.job.unit, turn))

    # ------------------------------------------------------------- regtui-reg

    def run(self) -> None:
        while True:
            first = self.inbox.get()
            if isinstance(first, Stop):
                return
            batch = [first]
            stop = False
            while len(batch) < BATCH_MAX:
                try:
                    nxt = self.inbox.get_nowait()
                except queue.Empty:
                    break
                if isinstance(nxt, Stop):
                    stop = True
                    break
                batch.append(nxt)
            try:
                self._register(batch)
            except Exception as exc:
                log.exception("watch: register failed")
                for item in batch:
                    job = item.job
                    self.w.emit(
                        WatchEvent(EventKind.ERROR, str(job.unit), job.model, detail=str(exc))
                    )
                    self._finished(item, Turn.DONE)
            if stop:
                return

    def _register(self, batch: list[Prepared]) -> None:
        try:
            results = self.w.catalog.add_candidates([p.cand for p in batch])
        except Exception as exc:
            if len(batch) > 1:  # one bad candidate must not sink the others
                for item in batch:
                    self._register([item])
                return
            job = batch[0].job
            self.w.emit(WatchEvent(EventKind.ERROR, str(job.unit), job.model, detail=str(exc)))
            self._finished(batch[0], Turn.FAILED)
            return
        for item, res in zip(batch, results, strict=True):
            kind = EventKind.REGISTERED if res.created else EventKind.EXISTS
            self.w.emit(WatchEvent(kind, str(item.job.unit), item.job.model, res.version))
        self.marks.put(Registered(batch, results))

    # ------------------------------------------------------------ regtui-mark

    def run_marks(self) -> None:
        while True:
            msg = self.marks.get()
            if isinstance(msg, Stop):
                return
            cache = self.w.cache
            assert cache is not None
            try:
                cache.put_many(
                    (p.job.unit, p.sig, p.cand.digest.sha256, p.cand.digest.size_bytes)
                    for p in msg.batch
                )
            except Exception:  # the cache only saves work; losing a write costs a re-hash
                log.exception("watch: cache write failed")
            try:
                self._mark_overwritten([p.cand for p in msg.batch], msg.results)
            except Exception:
                log.exception("watch: marking overwritten versions failed")
            for item in msg.batch:
                self._finished(item, Turn.DONE)

    def _mark_overwritten(self, cands: list[Candidate], results: list[RegisterResult]) -> None:
        """A file rewritten in place: older versions recorded at the same path with
        other bytes no longer match it; say so, never change them silently."""
        catalog = self.w.catalog
        current: dict[str, VersionInfo] = {}
        for cand, res in zip(cands, results, strict=True):
            if res.version.path == str(cand.path):
                current[str(cand.path)] = res.version
        if not current:
            return
        for v in catalog.versions_at_paths(current):
            now = current[v.path]
            if v.id == now.id:
                if v.artifact_state != "ok":  # the file holds these bytes again
                    catalog.mark_artifact(v.ref, "ok", f"{v.path} matches again")
            elif v.sha256 != now.sha256 and v.artifact_state == "ok":
                marked = catalog.mark_artifact(
                    v.ref, "changed", f"{v.path} was overwritten; it is now {now.ref}"
                )
                self.w.emit(
                    WatchEvent(EventKind.CHANGED, v.path, v.model, marked, detail=f"now {now.ref}")
                )
