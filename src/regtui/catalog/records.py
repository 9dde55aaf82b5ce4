"""Plain, frozen views of catalog rows: what the service hands to its faces.

They carry no session, so the TUI can hold them across threads, and each has
`to_json()` giving the stable shapes documented in DESIGN.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar


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


class _Col:
    """A read-only attribute backed by one slot of the row tuple."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        return obj._row[self.index]


class VersionInfo:
    """One version, read-only. Listing 100,000 of them must take well under a
    second, so a version is its database row as fetched, and the JSON columns,
    the timestamps and the approval are decoded on first use."""

    __slots__ = ("_cache", "_model", "_row", "_stages")

    # Positions in the `version` table's column order (see schema.VersionRow).
    id = _Col(0)
    version = _Col(2)
    path = _Col(3)
    sha256 = _Col(4)
    size_bytes = _Col(5)
    format = _Col(6)
    framework = _Col(7)
    created_by = _Col(15)
    artifact_state = _Col(21)
    stored_path = _Col(22)
    _JSON: ClassVar[dict[str, int]] = {
        "metrics": 8,
        "params": 9,
        "tags": 10,
        "metadata": 11,
        "lineage": 12,
        "warnings": 13,
    }

    def __init__(
        self,
        *,
        id: int,
        model: str,
        version: int,
        path: str,
        sha256: str,
        size_bytes: int,
        format: str,
        framework: str | None,
        metrics: dict[str, float],
        params: dict[str, Any],
        tags: dict[str, str],
        metadata: dict[str, Any],
        lineage: dict[str, Any],
        approval: Approval,
        stages: tuple[str, ...],
        warnings: tuple[str, ...],
        created_at: datetime,
        created_by: str,
        archived: bool = False,
        artifact_state: str = "ok",
        stored_path: str | None = None,
    ) -> None:
        row = (
            id, None, version, path, sha256, size_bytes, format, framework, metrics, params,
            tags, metadata, lineage, tuple(warnings), created_at, created_by, approval.status,
            approval.by, approval.at, approval.reason, archived, artifact_state, stored_path,
        )  # fmt: skip
        self._init(row, model, tuple(stages), {"approval": approval})

    def _init(self, row: Any, model: str, stages: tuple[str, ...], cache: dict[str, Any]) -> None:
        put = object.__setattr__
        put(self, "_row", row)
        put(self, "_model", model)
        put(self, "_stages", stages)
        put(self, "_cache", cache)

    @classmethod
    def from_db(cls, row: Any, model: str, stages: tuple[str, ...]) -> VersionInfo:
        """From a row of `version` columns in table order: JSON still as text,
        timestamps still as the database gave them."""
        self = cls.__new__(cls)
        self._init(row, model, stages, {})
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("VersionInfo is read-only")

    @property
    def model(self) -> str:
        return self._model

    @property
    def stages(self) -> tuple[str, ...]:
        return self._stages

    @property
    def archived(self) -> bool:
        return bool(self._row[20])

    def _get(self, name: str) -> Any:
        cache = self._cache
        if name in cache:
            return cache[name]
        r = self._row
        if name == "approval":
            value: Any = Approval(r[16], r[17], _utc(r[18]), r[19])
        elif name == "created_at":
            value = _utc(r[14])
        else:
            value = r[self._JSON[name]]
            if isinstance(value, str):
                value = json.loads(value)
            if name == "warnings":
                value = tuple(value or ())
            elif value is None:
                value = {}
        cache[name] = value  # a benign race: two threads decode the same value
        return value

    @property
    def metrics(self) -> dict[str, float]:
        return self._get("metrics")  # type: ignore[no-any-return]

    @property
    def params(self) -> dict[str, Any]:
        return self._get("params")  # type: ignore[no-any-return]

    @property
    def tags(self) -> dict[str, str]:
        return self._get("tags")  # type: ignore[no-any-return]

    @property
    def metadata(self) -> dict[str, Any]:
        return self._get("metadata")  # type: ignore[no-any-return]

    @property
    def lineage(self) -> dict[str, Any]:
        return self._get("lineage")  # type: ignore[no-any-return]

    @property
    def warnings(self) -> tuple[str, ...]:
        return self._get("warnings")  # type: ignore[no-any-return]

    @property
    def created_at(self) -> datetime:
        return self._get("created_at")  # type: ignore[no-any-return]

    @property
    def approval(self) -> Approval:
        return self._get("approval")  # type: ignore[no-any-return]

    @property
    def ref(self) -> str:
        return f"{self.model}:{self.version}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VersionInfo):
            return NotImplemented
        return self.id == other.id and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash((self.id, self.model, self.version))

    def __repr__(self) -> str:
        return f"VersionInfo({self.ref}, {self.format}, sha256={self.sha256[:12]})"

    def to_json_text(self) -> str:
        """`json.dumps(self.to_json())` in substance (key order aside), splicing in
        JSON columns still held as text (SQLite's, already ASCII-escaped) and
        SQLite's UTC timestamps, instead of decoding and re-encoding them."""
        r = self._row
        raw = []
        rest: dict[str, Any] = {
            "model": self._model,
            "version": r[2],
            "path": r[3],
            "sha256": r[4],
            "size_bytes": r[5],
            "format": r[6],
            "framework": r[7],
        }
        for name, index in self._JSON.items():
            value = r[index]
            if isinstance(value, str) and name not in self._cache:
                raw.append(f'"{name}": {value}')
            else:
                rest[name] = list(self._get(name)) if name == "warnings" else self._get(name)
        rest["approval"] = {"status": r[16], "by": r[17], "at": _iso_text(r[18]), "reason": r[19]}
        rest["stages"] = list(self._stages)
        rest["created_at"] = _iso_text(r[14])
        rest["created_by"] = r[15]
        rest["archived"] = bool(r[20])
        rest["artifact_state"] = r[21]
        rest["stored_path"] = r[22]
        text = json.dumps(rest, ensure_ascii=True)
        return "{" + "".join(part + ", " for part in raw) + text[1:]

    def to_json(self, *, lazy_raw: bool = False) -> dict[str, Any]:
        get = self._raw_or if lazy_raw else self._get
        return {
            "model": self.model,
            "version": self.version,
            "path": self.path,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "format": self.format,
            "framework": self.framework,
            "metrics": get("metrics"),
            "params": get("params"),
            "tags": get("tags"),
            "metadata": get("metadata"),
            "lineage": get("lineage"),
            "approval": self.approval.to_json(),
            "stages": list(self.stages),
            "warnings": list(self.warnings),
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
            "archived": self.archived,
            "artifact_state": self.artifact_state,
            "stored_path": self.stored_path,
        }


def versions_json_text(versions: list[VersionInfo]) -> str:
    """A JSON list of versions, one per line, built without decoding what the
    database already holds as JSON text (the fast path of `versions --json`).
    Same content as [v.to_json() for v in versions]."""
    return "[\n" + ",\n".join(v.to_json_text() for v in versions) + "\n]"


def _iso_text(value: Any) -> str | None:
    """iso(_utc(value)), with SQLite's naive-UTC text converted without parsing."""
    if isinstance(value, str) and len(value) >= 19 and value[10] == " " and "+" not in value:
        return value.replace(" ", "T", 1) + "Z"
    return iso(_utc(value))


def _utc(value: Any) -> Any:
    """A database timestamp as an aware UTC datetime (SQLite gives naive UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


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
