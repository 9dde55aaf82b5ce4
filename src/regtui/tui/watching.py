"""Glue between the watcher (regtui.watch, no Textual) and the app's messages.

`regtui.watch.Watcher` runs in its own threads and calls `on_event`; here each
event only becomes a posted message (thread-safe), so the UI never blocks on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App

from regtui.catalog.service import Catalog
from regtui.tui.messages import (
    HashingProgressed,
    VersionRegistered,
    WatchReported,
    WatchStateChanged,
)


def start(app: App[Any], catalog: Catalog, dirs: list[Path]) -> Any:
    """Start watching `dirs` (saved as the catalog's roots); returns the watcher (`stop()`).

    Raises RuntimeError (shown as "not watching: …") when no watcher is available.
    """
    try:
        from regtui.watch import EventKind, Watcher, resolve_roots
    except ImportError:
        raise RuntimeError(
            "the watcher (regtui.watch) is not available in this build; "
            "use `regtui scan DIR` to register new files"
        ) from None

    def on_event(ev: Any) -> None:
        kind = ev.kind
        if kind in (EventKind.REGISTERED, EventKind.EXISTS) and ev.version is not None:
            app.post_message(VersionRegistered(ev.version, kind is EventKind.REGISTERED))
        elif kind is EventKind.PROGRESS:
            app.post_message(HashingProgressed(ev.path, ev.done, ev.total))
        elif kind in (EventKind.STARTED, EventKind.READY):
            app.post_message(WatchStateChanged(True, f"{kind}: {ev.detail}".strip(": ")))
        elif kind is EventKind.STOPPED:
            app.post_message(WatchStateChanged(False, "not watching: the watcher stopped"))
        elif kind is EventKind.LOGGED and ev.version is not None:
            app.post_message(WatchReported(ev.path, kind, f"onto {ev.version.ref}: {ev.detail}"))
        else:  # waiting, incomplete, changed, refused, error, skipped, rescan
            app.post_message(WatchReported(ev.path, kind, ev.detail))

    roots = resolve_roots(catalog, [str(d) for d in dirs])
    watcher = Watcher(catalog, roots, on_event=on_event)
    watcher.start()
    return watcher
