"""What the watcher tells its face (the headless printer or the TUI): plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from regtui.catalog.clock import iso
from regtui.catalog.records import VersionInfo


class EventKind(StrEnum):
    """What happened (a str: `regtui watch --json` prints the value as `event`, and
    the TUI's watch panel shows it)."""

    STARTED = "started"  # observing; `detail` lists the roots
    READY = "ready"  # the catch-up scan is done; `detail` says how much was already known
    REGISTERED = "registered"  # a new version was written
    EXISTS = (
        "exists"  # the bytes were already a version of the model (`detail` "unchanged": cache hit)
    )
    REFUSED = "refused"  # the inspector refused the artifact (symlink out of the root, ...)
    WAITING = "waiting"  # the format shows it incomplete (`detail` says why): held, looked at again when it changes
    INCOMPLETE = (
        "incomplete"  # held for the hold time with no change and still incomplete: never registered
    )
    LOGGED = "logged"  # a sidecar written after the model attached its values to `version`
    ERROR = "error"  # hashing/inspection/registration failed; `detail` says why
    SKIPPED = "skipped"  # the file went away before it could be registered
    CHANGED = "changed"  # `version` (an older one) no longer matches its overwritten file
    PROGRESS = "progress"  # hashing a large artifact: `done` of `total` bytes
    RESCAN = "rescan"  # events may have been lost (queue overflow): walking the roots again
    STOPPED = "stopped"


@dataclass(frozen=True)
class WatchEvent:
    kind: EventKind
    path: str = ""
    model: str | None = None
    version: VersionInfo | None = None
    detail: str = ""
    done: int = 0
    total: int = 0
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ref(self) -> str | None:
        return self.version.ref if self.version is not None else None

    def to_json(self) -> dict[str, Any]:
        """One `--json` line: `event` and `at` always; the rest when they mean something."""
        out: dict[str, Any] = {"event": str(self.kind), "at": iso(self.at)}
        if self.path:
            out["path"] = self.path
        if self.model is not None:
            out["model"] = self.model
        if self.version is not None:
            out["ref"] = self.version.ref
            out["version"] = self.version.to_json()
        if self.detail:
            out["detail"] = self.detail
        if self.kind is EventKind.PROGRESS:
            out["done"] = self.done
            out["total"] = self.total
        return out
