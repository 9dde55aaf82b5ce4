"""Catalog tables. Changing them needs an Alembic migration in regtui/migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Column, Index, Table, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

# JSON on SQLite, JSONB on PostgreSQL (indexable, compact).
JSONType = JSON().with_variant(JSONB(), "postgresql")


def json_column(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(JSONType, nullable=nullable))


class TableRow(SQLModel):
    """Base of the table models: says that each has a `__table__`, which SQLModel
    sets when the class is made (a type checker cannot see it), so the catalog's
    Core queries (`ModelRow.__table__.c.name`) are checked like the rest."""

    __table__: ClassVar[Table]


class ModelRow(TableRow, table=True):
    __tablename__ = "model"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128, unique=True, index=True)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    tags: dict[str, str] = json_column()
    created_at: datetime
    created_by: str


class VersionRow(TableRow, table=True):
    __tablename__ = "version"
    __table_args__ = (
        UniqueConstraint("model_id", "number", name="uq_version_model_number"),
        UniqueConstraint("model_id", "sha256", name="uq_version_model_sha256"),
    )

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="model.id", index=True)
    number: int
    path: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(max_length=64)
    size_bytes: int = Field(sa_column=Column(BigInteger, nullable=False))
    format: str = Field(default="unknown", max_length=64)
    framework: str | None = Field(default=None, max_length=64)
    metrics: dict[str, float] = json_column()
    params: dict[str, Any] = json_column()
    tags: dict[str, str] = json_column()
    meta: dict[str, Any] = json_column()
    lineage: dict[str, Any] = json_column()
    warnings: list[str] = json_column()
    created_at: datetime
    created_by: str
    approval_status: str = Field(default="pending", max_length=16)
    approval_by: str | None = None
    approval_at: datetime | None = None
    approval_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    archived: bool = False
    # "ok", or "changed"/"missing" once the file no longer matches the hash.
    artifact_state: str = Field(default="ok", max_length=16)
    # Its copy in the content-addressed store, once it reached a protected stage.
    stored_path: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Why the artifact's format shows it incomplete or lying (None: sound). A
    # damaged version can never be approved or reach a protected stage.
    damage: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Training/evaluation datasets: [{"kind": "file"|"folder"|"uri", "ref": …, …}].
    datasets: list[dict[str, Any]] | None = json_column(nullable=True)
    # Metrics/params attached after registration: {"metrics.auc": ISO time}.
    logged: dict[str, str] | None = json_column(nullable=True)
    # What a person says about this version (`edit REF --description`); None: nothing yet.
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class VersionMetricRow(TableRow, table=True):
    """One metric of one version: an index of `version.metrics` for fast filters."""

    __tablename__ = "version_metric"
    __table_args__ = (Index("ix_version_metric_name_value", "name", "value", "version_id"),)

    version_id: int = Field(foreign_key="version.id", primary_key=True)
    name: str = Field(primary_key=True)
    value: float


class VersionTagRow(TableRow, table=True):
    """One tag of one version: an index of `version.tags` for fast filters."""

    __tablename__ = "version_tag"
    __table_args__ = (Index("ix_version_tag_key_value", "key", "value", "version_id"),)

    version_id: int = Field(foreign_key="version.id", primary_key=True)
    key: str = Field(primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))


class VersionDatasetRow(TableRow, table=True):
    """One dataset identity of one version (hash, URI, path): an index of
    `version.datasets` for the filter `dataset = '…'`."""

    __tablename__ = "version_dataset"
    __table_args__ = (Index("ix_version_dataset_ident", "ident", "version_id"),)

    version_id: int = Field(foreign_key="version.id", primary_key=True)
    ident: str = Field(sa_column=Column(Text, primary_key=True, nullable=False))


class StageRow(TableRow, table=True):
    """A named pointer of a model to at most one version."""

    __tablename__ = "stage"
    __table_args__ = (UniqueConstraint("model_id", "name", name="uq_stage_model_name"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="model.id", index=True)
    name: str = Field(max_length=64)
    version_id: int | None = Field(default=None, foreign_key="version.id")
    # Bumped on every move: lets a caller say "only if nobody moved it since".
    revision: int = 0
    updated_at: datetime
    updated_by: str


class StageMoveRow(TableRow, table=True):
    """Every move of a stage pointer, kept forever: the stage's history."""

    __tablename__ = "stage_move"
    __table_args__ = (Index("ix_stage_move_model_stage", "model_id", "stage", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="model.id")
    stage: str = Field(max_length=64)
    from_version_id: int | None = Field(default=None, foreign_key="version.id")
    to_version_id: int | None = Field(default=None, foreign_key="version.id")
    action: str = Field(max_length=16)  # promote | rollback | demote
    at: datetime
    by: str
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ApprovalRow(TableRow, table=True):
    """Every approval decision on a version; the version row holds the latest."""

    __tablename__ = "approval"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="version.id", index=True)
    status: str = Field(max_length=16)
    by: str
    at: datetime
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class AuditEventRow(TableRow, table=True):
    """One change, hash-chained to the event before it."""

    __tablename__ = "audit_event"

    seq: int = Field(primary_key=True)
    at: datetime
    actor: str
    action: str = Field(max_length=32)
    model: str | None = Field(default=None, max_length=128, index=True)
    target: str = Field(sa_column=Column(Text, nullable=False))
    before: Any = json_column(nullable=True)
    after: Any = json_column(nullable=True)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class SettingRow(TableRow, table=True):
    """Catalog-wide settings shared by every client (the policy lives here)."""

    __tablename__ = "setting"

    key: str = Field(primary_key=True, max_length=64)
    value: Any = json_column()


class WatchRootRow(TableRow, table=True):
    """A folder the watcher watches and the rule that names its models."""

    __tablename__ = "watch_root"

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    model: str | None = Field(default=None, max_length=128)
    settle_seconds: float = 2.0
    created_at: datetime
    created_by: str


class HookRow(TableRow, table=True):
    """A hook: what to run or where to POST when matching audit events happen.
    Its config is repeated in its `hook_added` event; a row that differs is refused."""

    __tablename__ = "hook"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    events: list[str] = json_column()  # audit actions: ["promoted", "rolled_back"]
    model: str | None = Field(default=None, max_length=128)
    stage: str | None = Field(default=None, max_length=64)
    kind: str = Field(max_length=8)  # "run" | "post"
    target: str = Field(sa_column=Column(Text, nullable=False))  # the command or the URL
    # The HMAC key of a POST hook: never logged, never listed (only that one is set).
    secret: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    timeout: float = 60.0
    added_seq: int  # the seq of its hook_added event
    created_at: datetime
    created_by: str


class HookCursorRow(TableRow, table=True):
    """How far a hook's deliveries have got (`seq` done), and who is delivering now
    (a lease, claimed by compare-and-set so two deliverers never deliver one event)."""

    __tablename__ = "hook_cursor"

    # Deleted with its hook, by the database (on PostgreSQL with the owner's rights:
    # team roles hold no DELETE on cursors; migration 0010).
    hook_id: int = Field(primary_key=True, foreign_key="hook.id", ondelete="CASCADE")
    seq: int
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = None


class HookAttemptRow(TableRow, table=True):
    """One attempt to deliver one event to one hook."""

    __tablename__ = "hook_attempt"
    __table_args__ = (
        Index("ix_hook_attempt_seq", "seq"),
        Index("ix_hook_attempt_hook", "hook_name", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    hook_name: str = Field(max_length=64)
    seq: int
    attempt: int
    at: datetime
    ok: bool
    # HTTP status of a POST, exit code of a command (None: no answer, e.g. a timeout).
    status: int | None = None
    output: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    duration: float
    final: bool = False  # the last attempt at this event: delivered, or given up
