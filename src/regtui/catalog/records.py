"""Plain, frozen views of catalog rows: what the service hands to its faces.

They carry no session, so the TUI can hold them across threads, and each has
`to_json()` giving the stable shapes documented in DESIGN.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def iso(ts: datetime | None) -> str | None:
    """UTC timestamps as ISO 8601 with a Z, the one format JSON output uses."""
    if ts is None:
        return None
    return ts.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Approval:
    status: str
    by: str | None = None
    at: datetime | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "by": self.by, "at": iso(self.at), "reason": self.reason}


@dataclass(frozen=True)
class VersionInfo:
    id: int
    model: str
    version: int
    path: str
    sha256: str
    size_bytes: int
    format: str
    framework: str | None
    metrics: dict[str, float]
    params: dict[str, Any]
    tags: dict[str, str]
    metadata: dict[str, Any]
    lineage: dict[str, Any]
    approval: Approval
    stages: tuple[str, ...]
    warnings: tuple[str, ...]
    created_at: datetime
    created_by: str
    archived: bool = False
    artifact_state: str = "ok"
    stored_path: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.model}:{self.version}"

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "path": self.path,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "format": self.format,
            "framework": self.framework,
            "metrics": self.metrics,
            "params": self.params,
            "tags": self.tags,
            "metadata": self.metadata,
            "lineage": self.lineage,
            "approval": self.approval.to_json(),
            "stages": list(self.stages),
            "warnings": list(self.warnings),
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
            "archived": self.archived,
            "artifact_state": self.artifact_state,
            "stored_path": self.stored_path,
        }


@dataclass(frozen=True)
class ModelInfo:
    id: int
    name: str
    description: str
    tags: dict[str, str]
    versions: int
    stages: dict[str, int | None]
    created_at: datetime
    created_by: str
    latest: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "tags": self.tags,
            "versions": self.versions,
            "latest": self.latest,
            "stages": self.stages,
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
        }


@dataclass(frozen=True)
class StageMove:
    model: str
    stage: str
    from_version: int | None
    to_version: int | None
    action: str
    at: datetime
    by: str
    reason: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "stage": self.stage,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "action": self.action,
            "at": iso(self.at),
            "by": self.by,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    at: datetime
    actor: str
    action: str
    model: str | None
    target: str
    before: Any
    after: Any
    reason: str | None
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": iso(self.at),
            "actor": self.actor,
            "action": self.action,
            "model": self.model,
            "target": self.target,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class RegisterResult:
    version: VersionInfo
    created: bool

    def to_json(self) -> dict[str, Any]:
        return {"created": self.created, **self.version.to_json()}


@dataclass(frozen=True)
class Policy:
    protected_stages: tuple[str, ...] = ("production",)
    distinct_approver: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "protected_stages": list(self.protected_stages),
            "distinct_approver": self.distinct_approver,
        }


@dataclass(frozen=True)
class ArtifactCheck:
    ref: str
    path: str
    state: str  # ok | missing | changed | unreadable
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "path": self.path, "state": self.state, "detail": self.detail}


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    events: int
    head: str
    first_bad: int | None = None
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "head": self.head,
            "first_bad_seq": self.first_bad,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class ScanItem:
    path: str
    model: str | None
    outcome: str  # registered | exists | refused | error
    version: VersionInfo | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "model": self.model, "outcome": self.outcome}
        if self.detail:
            out["detail"] = self.detail
        if self.version is not None:
            out["version"] = self.version.to_json()
        return out
