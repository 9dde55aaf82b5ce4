"""The catalog's housekeeping, a base of `Catalog` (catalog.service): watched
folders, keeping a copy now, replaying an imported history, backup, export and
import. Each method hands the catalog's `Core` to the module that does the work."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from regtui.catalog import backup, kept_copies, replay, watch_roots
from regtui.catalog.backup import Backup
from regtui.catalog.core import Core
from regtui.catalog.records import VersionInfo
from regtui.catalog.refs import Ref, parse_ref
from regtui.catalog.watch_roots import WatchRoot


class Housekeeping:
    _core: Core

    # ------------------------------------------------------------- watch roots

    def add_watch_root(
        self, path: str | os.PathLike[str], model: str | None = None, settle_seconds: float = 2.0
    ) -> WatchRoot:
        return watch_roots.add_watch_root(self._core, path, model, settle_seconds)

    def watch_roots(self) -> list[WatchRoot]:
        return watch_roots.watch_roots(self._core)

    def remove_watch_root(self, path: str | os.PathLike[str]) -> None:
        watch_roots.remove_watch_root(self._core, path)

    def keep_copy(self, ref: str | Ref, reason: str | None = None) -> VersionInfo:
        """Keep a copy of the version's bytes in the store now, whatever its stages."""
        return kept_copies.keep_now(
            self._core, ref if isinstance(ref, Ref) else parse_ref(ref), reason
        )

    # ------------------------------------------------------------ import/export

    def replaying(
        self, *, at: datetime | None, actor: str | None, source: str
    ) -> AbstractContextManager[None]:
        """Changes made inside keep the time (and actor) of the history they replay,
        and their audit events say where they came from (regtui.catalog.replay)."""
        return replay.replaying(self._core, at=at, actor=actor, source=source)

    def backup(self, target: str | os.PathLike[str]) -> Backup:
        """A consistent copy of a live SQLite catalog, with its kept copies."""
        return backup.backup(self._core, target)

    def export_data(self) -> dict[str, Any]:
        return backup.export_data(self._core)

    def import_data(self, data: dict[str, Any], notes: list[str] | None = None) -> int:
        """Load an export into this empty catalog; notes for a person go to `notes`."""
        return backup.import_data(self._core, data, notes)
