"""What the watcher tells its face (the headless printer or the TUI): plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from regtui.catalog.records import VersionInfo, iso

Kind = Literal[
    "started",  # observing; `detail` lists the roots
    "ready",  # the catch-up scan is done; `detail` says how much was already known
    "registered",  # a new version was written
    "exists",  # the bytes were already a version of the model (`detail` "unchanged": cache hit)
    "refused",  # the inspector refused the artifact (symlink out of the root, ...)
    "waiting",  # the format shows it incomplete (`detail` says why): held, looked at again when it changes
    "incomplete",  # held for the hold time with no change and still incomplete: never registered
    "logged",  # a sidecar written after the model attached its values to `version`
    "error",  # hashing/inspection/registration failed; `detail` says why
    "skipped",  # the file went away before it could be registered
    "changed",  # `version` (an older one) no longer matches its overwritten file
    "progress",  # hashing a large artifact: `done` of `total` bytes
    "rescan",  # events may have been lost (queue overflow): walking the roots again
    "stopped",
]


@dataclass(frozen=True)
class WatchEvent:
    kind: Kind
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
        out: dict[str, Any] = {"event": self.kind, "at": iso(self.at)}
        if self.path:
            out["path"] = self.path
        if self.model is not None:
            out["model"] = self.model
        if self.version is not None:
            out["ref"] = self.version.ref
            out["version"] = self.version.to_json()
        if self.detail:
            out["detail"] = self.detail
        if self.kind == "progress":
            out["done"] = self.done
            out["total"] = self.total
        return out
