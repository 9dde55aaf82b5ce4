"""Plain, frozen views of catalog rows: what the service hands to its faces.

They carry no session, so the TUI can hold them across threads, and each has
`to_json()` giving the stable shapes documented in DESIGN.md.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from regtui.text import json_text


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
    damage = _Col(23)
    _JSON: ClassVar[dict[str, int]] = {
        "metrics": 8,
        "params": 9,
        "tags": 10,
        "metadata": 11,
        "lineage": 12,
        "warnings": 13,
        "datasets": 24,
        "logged": 25,
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
        damage: str | None = None,
        datasets: list[dict[str, Any]] | None = None,
        logged: dict[str, str] | None = None,
    ) -> None:
        row = (
            id, None, version, path, sha256, size_bytes, format, framework, metrics, params,
            tags, metadata, lineage, tuple(warnings), created_at, created_by, approval.status,
            approval.by, approval.at, approval.reason, archived, artifact_state, stored_path,
            damage, list(datasets or ()), dict(logged or {}),
        )  # fmt: skip
        _set_row(self, row)
        _set_model(self, model)
        _set_stages(self, tuple(stages))
        _set_cache(self, {"approval": approval})

    @classmethod
    def from_db(cls, row: Any, model: str, stages: tuple[str, ...]) -> VersionInfo:
        """From a row of `version` columns in table order: JSON still as text,
        timestamps still as the database gave them."""
        # Slot setters called directly and no cache dict until one is needed:
        # half the cost of a plain construction, which matters 100,000 times.
        self = _new(cls)
        _set_row(self, row)
        _set_model(self, model)
        _set_stages(self, stages)
        _set_cache(self, None)
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
        if cache is None:
            cache = {}
            _set_cache(self, cache)
        elif name in cache:
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
            elif name == "datasets":
                value = value or []
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
    def datasets(self) -> list[dict[str, Any]]:
        return self._get("datasets")  # type: ignore[no-any-return]

    @property
    def logged(self) -> dict[str, str]:
        """Metrics/params attached after registration: `{"metrics.auc": ISO time}`."""
        return self._get("logged")  # type: ignore[no-any-return]

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
        """`json.dumps(self.to_json())` in substance (key order aside), built as a
        string: JSON columns still held as text (SQLite's, already ASCII-escaped)
        are spliced in, and SQLite's UTC timestamps converted without parsing.
        Listing 100,000 versions as JSON spends most of its time here."""
        r = self._row
        cache = self._cache
        parts = []
        for name, index in self._JSON.items():
            value = r[index]
            if (
                not isinstance(value, str)
                or value == "null"
                or (cache is not None and name in cache)
                or _MAYBE_NON_FINITE.search(value)  # a row from before they were refused
            ):
                value = _dumps(list(self._get(name)) if name == "warnings" else self._get(name))
            parts.append(f'"{name}": {value}, ')
        return (
            "{" + "".join(parts)
            + f'"model": {_str(self._model)}, "version": {r[2]}, "path": {_str(r[3])}, '
            f'"sha256": {_str(r[4])}, "size_bytes": {r[5]}, "format": {_str(r[6])}, '
            f'"framework": {_opt(r[7])}, "approval": {{"status": {_str(r[16])}, '
            f'"by": {_opt(r[17])}, "at": {_opt(_iso_text(r[18]))}, "reason": {_opt(r[19])}}}, '
            f'"stages": {_dumps(list(self._stages))}, '
            f'"created_at": {_opt(_iso_text(r[14]))}, "created_by": {_str(r[15])}, '
            f'"archived": {"true" if r[20] else "false"}, "artifact_state": {_str(r[21])}, '
            f'"stored_path": {_opt(r[22])}, "damage": {_opt(r[23])}}}'
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        get = self._get
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
            "damage": self.damage,
            "datasets": get("datasets"),
            "logged": get("logged"),
        }


@contextmanager
def collector_paused() -> Iterator[None]:
    """For fetching rows and wrapping them as records by the hundred thousand:
    that allocates hundreds of thousands of objects and no reference cycles, and
    the cyclic garbage collector would walk them all several times over (about a
    fifth of a 100k listing). Process-wide, so keep the block short."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


_new = object.__new__
_set_row = VersionInfo.__dict__["_row"].__set__
_set_model = VersionInfo.__dict__["_model"].__set__
_set_stages = VersionInfo.__dict__["_stages"].__set__
_set_cache = VersionInfo.__dict__["_cache"].__set__


def versions_json_text(versions: list[VersionInfo]) -> str:
    """A JSON list of versions, one per line, built without decoding what the
    database already holds as JSON text (the fast path of `versions --json`).
    Same content as [v.to_json() for v in versions]."""
    return "[\n" + ",\n".join(v.to_json_text() for v in versions) + "\n]"


# JSON string literals with non-ASCII escaped (json's own C encoder), as
# json.dumps(ensure_ascii=True) writes them: control and bidi characters from
# artifacts must never reach a terminal raw.
_str: Callable[[str], str] = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]
_dumps: Callable[[Any], str] = json_text
# Stored JSON text that may hold a bare NaN/Infinity (json.dumps' default wrote
# them): such a value is decoded and re-encoded by json_text instead of spliced.
_MAYBE_NON_FINITE = re.compile(r"NaN|Infinity")


def _opt(value: str | None) -> str:
    return "null" if value is None else _str(value)


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
    # Same bytes registered again with new metrics/params: what was merged
    # ({"metrics": {...}, "params": {...}}), else None.
    merged: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"created": self.created, **self.version.to_json()}
        if self.merged:
            out["merged"] = self.merged
        return out


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
