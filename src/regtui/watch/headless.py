"""`regtui watch --headless`: the watcher with a line printer, for terminals and services."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from regtui.catalog.hooks import Attempt
from regtui.catalog.service import Catalog, WatchRoot
from regtui.errors import UsageError, reason_for
from regtui.text import human_size, json_text, printable
from regtui.watch.events import EventKind, WatchEvent
from regtui.watch.watcher import Watcher

DEFAULT_SETTLE = 2.0
STOP_SECONDS = 3.0  # SIGTERM/SIGINT to exit: workers are waited for this long at most


def resolve_roots(
    catalog: Catalog,
    dirs: Sequence[str | Path],
    model: str | None = None,
    settle: float | None = None,
    *,
    save: bool = True,
) -> list[WatchRoot]:
    """The roots to watch: `dirs` (saved in the catalog with their rule, so a later
    start and the TUI know them), or with no dirs the roots the catalog keeps.
    `settle=None` keeps a root's saved settle time (default 2 s); `model` given
    with no dirs applies to this run only."""
    saved = {r.path: r for r in catalog.watch_roots()}
    if not dirs:
        if not saved:
            raise UsageError("nothing to watch: name a folder (regtui watch DIR)")
        return [
            WatchRoot(
                r.path,
                model if model is not None else r.model,
                settle if settle is not None else r.settle_seconds,
            )
            for r in saved.values()
        ]
    out = []
    for d in dirs:
        p = Path(d).expanduser().resolve()
        if not p.is_dir():
            raise UsageError(f"{p}: not a folder")
        old = saved.get(str(p))
        s = settle if settle is not None else (old.settle_seconds if old else DEFAULT_SETTLE)
        if save and not catalog.read_only:
            out.append(catalog.add_watch_root(p, model, s))
        else:
            out.append(WatchRoot(str(p), model, float(s)))
    return out


def local_time(at: datetime) -> str:
    """When an event happened, in local time to the second: `2026-11-26 14:03:27`."""
    return at.astimezone().strftime("%Y-%m-%d %H:%M:%S")


class Printer:
    """One line per event: text for people (each led by its local time), or one JSON
    object for programs (its `at` is UTC)."""

    def __init__(self, out: TextIO, json_lines: bool, roots: Sequence[WatchRoot]) -> None:
        self.out = out
        self.json_lines = json_lines
        self.roots = sorted((Path(r.path) for r in roots), key=lambda p: -len(p.parts))
        self.broken = threading.Event()
        self.lock = threading.Lock()
        self.stopped_by: str | None = None  # the signal that stopped the watcher, if one did
        self.on_terminal = _is_terminal(out)

    def _show(self, path: str) -> str:
        p = Path(path)
        for r in self.roots:
            if r in p.parents:
                return p.relative_to(r).as_posix()
        return path

    def format(self, ev: WatchEvent) -> str | None:
        if self.json_lines:
            data = ev.to_json()
            if ev.kind is EventKind.STOPPED and self.stopped_by:
                data["detail"] = self.stopped_by
            return json_text(data, separators=(",", ":"))
        text = self.describe(ev)
        return None if text is None else f"{local_time(ev.at)} {text}"

    def describe(self, ev: WatchEvent) -> str | None:
        """The text of one line, without its time."""
        where = self._show(ev.path) if ev.path else ""
        v = ev.version
        if ev.kind is EventKind.REGISTERED and v is not None:
            # the format, as `versions` and `show` print it (the framework is in `show`)
            return f"registered {v.ref}  {where}  {human_size(v.size_bytes)}  {v.format}"
        if ev.kind is EventKind.EXISTS:
            if ev.detail == "unchanged":
                return None  # known from an earlier run: not news
            return f"exists {ev.ref}  {where}  (same bytes)"
        if ev.kind is EventKind.LOGGED:
            return f"logged {ev.ref}  {where}  {ev.detail}"
        if ev.kind is EventKind.WAITING:
            return f"waiting  {where}  incomplete: {ev.detail}"
        if ev.kind is EventKind.CHANGED:
            return f"changed {ev.ref}  {where}  overwritten, {ev.detail}"
        if ev.kind is EventKind.PROGRESS:
            pct = 100 * ev.done // ev.total if ev.total else 100
            return f"hashing {where}  {pct}%  {human_size(ev.done)} / {human_size(ev.total)}"
        if ev.kind is EventKind.STARTED:
            return f"watching ({ev.detail})"
        if ev.kind in (EventKind.READY, EventKind.RESCAN):
            return f"{ev.kind}: {ev.detail}"
        if ev.kind is EventKind.STOPPED:
            return f"stopped ({self.stopped_by})" if self.stopped_by else "stopped"
        # a refusal's detail begins with the path this line already shows
        detail = reason_for(str(ev.path), ev.detail or "") if ev.path else ev.detail
        return f"{ev.kind}  {where}  {detail}".rstrip()

    def hook_attempt(self, a: Attempt) -> None:
        """A hook delivery, as a line of its own (`hooks run` prints the same)."""
        if self.json_lines:
            self.write(json_text({"kind": "hook", **a.to_json()}, separators=(",", ":")))
            return
        mark = "✓" if a.ok else "✗"
        status = "no answer" if a.status is None else str(a.status)
        self.write(
            f"{local_time(a.at)} hook {a.hook} event {a.seq}: {mark} {status} "
            f"in {a.duration:.2f} s" + (f" (attempt {a.attempt})" if a.attempt > 1 else "")
        )

    def __call__(self, ev: WatchEvent) -> None:
        line = self.format(ev)
        if line is None or self.broken.is_set():
            return
        # Ctrl-C leaves the terminal's "^C" echo where the cursor was: the stop line
        # starts back at column 0 instead of after it.
        lead = "\r" if ev.kind is EventKind.STOPPED and self.on_terminal else ""
        self.write(line, lead)

    def write(self, line: str, lead: str = "") -> None:
        if self.broken.is_set():
            return
        try:
            # Paths and details come from artifacts: no terminal escapes get through.
            with self.lock:  # the hook deliverer's thread writes lines too
                self.out.write(lead + printable(line, one_line=True) + "\n")
                self.out.flush()
        except (BrokenPipeError, ValueError):
            self.broken.set()  # the reader went away: stop, as `| head` expects


def _is_terminal(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def run_headless(
    catalog: Catalog,
    dirs: Sequence[str | Path],
    model: str | None = None,
    settle: float | None = None,
    poll: bool = False,
    json_lines: bool = False,
    *,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
    hooks: bool = True,
) -> int:
    """Watch until SIGINT/SIGTERM (or `stop` is set), printing one line per event;
    the last says "stopped" and by which signal. Returns the exit code: 0 after a
    clean stop, whichever signal asked for it."""
    roots = resolve_roots(catalog, dirs, model, settle)
    printer = Printer(out or sys.stdout, json_lines, roots)
    stop = stop or threading.Event()
    watcher = Watcher(catalog, roots, poll=poll, on_event=printer)

    def on_signal(sig: int, _frame: FrameType | None) -> None:
        printer.stopped_by = signal.Signals(sig).name
        stop.set()

    saved: dict[signal.Signals, Callable[[int, FrameType | None], Any] | int | None] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            saved[sig] = signal.signal(sig, on_signal)
    deliverer = None
    if hooks and not catalog.read_only:
        # The same deliverer as `regtui hooks run`, beside the watcher: hooks run after
        # the changes commit, in this thread, never in the watcher's transactions.
        deliverer = threading.Thread(
            target=catalog.hook_deliverer(
                report=lambda line: printer.write(f"hooks: {line}"),
                on_attempt=printer.hook_attempt,
                stop=stop,
            ).run,
            name="regtui-hooks",
            daemon=True,  # a command still running at exit is delivered again next time
        )
    try:
        watcher.start()
        if deliverer is not None:
            deliverer.start()
        while not stop.wait(0.5):
            if printer.broken.is_set():
                break
    finally:
        stop.set()
        if deliverer is not None and deliverer.is_alive():
            deliverer.join(timeout=STOP_SECONDS)
        watcher.stop(timeout=STOP_SECONDS)
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    if watcher.stuck and threading.current_thread() is threading.main_thread():
        # A worker stuck outside any read (none should be) would hold the
        # interpreter's exit forever: what was written is committed, so go now.
        with contextlib.suppress(Exception):
            (out or sys.stdout).flush()
        os._exit(0)
    return 0
