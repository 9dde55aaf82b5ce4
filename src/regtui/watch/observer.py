"""watchdog plumbing: an observer per mode and a handler that only enqueues.

The handler runs on watchdog's thread and does no I/O, so a burst is never held
up by hashing or the database. Reads by our own hashers would show up as
open/close-nowrite events, so those are not subscribed to at all.
"""

from __future__ import annotations

import logging
import queue
import warnings
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver

from regtui.errors import RegtuiError
from regtui.watch.messages import FsChange, Overflow, SchedulerMsg

EVENT_TYPES: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]


def _fs(p: bytes | str) -> Path:
    return Path(p.decode("utf-8", "surrogateescape") if isinstance(p, bytes) else p)


class Enqueue(FileSystemEventHandler):
    """Turns watchdog events into FsChange messages on a queue.

    If the consumer falls `limit` messages behind, events are dropped and one
    Overflow is queued instead: the watcher then rescans, as for a kernel
    queue overflow, rather than letting memory grow without bound.
    """

    def __init__(self, q: queue.SimpleQueue[SchedulerMsg], limit: int = 200_000) -> None:
        self.q = q
        self.limit = limit
        self.overflowed = False

    def dispatch(self, event: FileSystemEvent) -> None:
        if self.overflowed:
            return
        if self.q.qsize() >= self.limit:
            self.overflowed = True
            self.q.put(Overflow())
            return
        dest = _fs(event.dest_path) if getattr(event, "dest_path", "") else None
        self.q.put(FsChange(event.event_type, event.is_directory, _fs(event.src_path), dest))


def make_observer(poll: bool, interval: float) -> tuple[BaseObserver, bool]:
    """The observer and whether it reports closes (only inotify does)."""
    # watchdog warns when `mkdir -p` makes nested folders faster than it adds
    # watches; it handles that case itself, so the warning is only noise.
    warnings.filterwarnings("ignore", message="Callback with id", category=RuntimeWarning)
    if not poll:
        try:
            from watchdog.observers.inotify import InotifyObserver

            return InotifyObserver(), True
        except (ImportError, OSError):
            pass
        from watchdog.observers import Observer

        # typed as a factory protocol, a class at run time
        if getattr(Observer, "__name__", None) != "PollingObserver":
            return Observer(), False
    from watchdog.observers.polling import PollingObserver

    return PollingObserver(timeout=interval), False


def schedule(observer: BaseObserver, handler: Enqueue, root: Path) -> None:
    try:
        observer.schedule(handler, str(root), recursive=True, event_filter=EVENT_TYPES)
    except OSError as exc:
        # inotify's per-user watch limit is the usual cause on big trees.
        raise RegtuiError(
            f"cannot watch {root}: {exc.strerror or exc}"
            " (on Linux, raise fs.inotify.max_user_watches or use --poll)"
        ) from None


class OverflowHook(logging.Handler):
    """watchdog reports a kernel queue overflow only by logging it; catch that line."""

    LOGGERS = ("watchdog.observers.inotify_c", "watchdog.observers.inotify")

    def __init__(self, on_overflow: Callable[[], None]) -> None:
        super().__init__(logging.WARNING)
        self.on_overflow = on_overflow

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self.on_overflow()

    def install(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).addHandler(self)

    def remove(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).removeHandler(self)
