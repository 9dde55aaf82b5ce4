"""The scheduler thread: file-system events in, units due to a hash pool out.

It alone owns the SettleTracker and the bundle-lookup memo, so neither needs a
lock; workers tell it how a unit's turn ended with a `Finished` message.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import stat
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from regtui.catalog.artifacts import entry_path
from regtui.errors import ArtifactError
from regtui.hashing import iter_tree
from regtui.inspect.layouts import find_artifacts, is_bundle_inner_name, shown_path, units_for
from regtui.tree_walk import Skipped
from regtui.watch.cache import newest_mtime
from regtui.watch.events import EventKind, WatchEvent
from regtui.watch.messages import (
    Finished,
    Found,
    FsChange,
    Job,
    Overflow,
    Rescan,
    Scanned,
    SchedulerMsg,
    Stop,
    Turn,
)
from regtui.watch.settle import SettleTracker, Unit, hold_time

if TYPE_CHECKING:
    from regtui.watch.watcher import Watcher

log = logging.getLogger(__name__)

LARGE_BYTES = 64 << 20  # at or above this an artifact goes to the large-artifact pool
MAX_ATTEMPTS = 3  # catalog write failures before a unit is given up (until it changes)
DRAIN_MAX = 20_000  # events handled between two looks at the due units
MEMO_MAX = 10_000  # bundle answers kept before the memo starts afresh
# Formats that can prove a file complete (safetensors' header, a zip's central
# directory, GGUF's tensor table, ...): closed files in these are looked at early.
PROVABLE_SUFFIXES = frozenset(
    {".safetensors", ".gguf", ".pt", ".pth", ".ckpt", ".bin", ".keras", ".pt2", ".skops", ".onnx"}
)


class Scheduler:
    """Runs on the `regtui-watch` thread (and starts `regtui-scan` walks)."""

    def __init__(self, watcher: Watcher, tracker: SettleTracker) -> None:
        self.w = watcher
        self.tracker = tracker
        self.inbox: queue.SimpleQueue[SchedulerMsg] = queue.SimpleQueue()
        self._scan_thread: threading.Thread | None = None
        self._scan_again: str | None = None
        self.caught_up = not watcher.catch_up
        # Bundle lookups by folder, kept until a name appears or goes below it:
        # a burst into one folder then costs one lookup per new file, not three.
        self._memo: dict[Path, Path | None] = {}

    # ------------------------------------------------------------------ the loop

    def run(self) -> None:
        w = self.w
        while True:
            deadline = self.tracker.next_deadline()
            timeout = 0.5 if deadline is None else min(0.5, max(0.0, deadline - time.monotonic()))
            msgs: list[SchedulerMsg] = []
            try:
                msgs.append(self.inbox.get(timeout=timeout))
                while len(msgs) < DRAIN_MAX:
                    msgs.append(self.inbox.get_nowait())
            except queue.Empty:
                pass
            seen_modified: set[Path] = set()
            if len(self._memo) > MEMO_MAX:
                self._memo.clear()
            for msg in msgs:
                if isinstance(msg, Stop):
                    return
                try:
                    self._handle(msg, seen_modified)
                except Exception as exc:  # one odd path must not kill the scheduler
                    log.exception("watch: cannot handle %r", msg)
                    w.emit(
                        WatchEvent(EventKind.ERROR, _shown_subject(msg), detail=f"internal: {exc}")
                    )
            if w.stopping.is_set():
                continue
            for unit in self.tracker.due():
                try:
                    if unit.held_since is not None:
                        self._give_up(unit)
                        continue
                    self._dispatch(unit)
                except Exception as exc:
                    log.exception("watch: cannot dispatch %s", unit.path)
                    self.tracker.finish(unit.path)
                    w.emit(WatchEvent(EventKind.ERROR, str(unit.path), detail=f"internal: {exc}"))
            if self.caught_up and not self.tracker.units and self.inbox.empty():
                w.idle.set()
            else:
                w.idle.clear()

    def join_scan(self, timeout: float) -> None:
        if self._scan_thread is not None:
            self._scan_thread.join(timeout)

    def _handle(self, msg: SchedulerMsg, seen_modified: set[Path]) -> None:
        if isinstance(msg, FsChange):
            if msg.kind == "modified":
                # A writer streaming a big file sends one per write: one look per drain.
                if msg.is_dir or msg.src in seen_modified:
                    return
                seen_modified.add(msg.src)
            else:
                seen_modified.discard(msg.src)
                if msg.kind != "closed":
                    self._forget_bundle_answers(msg.src.parent)
                    if msg.dest is not None:
                        self._forget_bundle_answers(msg.dest.parent)
            self._on_fs(msg)
        elif isinstance(msg, Found):
            self.tracker.touch(
                msg.path,
                root=Path(msg.root.path),
                bundle=msg.path.is_dir(),
                settle=msg.root.settle_seconds,
                quiet_since=msg.quiet_since,
            )
        elif isinstance(msg, Finished):
            self._finish(msg)
        elif isinstance(msg, Overflow):
            self.w.handler.overflowed = False
            self._start_scan("events were lost (queue overflow)")
        elif isinstance(msg, Rescan):
            self._start_scan(msg.reason)
        elif isinstance(msg, Scanned):
            self._scan_thread = None
            self.caught_up = True
            self.w.emit(WatchEvent(EventKind.READY, detail=msg.summary))
            if self._scan_again is not None:
                reason, self._scan_again = self._scan_again, None
                self._start_scan(reason)

    def _forget_bundle_answers(self, folder: Path) -> None:
        """A name appeared or went in `folder`: it, and every folder below it
        (whose outermost bundle it may be), must be looked up again."""
        if not self._memo:
            return
        for key in [k for k in self._memo if k == folder or folder in k.parents]:
            del self._memo[key]

    # -------------------------------------------------------- file-system events

    def _on_fs(self, ev: FsChange) -> None:
        if ev.kind == "moved":
            self._gone(ev.src)
            if ev.dest is not None:
                if ev.is_dir:
                    self._walk_in(ev.dest, closed=True)
                else:
                    self._seen(ev.dest, closed=True)  # a rename is atomic: the bytes are complete
        elif ev.kind == "deleted":
            self._gone(ev.src)
        elif ev.kind == "created":
            if ev.is_dir:
                self._walk_in(ev.src, closed=False)
            else:
                self._seen(ev.src, writing=_opened_for_write(ev.src))
        elif ev.kind == "modified":
            self._seen(ev.src, writing=True)
        elif ev.kind == "closed":
            self._seen(ev.src, closed=True)

    def _seen(
        self, path: Path, *, writing: bool = False, closed: bool = False, is_dir: bool = False
    ) -> None:
        root = self.w.root_for(path)
        if root is None:
            return
        for unit, bundle in units_for(Path(root.path), path, self._memo):
            if unit == path and not bundle and is_dir:
                continue
            if bundle and unit not in self.tracker.units:
                self.tracker.absorb(unit)
            self.tracker.touch(
                unit,
                root=Path(root.path),
                bundle=bundle,
                settle=root.settle_seconds,
                file=path,
                writing=writing and self.w.close_events,
                closed=closed,
                quick=not bundle and path.suffix.lower() in PROVABLE_SUFFIXES,
            )

    def _walk_in(self, folder: Path, *, closed: bool) -> None:
        """A folder appeared (made or moved in): files in it may have no events of
        their own, because they were there before the watch on it was."""
        self._seen(folder, closed=closed, is_dir=True)
        for _, full in iter_tree(folder):
            self._seen(full, closed=closed)

    def _gone(self, path: Path) -> None:
        self.tracker.forget(path)
        self.tracker.went_away(path)
        self.w.looks.forget_under(path)
        root = self.w.root_for(path)
        if root is None:
            return
        # Deleting a file from a bundle changes the bundle.
        for unit, bundle in units_for(Path(root.path), path, self._memo):
            if bundle and unit != path and unit.is_dir():
                self.tracker.touch(
                    unit, root=Path(root.path), bundle=True, settle=root.settle_seconds, file=path
                )
                self.tracker.went_away(path)  # gone, so no longer open or worth a stat

    # ------------------------------------------------------------ unit outcomes

    def _finish(self, msg: Finished) -> None:
        path, turn, w = msg.path, msg.turn, self.w
        u = self.tracker.units.get(path)
        if turn is Turn.FAILED and u is not None and u.attempts + 1 >= MAX_ATTEMPTS:
            self.tracker.finish(path)
            return
        if turn is Turn.WAITING:
            said = u.reason if u is not None else None
            root = w.root_for(path)
            if root is None:
                self.tracker.finish(path)
                return
            hold = w.hold if w.hold is not None else hold_time(root.settle_seconds)
            kept = self.tracker.finish(path, hold=hold, reason=msg.detail)
            if kept is not None and kept.held_since is not None and said != msg.detail:
                model = w.model_for(root, path)
                w.emit(WatchEvent(EventKind.WAITING, str(path), model, detail=msg.detail))
            return
        self.tracker.finish(path, retry=turn in (Turn.AGAIN, Turn.FAILED), later=turn is Turn.LATER)

    def _give_up(self, unit: Unit) -> None:
        """Held unchanged for its hold time and still incomplete: say so once and
        drop it; only a change brings it back."""
        self.tracker.finish(unit.path)
        self.w.looks.give_up(unit.path, self.tracker.sig(unit.path))
        root = self.w.root_for(unit.path)
        self.w.emit(
            WatchEvent(
                EventKind.INCOMPLETE,
                str(unit.path),
                self.w.model_for(root, unit.path) if root is not None else None,
                detail=f"{unit.reason or 'incomplete'}; unchanged for {unit.hold:g}s: "
                "not registered (it is looked at again if it changes)",
            )
        )

    # ------------------------------------------------------------- catch-up walk

    def _start_scan(self, reason: str) -> None:
        if self.w.stopping.is_set():
            return
        if self._scan_thread is not None:
            self._scan_again = reason
            return
        self.caught_up = False
        if reason != "catch-up":
            self.w.emit(WatchEvent(EventKind.RESCAN, detail=reason))
        t = threading.Thread(target=self._scan, args=(reason,), name="regtui-scan", daemon=True)
        self._scan_thread = t
        t.start()

    def _scan(self, reason: str) -> None:
        """Runs on `regtui-scan`: everything under the roots, as Found messages."""
        w, found = self.w, 0
        try:
            for root in w.roots:
                for path in find_artifacts(Path(root.path)):
                    if w.stopping.is_set():
                        return
                    if isinstance(path, Skipped):  # one line each; the walk goes on
                        w.emit(
                            WatchEvent(EventKind.REFUSED, shown_path(path.path), detail=path.reason)
                        )
                        continue
                    if path.is_symlink():  # a loop or a dangling link is refused here, once
                        try:
                            entry_path(path)
                        except ArtifactError as exc:
                            w.emit(WatchEvent(EventKind.REFUSED, shown_path(path), detail=str(exc)))
                            continue
                    mtime = newest_mtime(path)
                    if mtime is None:
                        continue
                    quiet_since = time.monotonic() - max(0.0, time.time() - mtime)
                    self.inbox.put(Found(root, path, quiet_since))
                    found += 1
        except Exception as exc:
            log.exception("watch: scan failed")
            w.emit(WatchEvent(EventKind.ERROR, detail=f"{reason} scan failed: {exc}"))
        finally:
            self.inbox.put(Scanned(f"{reason}: {found} artifacts found"))

    # ----------------------------------------------------------------- dispatch

    def _dispatch(self, unit: Unit) -> None:
        w = self.w
        root = w.root_for(unit.path)
        if root is None:
            self.tracker.finish(unit.path)
            return
        rp = Path(root.path)
        if not unit.bundle:
            # It may have become part of a bundle (config.json written after the weights).
            now = units_for(rp, unit.path, self._memo)
            if now != [(unit.path, False)]:
                self.tracker.finish(unit.path)
                self.tracker.units.pop(unit.path, None)
                for other, bundle in now:
                    self.tracker.touch(
                        other, root=rp, bundle=bundle, settle=root.settle_seconds, file=unit.path
                    )
                return
            until = self._bundle_part_until(unit.path, root.settle_seconds)
            if until is not None:
                self.tracker.defer(unit.path, until)
                return
        size = 0
        try:
            if unit.bundle:
                for _, full in iter_tree(unit.path, checkpoints=False):
                    with contextlib.suppress(OSError):
                        size += os.lstat(full).st_size
            else:
                size = os.lstat(unit.path).st_size
        except OSError:
            pass
        job = Job(unit.path, rp, w.model_for(root, unit.path), unit.bundle, size, unit.quick)
        assert w.preparer is not None  # started with the watcher, before this thread
        w.preparer.submit(job, large=size >= LARGE_BYTES)

    def _bundle_part_until(self, path: Path, settle: float) -> float | None:
        """When a lone file named like a bundle's part (see watcher's docstring)
        may be looked at, if not now: once its folder has had no name added or
        removed for the bundle wait. None: now."""
        if not is_bundle_inner_name(path.name):
            return None
        try:
            changed = os.stat(path.parent).st_mtime
        except OSError:
            return None
        wait = self.w.bundle_wait if self.w.bundle_wait is not None else hold_time(settle)
        left = changed + wait - time.time()
        return time.monotonic() + left if left > 0 else None


def _opened_for_write(path: Path) -> bool:
    """Whether a created file should wait for its close event.

    Only an empty regular file: a writer that has not written yet. A file
    with bytes in it may have been created before the watch on its folder
    existed (watchdog then reports it as created with no close to follow),
    or moved in whole; if its writer is still busy, its writes arrive as
    modified events, which do wait for the close.
    """
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size == 0 and st.st_nlink == 1


def _shown_subject(msg: SchedulerMsg) -> str:
    """The path an internal error about `msg` names ("" when it is about none)."""
    if isinstance(msg, FsChange | Found | Finished):
        return str(msg.src if isinstance(msg, FsChange) else msg.path)
    return ""
