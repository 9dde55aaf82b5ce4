"""An MLflow registry as plain records: what the importer needs of it, read once.
No MLflow types leave `reader`; everything here is standard Python."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Run:
    """The tracking-store run a version came from: its latest metric values, params
    and what MLflow recorded of where it ran."""

    run_id: str
    experiment_id: str
    experiment: str | None
    metrics: dict[str, float]
    params: dict[str, str]
    user: str | None
    git_commit: str | None
    source_name: str | None
    run_name: str | None


@dataclass(frozen=True)
class MlflowVersion:
    model: str
    number: int
    created: datetime
    updated: datetime
    author: str | None
    description: str | None
    tags: dict[str, str]
    status: str  # READY, PENDING_REGISTRATION, FAILED_REGISTRATION
    legacy_stage: str  # None, Staging, Production, Archived
    aliases: tuple[str, ...]
    source: str
    artifact_uri: str  # where its files are (get_model_version_download_uri)
    run: Run | None


@dataclass(frozen=True)
class MlflowModel:
    name: str
    created: datetime
    updated: datetime
    description: str | None
    tags: dict[str, str]
    versions: list[MlflowVersion] = field(default_factory=list)


@dataclass(frozen=True)
class Registry:
    """What was read, and from where (as a person would name it again)."""

    tracking_uri: str
    registry_uri: str
    models: list[MlflowModel]
