"""The watcher: registers model files as training runs finish writing them.

Knows nothing of Textual or Rich. Faces use `Watcher` (the TUI, with an
`on_event` that posts messages) or `run_headless` (the CLI).
"""

from __future__ import annotations

from regtui.watch.events import EventKind, WatchEvent
from regtui.watch.headless import resolve_roots, run_headless
from regtui.watch.watcher import Watcher

__all__ = ["EventKind", "WatchEvent", "Watcher", "resolve_roots", "run_headless"]
