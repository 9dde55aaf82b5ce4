"""Plain, frozen views of catalog rows: what the service hands to its faces.

They carry no session, so the TUI can hold them across threads, and each has
`to_json()` giving the stable shapes documented in DESIGN.md.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar, overload

from regtui.catalog.clock import iso, utc
from regtui.catalog.refs import Ref, audit_target
from regtui.catalog.version_fields import AT, FIELDS, STORED, Kind
from regtui.catalog.version_json import json_text_of

T = TypeVar("T")


class ApprovalStatus(StrEnum):
    """Where a version's review stands. The values are stored and shown as they are."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Approval:
    status: str  # an ApprovalStatus value, as the catalog stores it
    by: str | None = None
    at: datetime | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "by": self.by, "at": iso(self.at), "reason": self.reason}


class _Stored(Generic[T]):
    """A read-only attribute: the row slot of the declared field of its name."""

    __slots__ = ("index",)

    def __set_name__(self, owner: Any, name: str) -> None:
        self.index = AT[name]

    @overload
    def __get__(self, obj: None, owner: Any = None) -> _Stored[T]: ...
    @overload
    def __get__(self, obj: VersionInfo, owner: Any = None) -> T: ...
    def __get__(self, obj: VersionInfo | None, owner: Any = None) -> T | _Stored[T]:
        if obj is None:
            return self
        return obj._row[self.index]  # type: ignore[no-any-return]


class _Decoded(Generic[T]):
    """A read-only attribute decoded from its slot on first use (JSON, timestamps)."""

    __slots__ = ("name",)

    def __set_name__(self, owner: Any, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: Any = None) -> _Decoded[T]: ...
    @overload
    def __get__(self, obj: VersionInfo, owner: Any = None) -> T: ...
    def __get__(self, obj: VersionInfo | None, owner: Any = None) -> T | _Decoded[T]:
        if obj is None:
            return self
        return obj._get(self.name)  # type: ignore[no-any-return]


# Per decoded field: its slot, kind and finishing step.
_DECODE: dict[str, tuple[int, Kind, Callable[[Any], Any] | None]] = {
    f.name: (AT[f.name], f.kind, f.finish) for f in STORED if f.kind in (Kind.JSON, Kind.TIME)
}
# to_json's keys in order and how each shows (None: a composite, shown once).
_SHOWN: tuple[tuple[str, Kind | None], ...] = tuple(
    {f.name.partition(".")[0]: None if "." in f.name else f.kind for f in FIELDS if f.json}.items()
)
# The composite `approval`: its parts' names after the dot, and their slots.
_APPROVAL = tuple(
    (f.name.partition(".")[2], AT[f.name], f.kind) for f in STORED if f.name.startswith("approval.")
)


class VersionInfo:
    """One version, read-only. Listing 100,000 of them must take well under a
    second, so a version is its database row as fetched (the columns of
    version_fields.FIELDS, in that order), and the JSON columns, the timestamps
    and the approval are decoded on first use."""

    __slots__ = ("_cache", "_model", "_row", "_stages")
    _row: tuple[Any, ...]  # the fetched row: version_fields.COLUMNS, then the model name
    _model: str
    _stages: tuple[str, ...]
    _cache: dict[str, Any] | None  # decoded values, made on first use

    id: _Stored[int] = _Stored()
    model_id: _Stored[int] = _Stored()
    version: _Stored[int] = _Stored()
    path: _Stored[str] = _Stored()
    sha256: _Stored[str] = _Stored()
    size_bytes: _Stored[int] = _Stored()
    format: _Stored[str] = _Stored()
    framework: _Stored[str | None] = _Stored()
    description: _Stored[str | None] = _Stored()
    metrics: _Decoded[dict[str, float]] = _Decoded()
    params: _Decoded[dict[str, Any]] = _Decoded()
    tags: _Decoded[dict[str, str]] = _Decoded()
    metadata: _Decoded[dict[str, Any]] = _Decoded()
    lineage: _Decoded[dict[str, Any]] = _Decoded()
    warnings: _Decoded[tuple[str, ...]] = _Decoded()
    created_at: _Decoded[datetime] = _Decoded()
    created_by: _Stored[str] = _Stored()
    artifact_state: _Stored[str] = _Stored()
    stored_path: _Stored[str | None] = _Stored()
    damage: _Stored[str | None] = _Stored()
    datasets: _Decoded[list[dict[str, Any]]] = _Decoded()
    # Metrics/params attached after registration: `{"metrics.auc": ISO time}`.
    logged: _Decoded[dict[str, str]] = _Decoded()

    def __init__(self, row: Sequence[Any], model: str, stages: tuple[str, ...] = ()) -> None:
        """From a row of version_fields.COLUMNS: JSON as text or decoded,
        timestamps as text or datetimes."""
        _set_row(self, tuple(row))
        _set_model(self, model)
        _set_stages(self, tuple(stages))
        _set_cache(self, None)

    @classmethod
    def from_db(cls, row: Any, model: str, stages: tuple[str, ...]) -> VersionInfo:
        """From a row of version_fields.COLUMNS as fetched: JSON still as text,
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
        return bool(self._row[_ARCHIVED])

    @property
    def approval(self) -> Approval:
        return self._get("approval")  # type: ignore[no-any-return]

    def _get(self, name: str) -> Any:
        cache = self._cache
        if cache is None:
            cache = {}
            _set_cache(self, cache)
        elif name in cache:
            return cache[name]
        r = self._row
        if name == "approval":
            value: Any = Approval(
                **{k: utc(r[i]) if kind is Kind.TIME else r[i] for k, i, kind in _APPROVAL}
            )
        else:
            index, kind, finish = _DECODE[name]
            value = r[index]
            if kind is Kind.TIME:
                value = utc(value)
            else:
                if isinstance(value, (str, bytes)):  # bytes: PostgreSQL's (json_columns)
                    value = json.loads(value)
                if finish is not None:
                    value = finish(value)
        cache[name] = value  # a benign race: two threads decode the same value
        return value

    @property
    def ref(self) -> str:
        """The version as a person types it: the name quoted where it must be."""
        return str(Ref(self.model, self.version))

    @property
    def target(self) -> str:
        """The version as audit events name it (`MODEL:N`, never quoted): the form
        every event has held since the first, kept for the chain and its readers."""
        return audit_target(self.model, self.version)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VersionInfo):
            return NotImplemented
        return self.id == other.id and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash((self.id, self.model, self.version))

    def __repr__(self) -> str:
        return f"VersionInfo({self.ref}, {self.format}, sha256={self.sha256[:12]})"

    def to_json(self) -> dict[str, Any]:
        """The JSON shape of version_fields.FIELDS, in their order."""
        out: dict[str, Any] = {}
        for key, kind in _SHOWN:
            value = getattr(self, key)
            if kind is None:  # a composite: the approval
                value = value.to_json()
            elif kind is Kind.TIME:
                value = iso(value)
            elif isinstance(value, tuple):  # warnings, stages
                value = list(value)
            out[key] = value
        return out

    def to_json_text(self) -> str:
        """`json.dumps(self.to_json())` (same keys, same order), built as a
        string: JSON columns still held as text (SQLite's, already ASCII-escaped)
        are spliced in, and SQLite's UTC timestamps converted without parsing.
        Listing 100,000 versions as JSON spends most of its time here."""
        return json_text_of(self, self._row, self._cache)


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


_ARCHIVED = AT["archived"]


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
