"""The watcher: file-system events in, catalog versions out.

A pipeline of named threads passing typed messages (watch.messages):
- watchdog's thread only enqueues (observer.Enqueue), so bursts are never lost
  to slow work;
- `regtui-watch` (watch.scheduler) owns the SettleTracker: it turns events into
  pending units and hands finished ones to the hash pools;
- `regtui-hash*` (watch.workers): two pools, small and large artifacts, so a
  5 GB checkpoint never holds up a small file queued behind it (hashlib and file
  reads release the GIL);
- `regtui-reg` (watch.register) takes every prepared candidate waiting and
  writes them with one `add_candidates` (one transaction): a burst becomes a few
  batches, a lone file is written at once; `regtui-mark` caches what was written.
On start a catch-up walk (`regtui-scan`, layouts.find_artifacts) feeds the same
path, so files written while nobody watched are registered, and the restart
cache lets it skip hashing whatever is unchanged.

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
- a lone file whose name is a bundle part (layouts.is_bundle_inner_name: HF
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
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from regtui.catalog.refs import check_model_name
from regtui.catalog.service import Catalog, WatchRoot
from regtui.errors import RegtuiError, UsageError
from regtui.inspect.layouts import model_for
from regtui.watch.cache import HashCache, default_cache_path
from regtui.watch.events import EventKind, WatchEvent
from regtui.watch.messages import Overflow, Rescan, Stop
from regtui.watch.observer import Enqueue, OverflowHook, make_observer, schedule
from regtui.watch.register import Registrar
from regtui.watch.scheduler import Scheduler
from regtui.watch.settle import NO_CLOSE_GRACE, SettleTracker
from regtui.watch.workers import Looks, Preparer

log = logging.getLogger(__name__)

OnEvent = Callable[[WatchEvent], None]
SCHEDULER, REGISTER, MARK = "regtui-watch", "regtui-reg", "regtui-mark"


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
        self.looks = Looks()

        self._emit_lock = threading.Lock()
        self.stopping = threading.Event()
        self.abandon = threading.Event()
        self.idle = threading.Event()
        self._threads: dict[str, threading.Thread] = {}
        self.stuck: list[str] = []  # threads still running after stop() (see headless)
        self._observer: Any = None
        self.scheduler = Scheduler(self, self.tracker)
        self.registrar = Registrar(self)
        self.preparer: Preparer | None = None  # its pools start with the watcher
        self.handler = Enqueue(self.scheduler.inbox)
        self._hook = OverflowHook(lambda: self.scheduler.inbox.put(Overflow()))
        self._running = False

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
                self.emit(WatchEvent(EventKind.ERROR, r.path, detail="not a folder; not watched"))
        if not live:
            raise UsageError("nothing to watch: none of the folders exists")
        self.roots = live
        if self.cache is None:
            self.cache = HashCache(None if self.catalog.read_only else default_cache_path())
        shortest = min(r.settle_seconds for r in self.roots)
        interval = self.poll_interval or max(0.25, min(1.0, shortest / 2))
        self._observer, self.close_events = make_observer(self.poll, interval)
        for r in self.roots:
            schedule(self._observer, self.handler, Path(r.path))
        try:
            self._observer.start()
        except OSError as exc:
            raise RegtuiError(
                f"cannot start watching: {exc.strerror or exc}"
                " (on Linux, raise fs.inotify.max_user_watches or use --poll)"
            ) from None
        self._hook.install()
        self.preparer = Preparer(self, self.registrar.inbox)
        self._running = True
        for name, target in (
            (SCHEDULER, self.scheduler.run),
            (REGISTER, self.registrar.run),
            (MARK, self.registrar.run_marks),
        ):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads[name] = t
        mode = "polling" if self.poll or not self.close_events else "events"
        self.emit(
            WatchEvent(
                EventKind.STARTED, detail=f"{mode}: " + ", ".join(r.path for r in self.roots)
            )
        )
        if self.catch_up:
            self.scheduler.inbox.put(Rescan("catch-up"))

    def stop(self, *, abandon: bool = True, timeout: float = 30.0) -> None:
        """Stop cleanly. Candidates already hashed are still written (each batch is
        one transaction, so nothing is half-written); hashing in progress is
        abandoned (`abandon=True`) or finished first. Idempotent."""
        if not self._running:
            return
        self._running = False
        self.stopping.set()
        if abandon:
            self.abandon.set()
        with contextlib.suppress(Exception):
            self._observer.stop()
            self._observer.join(timeout)
        self._hook.remove()
        # Upstream first: each stage stops once nothing more can reach it.
        self.scheduler.inbox.put(Stop())
        self._threads[SCHEDULER].join(timeout)
        self.scheduler.join_scan(timeout)
        assert self.preparer is not None
        self.stuck = self.preparer.shutdown(abandon=abandon, timeout=timeout)
        self.registrar.inbox.put(Stop())
        self._threads[REGISTER].join(timeout)
        self.registrar.marks.put(Stop())
        self._threads[MARK].join(timeout)
        self.stuck += [t.name for t in self._threads.values() if t.is_alive()]
        self._threads.clear()
        if self._own_cache and self.cache is not None:
            self.cache.close()
            self.cache = None
        self.emit(WatchEvent(EventKind.STOPPED))

    def rescan(self, reason: str = "asked for") -> None:
        """Walk the roots again (what a queue overflow does); safe from any thread."""
        self.scheduler.inbox.put(Rescan(reason))

    def wait_idle(self, timeout: float) -> bool:
        """True once the catch-up is done and nothing is pending or in flight.
        For tests and benchmarks: a file written after this may still be coming."""
        return self.idle.wait(timeout)

    # ------------------------------------------------- shared by the pipeline

    def emit(self, ev: WatchEvent) -> None:
        if self.on_event is None:
            return
        with self._emit_lock:
            try:
                self.on_event(ev)
            except Exception:  # a face's bug must not stop the watcher
                log.exception("watch event handler failed")

    def root_for(self, path: Path) -> WatchRoot | None:
        for r in self.roots:
            rp = Path(r.path)
            if path == rp or rp in path.parents:
                return r
        return None

    @staticmethod
    def model_for(root: WatchRoot, path: Path) -> str:
        return model_for(Path(root.path), path, root.model)
