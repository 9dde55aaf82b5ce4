"""Opening the TUI: `regtui` with no command, and `regtui watch` without --headless."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from regtui.cli.access import open_catalog

if TYPE_CHECKING:
    from regtui.catalog.service import Catalog


def run_tui(args: argparse.Namespace, cat: Catalog, watch_dirs: list[Path] | None = None) -> int:
    from regtui.tui.app import make_app

    app = make_app(cat, watch_dirs=watch_dirs, read_only=getattr(args, "read_only", False))
    app.run()
    return int(app.return_code or 0)


def cmd_tui(args: argparse.Namespace) -> int:
    from regtui import settings

    # A catalog we may not write (a copy for offline review, say) opens read-only
    # with actions disabled, instead of failing at the first change.
    if args.read_only:
        args.read_only = "--read-only"
    elif settings.sqlite_is_read_only(getattr(args, "db", None)):
        args.read_only = "catalog file not writable"
    with open_catalog(args, read_only=bool(args.read_only)) as cat:
        return run_tui(args, cat)
