"""The catalog's housekeeping, a base of `Catalog` (catalog.service): watched
folders, keeping a copy now, replaying an imported history, backup, export and
import. Each method hands the catalog's `Core` to the module that does the work."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from regtui.catalog import backup, hook_delivery, hooks, kept_copies, replay, watch_roots
from regtui.catalog.backup import Backup
from regtui.catalog.core import Core
from regtui.catalog.hooks import Attempt, Hook, HookStatus
from regtui.catalog.records import AuditEvent, VersionInfo
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

    # ------------------------------------------------------------------- hooks

    def add_hook(
        self,
        name: str,
        events: list[str],
        *,
        run: str | None = None,
        post: str | None = None,
        secret: str | None = None,
        model: str | None = None,
        stage: str | None = None,
        timeout: float = 60.0,
    ) -> Hook:
        """A command to run or a URL to POST to on these events (an audit event itself)."""
        return hooks.add_hook(
            self._core,
            name,
            events,
            run=run,
            post=post,
            secret=secret,
            model=model,
            stage=stage,
            timeout=timeout,
        )

    def remove_hook(self, name: str, reason: str | None) -> None:
        hooks.remove_hook(self._core, name, reason)

    def hooks(self) -> list[HookStatus]:
        """Every hook, how far its deliveries got, its last delivery and failure."""
        return hooks.hook_statuses(self._core)

    def hook_attempts(self, *, seq: int | None = None, hook: str | None = None) -> list[Attempt]:
        """Delivery attempts, oldest first: of one event, of one hook, or all."""
        return hooks.attempts(self._core, seq=seq, hook=hook)

    def test_hook(self, name: str) -> tuple[AuditEvent, Attempt]:
        """Deliver the hook's newest matching event (or a made-up one) once, now."""
        return hook_delivery.test_delivery(self._core, name)

    def hook_deliverer(
        self, retry: hook_delivery.Retry | None = None, **options: Any
    ) -> hook_delivery.Deliverer:
        """What `hooks run` and `watch --headless` deliver with (catalog.hook_delivery)."""
        return hook_delivery.Deliverer(self._core, retry, **options)

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
