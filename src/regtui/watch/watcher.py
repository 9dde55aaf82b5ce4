"""The watcher: file-system events in, catalog versions out.

Threads, and why:
- watchdog's thread only enqueues (observer.Enqueue), so bursts are never lost
  to slow work;
- the scheduler thread owns the SettleTracker: it turns events into pending
  units and hands finished ones to the hash pools;
- two hash pools, small and large artifacts, so a 5 GB checkpoint never holds
  up a small file queued behind it (hashlib and file reads release the GIL);
- one register thread takes every prepared candidate waiting and writes them
  with one `add_candidates` (one transaction): a burst becomes a few batches,
  a lone file is written at once.
On start a catch-up walk (scan.find_artifacts) feeds the same path, so files
written while nobody watched are registered, and the restart cache lets it skip
hashing whatever is unchanged.

Only complete artifacts become versions: one whose format shows it incomplete
(`Candidate.damage`) is held and looked at again when it changes, and one that
stays so for its hold time is reported once and never registered. A sidecar
(metrics.json, trainer_state.json, ...) written after the model attaches its
values to the folder's newest version with `Catalog.log`, audited.

A folder being written as a bundle becomes one version, never one per inner
file first. Bundle writers put their parts down one by one, with pauses longer
than any settle time: MLflow's `save_model` writes the model's data file, then
MLmodel, then (after inferring pip requirements, seconds) the environment files
MLmodel names; `save_pretrained` writes config, shards, then the weights index
(other writers put shards before config). Three rules close it:
- a lone file whose name is a bundle part (classify.is_bundle_inner_name: HF
  shards `*-0000N-of-0000M.*` and weights indexes, MLflow data files such as
  `model.skops`/`model.pkl`) is not looked at, not even on the proven-complete
  fast path, until its folder has had no name added or removed for the bundle
  wait (`bundle_wait`, default hold_time(settle)); if no bundle forms around it
  by then, it is registered on its own, so nothing is lost, only delayed;
- once its folder becomes a bundle, lone units inside it are dropped: they are
  the bundle's parts (SettleTracker.absorb), and a lone unit found in a bundle
  at dispatch hands over to the bundle;
- a bundle whose description names parts that are not there yet (MLmodel's
  data or env files, an index's shards, shards without their index) is damaged,
  so it is held, not registered, until it changes (inspect.bundles).
Any other lone file keeps the fast path: `model.safetensors` alone in a new
folder is registered as soon as its format proves it complete.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import stat
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from regtui.catalog.records import RegisterResult, VersionInfo
from regtui.catalog.refs import check_model_name
from regtui.catalog.service import Candidate, Catalog, WatchRoot
from regtui.errors import ArtifactError, RegtuiError, UsageError
from regtui.hashing import iter_tree
from regtui.inspect.bounds import Cancelled, cancelled_by
from regtui.inspect.sidecars import sidecars_for
from regtui.watch.cache import HashCache, default_cache_path, newest_mtime, signature
from regtui.watch.classify import is_bundle_inner_name, is_sidecar, units_for
from regtui.watch.events import WatchEvent
from regtui.watch.observer import Enqueue, OverflowHook, make_observer, schedule
from regtui.watch.settle import NO_CLOSE_GRACE, SettleTracker, Unit, hold_time

log = logging.getLogger(__name__)

LARGE_BYTES = 64 << 20  # at or above this an artifact goes to the large-artifact pool
PROGRESS_MIN_BYTES = 16 << 20  # smaller artifacts hash too fast for progress to help
PROGRESS_EVERY = 0.5  # seconds between progress events for one artifact
MAX_ATTEMPTS = 3  # catalog write failures before a unit is given up (until it changes)
BATCH_MAX = 500
DRAIN_MAX = 20_000  # events handled between two looks at the due units
# Formats that can prove a file complete (safetensors' header, a zip's central
# directory, GGUF's tensor table, ...): closed files in these are looked at early.
PROVABLE_SUFFIXES = frozenset(
    {".safetensors", ".gguf", ".pt", ".pth", ".ckpt", ".bin", ".keras", ".pt2", ".skops", ".onnx"}
)

OnEvent = Callable[[WatchEvent], None]


def _pool_threads(pool: ThreadPoolExecutor) -> list[threading.Thread]:
    return list(getattr(pool, "_threads", ()))  # the pool keeps no public list


class Abandoned(Exception):
    """Raised inside a hash when the watcher stops without waiting for it."""


@dataclass(frozen=True)
class Job:
    unit: Path
    root: Path
    model: str
    bundle: bool
    size: int
    quick: bool = False  # an early look: register only if the format proves it complete


class Watcher:
    """Watch folders and register every finished artifact once.

    `on_event` is called from the watcher's threads, one call at a time (the
    watcher serialises them), so a face needs no lock of its own; it must not
    block for long. The TUI turns events into messages with `post_message`.
    """

    def __init__(
        self,
        catalog: Catalog,
        roots: Sequence[WatchRoot | str | os.PathLike[str]],
        *,
        model: str | None = None,
        settle: float = 2.0,
        poll: bool = False,
        poll_interval: float | None = None,
        on_event: OnEvent | None = None,
        cache: HashCache | None = None,
        catch_up: bool = True,
        workers: int | None = None,
        no_close_grace: float = NO_CLOSE_GRACE,
        hold: float | None = None,
        bundle_wait: float | None = None,
    ) -> None:
        self.catalog = catalog
        self.roots: list[WatchRoot] = []
        for r in roots:
            if not isinstance(r, WatchRoot):
                r = WatchRoot(str(Path(r).expanduser().resolve()), model, float(settle))
            if r.model is not None:
                check_model_name(r.model)
            self.roots.append(r)
        # Deepest first, so a root inside another one claims its own files.
        self.roots.sort(key=lambda r: len(Path(r.path).parts), reverse=True)
        self.poll = poll
        self.poll_interval = poll_interval
        self.on_event = on_event
        self._own_cache = cache is None
        self.cache = cache
        self.catch_up = catch_up
        self.workers = workers or max(2, min(4, (os.cpu_count() or 1) + 1))
        self.close_events = False
        self.tracker = SettleTracker(no_close_grace=no_close_grace)
        self.hold = hold  # None: hold_time() of each root's settle time
        self.bundle_wait = bundle_wait  # None: hold_time() of each root's settle time
        # Candidates from an early look that did not prove them complete, kept
        # (with the signature they were hashed at) so the look after the settle
        # time does not hash them again. Worker threads only: hence the lock.
        self._early: dict[Path, tuple[str, Candidate]] = {}
        self._early_lock = threading.Lock()
        # Units reported incomplete, with the signature they had then: a rescan
        # finding them unchanged says nothing more.
        self._given_up: dict[Path, str | None] = {}

        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._rq: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._mq: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._emit_lock = threading.Lock()
        self._stopping = threading.Event()
        self._abandon = threading.Event()
        self._idle = threading.Event()
        self._threads: list[threading.Thread] = []
        self.stuck: list[str] = []  # threads still running after stop() (see headless)
        self._observer: Any = None
        self._handler = Enqueue(self._q)
        self._hook = OverflowHook(lambda: self._q.put(("overflow",)))
        self._scan_thread: threading.Thread | None = None
        self._scan_again: str | None = None
        self._caught_up = not catch_up
        self._running = False
        # Bundle lookups by folder, kept until a name appears or goes below it:
        # a burst into one folder then costs one lookup per new file, not three.
        self._memo: dict[Path, Path | None] = {}

    # ---------------------------------------------------------------- lifecycle

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        """Start observing, then catch up with what is already there. Returns at once."""
        if self._running:
            return
        live = []
        for r in self.roots:
            if Path(r.path).is_dir():
                live.append(r)
            else:
                self._emit(WatchEvent("error", r.path, detail="not a folder; not watched"))
        if not live:
            raise UsageError("nothing to watch: none of the folders exists")
        self.roots = live
        if self.cache is None:
            self.cache = HashCache(None if self.catalog.read_only else default_cache_path())
        shortest = min(r.settle_seconds for r in self.roots)
        interval = self.poll_interval or max(0.25, min(1.0, shortest / 2))
        self._observer, self.close_events = make_observer(self.poll, interval)
        for r in self.roots:
            schedule(self._observer, self._handler, Path(r.path))
        try:
            self._observer.start()
        except OSError as exc:
            raise RegtuiError(
                f"cannot start watching: {exc.strerror or exc}"
                " (on Linux, raise fs.inotify.max_user_watches or use --poll)"
            ) from None
        self._hook.install()
        self._small = ThreadPoolExecutor(self.workers, thread_name_prefix="regtui-hash")
        self._large = ThreadPoolExecutor(2, thread_name_prefix="regtui-hash-large")
        self._running = True
        for target, name in (
            (self._loop, "regtui-watch"),
            (self._register_loop, "regtui-reg"),
            (self._mark_loop, "regtui-mark"),
        ):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        mode = "polling" if self.poll or not self.close_events else "events"
        self._emit(
            WatchEvent("started", detail=f"{mode}: " + ", ".join(r.path for r in self.roots))
        )
        if self.catch_up:
            self._q.put(("rescan", "catch-up"))

    def stop(self, *, abandon: bool = True, timeout: float = 30.0) -> None:
        """Stop cleanly. Candidates already hashed are still written (each batch is
        one transaction, so nothing is half-written); hashing in progress is
        abandoned (`abandon=True`) or finished first. Idempotent."""
        if not self._running:
            return
        self._running = False
        self._stopping.set()
        if abandon:
            self._abandon.set()
        with contextlib.suppress(Exception):
            self._observer.stop()
            self._observer.join(timeout)
        self._hook.remove()
        self._q.put(("stop",))
        self._threads[0].join(timeout)
        if self._scan_thread is not None:
            self._scan_thread.join(timeout)
        # Workers stop at their next read (Cancelled) or hashed chunk (Abandoned);
        # one stuck elsewhere is waited for `timeout` at most, never forever.
        workers = _pool_threads(self._small) + _pool_threads(self._large)
        self._small.shutdown(wait=not abandon, cancel_futures=True)
        self._large.shutdown(wait=not abandon, cancel_futures=True)
        until = time.monotonic() + timeout
        for t in workers:
            t.join(max(0.0, until - time.monotonic()))
        self.stuck = [t.name for t in workers if t.is_alive()]
        self._rq.put(("stop",))
        self._threads[1].join(timeout)
        self._mq.put(("stop",))
        self._threads[2].join(timeout)
        self.stuck += [t.name for t in self._threads if t.is_alive()]
        self._threads.clear()
        if self._own_cache and self.cache is not None:
            self.cache.close()
            self.cache = None
        self._emit(WatchEvent("stopped"))

    def rescan(self, reason: str = "asked for") -> None:
        """Walk the roots again (what a queue overflow does); safe from any thread."""
        self._q.put(("rescan", reason))

    def wait_idle(self, timeout: float) -> bool:
        """True once the catch-up is done and nothing is pending or in flight.
        For tests and benchmarks: a file written after this may still be coming."""
        return self._idle.wait(timeout)

    # ---------------------------------------------------------------- emitting

    def _emit(self, ev: WatchEvent) -> None:
        if self.on_event is None:
            return
        with self._emit_lock:
            try:
                self.on_event(ev)
            except Exception:  # a face's bug must not stop the watcher
                log.exception("watch event handler failed")

    # --------------------------------------------------------------- scheduler

    def _root_for(self, path: Path) -> WatchRoot | None:
        for r in self.roots:
            rp = Path(r.path)
            if path == rp or rp in path.parents:
                return r
        return None

    def _loop(self) -> None:
        while True:
            deadline = self.tracker.next_deadline()
            timeout = 0.5 if deadline is None else min(0.5, max(0.0, deadline - time.monotonic()))
            msgs = []
            try:
                msgs.append(self._q.get(timeout=timeout))
                while len(msgs) < DRAIN_MAX:
                    msgs.append(self._q.get_nowait())
            except queue.Empty:
                pass
            seen_modified: set[Path] = set()
            if len(self._memo) > 10_000:
                self._memo.clear()
            for msg in msgs:
                if msg[0] == "stop":
                    return
                try:
                    self._handle(msg, seen_modified)
                except Exception as exc:  # one odd path must not kill the scheduler
                    log.exception("watch: cannot handle %r", msg)
                    self._emit(WatchEvent("error", str(msg[-1]), detail=f"internal: {exc}"))
            if self._stopping.is_set():
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
                    self._emit(WatchEvent("error", str(unit.path), detail=f"internal: {exc}"))
            idle = self._caught_up and not self.tracker.units and self._q.empty()
            if idle:
                self._idle.set()
            else:
                self._idle.clear()

    def _handle(self, msg: tuple[Any, ...], seen_modified: set[Path]) -> None:
        kind = msg[0]
        if kind == "fs":
            _, etype, is_dir, src, dest = msg
            if etype == "modified":
                # A writer streaming a big file sends one per write: one look per drain.
                if is_dir or src in seen_modified:
                    return
                seen_modified.add(src)
            else:
                seen_modified.discard(src)
                if etype != "closed":
                    self._forget_bundle_answers(src.parent)
                    if dest is not None:
                        self._forget_bundle_answers(dest.parent)
            self._on_fs(etype, is_dir, src, dest)
        elif kind == "found":
            _, root, path, quiet_since = msg
            self.tracker.touch(
                path,
                root=Path(root.path),
                bundle=path.is_dir(),
                settle=root.settle_seconds,
                quiet_since=quiet_since,
            )
        elif kind == "finish":
            _, path, how, detail = msg
            self._finish(path, how, detail)
        elif kind == "overflow":
            self._handler.overflowed = False
            self._start_scan("events were lost (queue overflow)")
        elif kind == "rescan":
            self._start_scan(msg[1])
        elif kind == "scanned":
            self._scan_thread = None
            self._caught_up = True
            self._emit(WatchEvent("ready", detail=msg[1]))
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

    def _on_fs(self, etype: str, is_dir: bool, src: Path, dest: Path | None) -> None:
        if etype == "moved":
            self._gone(src, is_dir)
            if dest is not None:
                if is_dir:
                    self._walk_in(dest, closed=True)
                else:
                    self._seen(dest, closed=True)  # a rename is atomic: the bytes are complete
        elif etype == "deleted":
            self._gone(src, is_dir)
        elif etype == "created":
            if is_dir:
                self._walk_in(src, closed=False)
            else:
                self._seen(src, writing=self._opened_for_write(src))
        elif etype == "modified":
            self._seen(src, writing=True)
        elif etype == "closed":
            self._seen(src, closed=True)

    def _opened_for_write(self, path: Path) -> bool:
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

    def _seen(
        self, path: Path, *, writing: bool = False, closed: bool = False, is_dir: bool = False
    ) -> None:
        root = self._root_for(path)
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
                writing=writing and self.close_events,
                closed=closed,
                quick=not bundle and path.suffix.lower() in PROVABLE_SUFFIXES,
            )

    def _walk_in(self, folder: Path, *, closed: bool) -> None:
        """A folder appeared (made or moved in): files in it may have no events of
        their own, because they were there before the watch on it was."""
        self._seen(folder, closed=closed, is_dir=True)
        for _, full in iter_tree(folder):
            self._seen(full, closed=closed)

    def _gone(self, path: Path, is_dir: bool) -> None:
        self.tracker.forget(path)
        self.tracker.went_away(path)
        with self._early_lock:
            for key in [k for k in self._early if k == path or path in k.parents]:
                del self._early[key]
        root = self._root_for(path)
        if root is None:
            return
        # Deleting a file from a bundle changes the bundle.
        for unit, bundle in units_for(Path(root.path), path, self._memo):
            if bundle and unit != path and unit.is_dir():
                self.tracker.touch(
                    unit, root=Path(root.path), bundle=True, settle=root.settle_seconds, file=path
                )
                self.tracker.went_away(path)  # gone, so no longer open or worth a stat

    def _finish(self, path: Path, how: str, detail: str = "") -> None:
        u = self.tracker.units.get(path)
        if how == "failed" and u is not None and u.attempts + 1 >= MAX_ATTEMPTS:
            self.tracker.finish(path)
            return
        if how == "waiting":
            said = u.reason if u is not None else None
            root = self._root_for(path)
            if root is None:
                self.tracker.finish(path)
                return
            hold = self.hold if self.hold is not None else hold_time(root.settle_seconds)
            kept = self.tracker.finish(path, hold=hold, reason=detail)
            if kept is not None and kept.held_since is not None and said != detail:
                model = self._model_for(root, path)
                self._emit(WatchEvent("waiting", str(path), model, detail=detail))
            return
        self.tracker.finish(path, retry=how in ("again", "failed"), later=how == "later")

    @staticmethod
    def _model_for(root: WatchRoot, path: Path) -> str:
        from regtui.catalog.scan import model_for

        return model_for(Path(root.path), path, root.model)

    def _give_up(self, unit: Unit) -> None:
        """Held unchanged for its hold time and still incomplete: say so once and
        drop it; only a change brings it back."""
        self.tracker.finish(unit.path)
        self._given_up[unit.path] = self.tracker.sig(unit.path)
        with self._early_lock:
            self._early.pop(unit.path, None)
        root = self._root_for(unit.path)
        self._emit(
            WatchEvent(
                "incomplete",
                str(unit.path),
                self._model_for(root, unit.path) if root is not None else None,
                detail=f"{unit.reason or 'incomplete'}; unchanged for {unit.hold:g}s: "
                "not registered (it is looked at again if it changes)",
            )
        )

    def _start_scan(self, reason: str) -> None:
        if self._stopping.is_set():
            return
        if self._scan_thread is not None:
            self._scan_again = reason
            return
        self._caught_up = False
        if reason != "catch-up":
            self._emit(WatchEvent("rescan", detail=reason))
        t = threading.Thread(target=self._scan, args=(reason,), name="regtui-scan", daemon=True)
        self._scan_thread = t
        t.start()

    def _scan(self, reason: str) -> None:
        from regtui.catalog.artifacts import entry_path
        from regtui.catalog.scan import find_artifacts, shown_path
        from regtui.tree_walk import Skipped

        found = 0
        try:
            for root in self.roots:
                for path in find_artifacts(Path(root.path)):
                    if self._stopping.is_set():
                        return
                    if isinstance(path, Skipped):  # one line each; the walk goes on
                        self._emit(WatchEvent("refused", shown_path(path.path), detail=path.reason))
                        continue
                    if path.is_symlink():  # a loop or a dangling link is refused here, once
                        try:
                            entry_path(path)
                        except ArtifactError as exc:
                            self._emit(WatchEvent("refused", shown_path(path), detail=str(exc)))
                            continue
                    mtime = newest_mtime(path)
                    if mtime is None:
                        continue
                    quiet_since = time.monotonic() - max(0.0, time.time() - mtime)
                    self._q.put(("found", root, path, quiet_since))
                    found += 1
        except Exception as exc:
            log.exception("watch: scan failed")
            self._emit(WatchEvent("error", detail=f"{reason} scan failed: {exc}"))
        finally:
            self._q.put(("scanned", f"{reason}: {found} artifacts found"))

    def _dispatch(self, unit: Unit) -> None:
        root = self._root_for(unit.path)
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
        job = Job(unit.path, rp, self._model_for(root, unit.path), unit.bundle, size, unit.quick)
        pool = self._large if size >= LARGE_BYTES else self._small
        pool.submit(self._work, job)

    def _bundle_part_until(self, path: Path, settle: float) -> float | None:
        """When a lone file named like a bundle's part (see the module docstring)
        may be looked at, if not now: once its folder has had no name added or
        removed for the bundle wait. None: now."""
        if not is_bundle_inner_name(path.name):
            return None
        try:
            changed = os.stat(path.parent).st_mtime
        except OSError:
            return None
        wait = self.bundle_wait if self.bundle_wait is not None else hold_time(settle)
        left = changed + wait - time.time()
        return time.monotonic() + left if left > 0 else None

    # ------------------------------------------------------------------ workers

    def _progress(self, job: Job) -> Callable[[int, int], None]:
        last = 0.0

        def step(done: int, total: int) -> None:
            nonlocal last
            if self._abandon.is_set():
                raise Abandoned
            if total < PROGRESS_MIN_BYTES:
                return
            now = time.monotonic()
            if done >= total or now - last >= PROGRESS_EVERY:
                last = now
                self._emit(WatchEvent("progress", str(job.unit), job.model, done=done, total=total))

        return step

    def _work(self, job: Job) -> None:
        how, detail = "done", ""
        try:
            with cancelled_by(self._abandon):  # an inspection in flight stops with us
                how, detail = self._prepare(job)
        except (Abandoned, Cancelled):
            pass
        except Exception as exc:  # never let a worker die silently
            log.exception("watch: %s", job.unit)
            self._emit(WatchEvent("error", str(job.unit), job.model, detail=str(exc)))
        finally:
            if how != "queued":
                self._q.put(("finish", job.unit, how, detail))

    def _prepare(self, job: Job) -> tuple[str, str]:
        """Hash and inspect one unit and queue it for registration; returns how
        the unit's turn ends ("queued", "done", "again", "later", "waiting") and,
        for "waiting", why."""
        from regtui.inspect import is_artifact_candidate

        if self._abandon.is_set():
            return "done", ""
        if not job.bundle and is_sidecar(job.unit.name):
            self._attach_sidecar(job)
            return "done", ""
        if not job.bundle and not is_artifact_candidate(job.unit):
            return "done", ""
        sig = signature(job.unit)
        if sig is None:
            self._emit(
                WatchEvent("skipped", str(job.unit), job.model, detail="gone before it settled")
            )
            return "done", ""
        assert self.cache is not None
        sha = self.cache.get(job.unit, sig)
        if sha is not None:
            known = self.catalog.version_by_sha(job.model, sha)
            if known is not None:
                self._emit(
                    WatchEvent("exists", str(job.unit), job.model, known, detail="unchanged")
                )
                return "done", ""
        with self._early_lock:
            early = self._early.pop(job.unit, None)
        if early is not None and early[0] == sig and early[1].model == job.model:
            cand = early[1]  # hashed by the early look, unchanged since
        else:
            try:
                cand = self.catalog.prepare(
                    job.unit, job.model, root=job.root, progress=self._progress(job)
                )
            except ArtifactError as exc:
                msg = str(exc)
                if not job.unit.exists():
                    self._emit(WatchEvent("skipped", str(job.unit), job.model, detail=msg))
                    return "done", ""
                if "changed while" in msg:
                    return "again", ""  # still being written: let it settle again
                kind = "refused" if ": refused:" in msg else "error"
                self._emit(WatchEvent(kind, str(job.unit), job.model, detail=msg))
                return "done", ""
            except RegtuiError as exc:
                self._emit(WatchEvent("error", str(job.unit), job.model, detail=str(exc)))
                return "done", ""
        if job.bundle and signature(job.unit) != sig:
            return "again", ""  # a file in the folder changed while we hashed it
        if job.quick and (cand.damage is not None or not cand.complete):
            # The early look did not prove it: wait out the rest of the settle time.
            with self._early_lock:
                self._early[job.unit] = (sig, cand)
            return "later", ""
        if cand.damage is not None:
            if self._given_up.get(job.unit, "") == sig:
                return "done", ""  # reported already and unchanged since
            return "waiting", cand.damage
        self._given_up.pop(job.unit, None)
        self._rq.put((job, cand, sig))
        return "queued", ""

    def _attach_sidecar(self, job: Job) -> None:
        """A sidecar settled: log its folder's values onto the folder's newest
        version, if the sidecar was written after that version was registered
        (earlier ones were read when it was). A folder with no versions of its
        own may keep them in `checkpoints/` (Lightning's version_N/ holds
        hparams.yaml and metrics.csv, its checkpoints/ the .ckpt files)."""
        folder = job.unit.parent
        try:
            mtime = os.lstat(job.unit).st_mtime
        except OSError:
            return
        target = self.catalog.newest_in_folder(folder) or self.catalog.newest_in_folder(
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
            after = self.catalog.log(
                target.ref,
                metrics=metrics,
                params=params,
                reason=f"sidecar {job.unit.name} written after the model",
            )
        except RegtuiError as exc:
            self._emit(WatchEvent("error", str(job.unit), target.model, detail=str(exc)))
            return
        added = [k for k in after.logged if after.logged[k] != target.logged.get(k)]
        if added:
            self._emit(
                WatchEvent(
                    "logged",
                    str(job.unit),
                    after.model,
                    after,
                    detail=f"{job.unit.name}: " + ", ".join(sorted(added)),
                )
            )

    # ----------------------------------------------------------------- register

    def _register_loop(self) -> None:
        while True:
            item = self._rq.get()
            if item[0] == "stop":
                return
            batch = [item]
            stop = False
            while len(batch) < BATCH_MAX:
                try:
                    nxt = self._rq.get_nowait()
                except queue.Empty:
                    break
                if nxt[0] == "stop":
                    stop = True
                    break
                batch.append(nxt)
            try:
                self._register(batch)
            except Exception as exc:
                log.exception("watch: register failed")
                for job, _, _ in batch:
                    self._emit(WatchEvent("error", str(job.unit), job.model, detail=str(exc)))
                    self._q.put(("finish", job.unit, "done", ""))
            if stop:
                return

    def _register(self, batch: list[tuple[Job, Candidate, str]]) -> None:
        try:
            results = self.catalog.add_candidates([c for _, c, _ in batch])
        except Exception as exc:
            if len(batch) > 1:  # one bad candidate must not sink the others
                for item in batch:
                    self._register([item])
                return
            job = batch[0][0]
            self._emit(WatchEvent("error", str(job.unit), job.model, detail=str(exc)))
            self._q.put(("finish", job.unit, "failed", ""))
            return
        for (job, _, _), res in zip(batch, results, strict=True):
            kind = "registered" if res.created else "exists"
            self._emit(WatchEvent(kind, str(job.unit), job.model, res.version))
        # The rest is off the path to the next batch: the cache and the
        # overwritten-version check happen on the mark thread.
        self._mq.put((batch, results))

    def _mark_loop(self) -> None:
        while True:
            item = self._mq.get()
            if item[0] == "stop":
                return
            batch, results = item
            assert self.cache is not None
            try:
                self.cache.put_many(
                    (job.unit, sig, c.digest.sha256, c.digest.size_bytes) for job, c, sig in batch
                )
            except Exception:  # the cache only saves work; losing a write costs a re-hash
                log.exception("watch: cache write failed")
            try:
                self._mark_overwritten([c for _, c, _ in batch], results)
            except Exception:
                log.exception("watch: marking overwritten versions failed")
            for job, _, _ in batch:
                self._q.put(("finish", job.unit, "done", ""))

    def _mark_overwritten(self, cands: list[Candidate], results: list[RegisterResult]) -> None:
        """A file rewritten in place: older versions recorded at the same path with
        other bytes no longer match it; say so, never change them silently."""
        current: dict[str, VersionInfo] = {}
        for cand, res in zip(cands, results, strict=True):
            if res.version.path == str(cand.path):
                current[str(cand.path)] = res.version
        if not current:
            return
        for v in self.catalog.versions_at_paths(current):
            now = current[v.path]
            if v.id == now.id:
                if v.artifact_state != "ok":  # the file holds these bytes again
                    self.catalog.mark_artifact(v.ref, "ok", f"{v.path} matches again")
            elif v.sha256 != now.sha256 and v.artifact_state == "ok":
                marked = self.catalog.mark_artifact(
                    v.ref, "changed", f"{v.path} was overwritten; it is now {now.ref}"
                )
                self._emit(WatchEvent("changed", v.path, v.model, marked, detail=f"now {now.ref}"))
