"""The catalog service: every change and every read the faces need.

`Catalog` is the one public entry, a thin facade: it opens a `Core` (engine,
actor, the dialect's SQL; catalog.core) and hands it to the module that holds
each kind of work. Each change runs in one write transaction together with its
audit event, so a failure leaves nothing half-written. Reads return frozen
records (regtui.catalog.records).

    candidates      inspect and hash an artifact (`prepare`; no database)
    new_versions    write prepared candidates as versions (`add_candidates`)
    queries         models, versions, get/resolve, diff, stage history, look-ups
    review          approve, reject, archive
    stages          promote, move_stages, rollback, demote
    policy_settings the policy setting and changing it
    edits           edit, log, mark_artifact
    audit_reads     audit events, chain and table checks, head
    serving         where a version is served from; re-hashing artifacts
    store_settings  the store location and kept copies
    housekeeping    (a base of Catalog) watched folders, kept copies now, replay,
                    backup, export, import
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from regtui.catalog import (
    audit_reads,
    audit_replay,
    edits,
    new_versions,
    policy_settings,
    queries,
    review,
    serving,
    stages,
    store,
    store_settings,
)
from regtui.catalog.backup import Backup
from regtui.catalog.candidates import READ_ATTEMPTS, Candidate, Preparer
from regtui.catalog.core import VERSION_COLUMNS, Core
from regtui.catalog.db import close_engine
from regtui.catalog.diff import Diff
from regtui.catalog.edits import TagsEdit
from regtui.catalog.housekeeping import Housekeeping
from regtui.catalog.input_checks import (
    MAX_KEY,
    MAX_REASON,
    check_key,
    clean_metrics,
    clean_params,
    clean_reason,
    clean_tags,
)
from regtui.catalog.records import (
    ApprovalStatus,
    ArtifactCheck,
    AuditEvent,
    ChainCheck,
    ModelInfo,
    Policy,
    RegisterResult,
    StageMove,
    VersionInfo,
)
from regtui.catalog.refs import Ref
from regtui.catalog.watch_roots import WatchRoot
from regtui.hashing import Progress

# What importers take from here; each is declared in the module named above.
__all__ = [
    "MAX_KEY", "MAX_REASON", "READ_ATTEMPTS", "VERSION_COLUMNS", "Backup", "Candidate",
    "Catalog", "TagsEdit", "WatchRoot", "check_key", "clean_metrics", "clean_params",
    "clean_reason", "clean_tags",
]  # fmt: skip


class Catalog(
    Housekeeping, Preparer
):  # prepare (inspect and hash, no database): candidates.Preparer
    """The registry. `Catalog()` finds the catalog like the CLI: REGTUI_DB, then the default.

    >>> reg = Catalog()                      # doctest: +SKIP
    >>> reg.register("out/model.onnx", model="churn", metrics={"auc": 0.91})  # doctest: +SKIP
    >>> reg.log("churn:1", metrics={"test_auc": 0.89}, reason="holdout eval")  # doctest: +SKIP
    """

    def __init__(
        self,
        db: str | os.PathLike[str] | None = None,
        *,
        user: str | None = None,
        read_only: bool = False,
    ) -> None:
        self._core = core = Core(db, user=user, read_only=read_only)
        self.url = core.url
        self.read_only = core.read_only
        self.engine = core.engine
        self.dialect = core.dialect
        self.actor = core.actor

    def close(self) -> None:
        close_engine(self.engine)

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ policy

    def policy(self) -> Policy:
        return policy_settings.policy(self._core)

    def set_policy(self, policy: Policy, reason: str | None = None) -> Policy:
        """Change the policy (see policy_settings.set_policy for what refuses it)."""
        return policy_settings.set_policy(self._core, policy, reason)

    # ------------------------------------------------------------ registration

    def register(
        self,
        path: str | os.PathLike[str],
        model: str,
        *,
        metrics: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
        lineage: dict[str, Any] | None = None,
        root: Path | None = None,
        progress: Progress | None = None,
        datasets: Sequence[str | os.PathLike[str]] = (),
    ) -> VersionInfo:
        """Register an artifact as the next version of `model` (created if new).

        The same bytes already registered under the model return that version,
        with new metrics/params merged in (see `log`). `datasets`: paths or URIs.
        """
        cand = self.prepare(
            path,
            model,
            metrics=metrics,
            params=params,
            tags=tags,
            lineage=lineage,
            root=root,
            progress=progress,
            datasets=datasets,
        )
        return self.add_candidates([cand])[0].version

    def add_candidates(self, candidates: Sequence[Candidate]) -> list[RegisterResult]:
        """Write prepared artifacts as versions, all in one transaction."""
        return new_versions.add_candidates(self._core, candidates)

    # ------------------------------------------------------------------- reads

    def models(self) -> list[ModelInfo]:
        return queries.models(self._core)

    def metric_series(
        self, model: str, metric: str | None = None, last: int = 200
    ) -> tuple[list[str], str | None, list[float]]:
        """The metric names of the model's last `last` versions, the chosen one and its values."""
        return queries.metric_series(self._core, model, metric, last)

    def model(self, name: str) -> ModelInfo:
        return queries.model(self._core, name)

    def versions(
        self,
        model: str | None = None,
        *,
        where: str | None = None,
        order_by: str | None = None,
        desc: bool = False,
        newest_first: bool = False,
        include_archived: bool = True,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[VersionInfo]:
        """Versions of `model` (None: every model) matching `where`, in `order_by`
        order (see queries.versions); a bad field or filter is a FilterError."""
        return queries.versions(
            self._core,
            model,
            where=where,
            order_by=order_by,
            desc=desc,
            newest_first=newest_first,
            include_archived=include_archived,
            limit=limit,
            offset=offset,
        )

    def count_versions(
        self, model: str | None = None, *, where: str | None = None, include_archived: bool = True
    ) -> int:
        return queries.count_versions(
            self._core, model, where=where, include_archived=include_archived
        )

    def get(self, ref: str | Ref) -> VersionInfo:
        """The version a reference names: MODEL:N, MODEL@STAGE or MODEL (latest)."""
        return queries.get(self._core, ref)

    def resolve(self, ref: str) -> VersionInfo:
        """What serving code asks: the version in MODEL@STAGE (or any ref)."""
        return queries.resolve(self._core, ref)

    def artifact_path(self, v: VersionInfo, *, check: bool = True) -> Path:
        """Where to load the version from; refused when the row disagrees with its registration."""
        return serving.artifact_path(self._core, v, check=check)

    def diff(
        self, left: str | Ref, right: str | Ref, directions: dict[str, bool] | None = None
    ) -> Diff:
        return queries.diff(self._core, left, right, directions)

    def stage_history(self, model: str, stage: str | None = None) -> list[StageMove]:
        return queries.stage_history(self._core, model, stage)

    def stage_at(self, model: str, stage: str, when: datetime) -> int | None:
        """The version number `stage` pointed to at `when` (None: nothing then)."""
        return queries.stage_at(self._core, model, stage, when)

    # Typed reads for the watcher (catalog.lookups): no filter text, no length cap.

    def version_by_sha(self, model: str, sha256: str) -> VersionInfo | None:
        """The version of `model` holding these bytes (None: none, or no such model)."""
        return queries.version_by_sha(self._core, model, sha256)

    def versions_by_sha(self, sha256: str, model: str | None = None) -> list[VersionInfo]:
        """The versions holding these bytes, oldest first: of `model`, or of every model."""
        return queries.versions_by_sha(self._core, sha256, model)

    def versions_at_paths(self, paths: Iterable[str]) -> list[VersionInfo]:
        """Every version (any model) recorded at one of `paths`, oldest first."""
        return queries.versions_at_paths(self._core, paths)

    def newest_in_folder(self, folder: str | os.PathLike[str]) -> VersionInfo | None:
        """The newest version recorded at `folder` itself or at a file right inside it."""
        return queries.newest_in_folder(self._core, folder)

    # ------------------------------------------------------------------ review

    def approve(self, ref: str, reason: str) -> VersionInfo:
        return review.decide(self._core, ref, ApprovalStatus.APPROVED, reason)

    def reject(self, ref: str, reason: str) -> VersionInfo:
        return review.decide(self._core, ref, ApprovalStatus.REJECTED, reason)

    def archive(self, ref: str, reason: str | None = None, archived: bool = True) -> VersionInfo:
        return review.archive(self._core, ref, reason, archived)

    # Several versions in one transaction: all change, or (at the first that may not) none.
    def approve_many(self, refs: Sequence[str], reason: str) -> list[VersionInfo]:
        return review.decide_many(self._core, refs, ApprovalStatus.APPROVED, reason)

    def reject_many(self, refs: Sequence[str], reason: str) -> list[VersionInfo]:
        return review.decide_many(self._core, refs, ApprovalStatus.REJECTED, reason)

    def archive_many(
        self, refs: Sequence[str], reason: str | None = None, archived: bool = True
    ) -> list[VersionInfo]:
        return review.archive_many(self._core, refs, reason, archived)

    # ------------------------------------------------------------------ stages

    def promote(
        self,
        ref: str,
        stage: str,
        reason: str | None = None,
        *,
        expect_version: int | None = None,
        expect_revision: int | None = None,
    ) -> StageMove:
        """Point `stage` at the version; with `expect_version` (0 = the stage is
        empty) or `expect_revision`, a stage moved meanwhile raises Conflict."""
        return stages.promote(
            self._core,
            ref,
            stage,
            reason,
            expect_version=expect_version,
            expect_revision=expect_revision,
        )

    def move_stages(
        self,
        ref: str,
        to: Sequence[str],
        demote: Sequence[str] = (),
        *,
        reason: str | None = None,
        expect_version: int | None = None,
        expect_revision: int | None = None,
    ) -> list[StageMove]:
        """Point every stage in `to` at the version and empty every stage in
        `demote` (same model), all in one transaction: all happen or none."""
        return stages.move_stages(
            self._core,
            ref,
            to,
            demote,
            reason=reason,
            expect_version=expect_version,
            expect_revision=expect_revision,
        )

    def rollback(
        self,
        model: str,
        stage: str = "production",
        to: int | None = None,
        reason: str | None = None,
    ) -> StageMove:
        """Move `stage` back to the version it held before (or to version `to`)."""
        return stages.rollback(self._core, model, stage, to, reason)

    def rollback_target(self, model: str, stage: str) -> int | None:
        """The version `rollback(model, stage)` would move the stage back to, if any."""
        return stages.rollback_target(self._core, model, stage)

    def demote(self, model: str, stage: str, reason: str | None = None) -> StageMove:
        """Empty a stage (it then points at no version)."""
        return stages.demote(self._core, model, stage, reason)

    # ------------------------------------------------------------------- edits

    def edit(
        self,
        target: str | Ref,
        *,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        untag: Iterable[str] = (),
        reason: str | None = None,
    ) -> ModelInfo | VersionInfo:
        """Merge `tags` into the tags of MODEL or a version ref, drop the keys in
        `untag`, and set its description, reading the tags inside the write."""
        return edits.edit(
            self._core, target, description=description, tags=tags, untag=untag, reason=reason
        )

    def edit_model(
        self,
        model: str,
        *,
        description: str | None = None,
        tags: TagsEdit | None = None,
        reason: str | None = None,
    ) -> ModelInfo:
        """Replace the model's description and/or tags."""
        return edits.edit_model(
            self._core, model, description=description, tags=tags, reason=reason
        )

    def edit_version(
        self,
        ref: str,
        *,
        description: str | None = None,
        tags: TagsEdit | None = None,
        reason: str | None = None,
    ) -> VersionInfo:
        """Replace a version's description and/or tags (an empty description clears it)."""
        return edits.edit_version(
            self._core, ref, description=description, tags=tags, reason=reason
        )

    def log(
        self,
        ref: str,
        *,
        metrics: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> VersionInfo:
        """Add or update a version's metrics and params after registration (an
        evaluation that finished later, a sidecar written after the model). Each
        change is one audit event with before and after; values that are already
        there unchanged change nothing. `version.logged` keeps when each arrived."""
        return self.log_changes(ref, metrics=metrics, params=params, reason=reason)[0]

    def log_changes(
        self,
        ref: str,
        *,
        metrics: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> tuple[VersionInfo, dict[str, Any] | None]:
        """`log`, also returning what changed (None when nothing did)."""
        return edits.log_changes(self._core, ref, metrics=metrics, params=params, reason=reason)

    def mark_artifact(self, ref: str, state: str, detail: str | None = None) -> VersionInfo:
        """Record that a version's file no longer matches (changed/missing) or does again."""
        return edits.mark_artifact(self._core, ref, state, detail)

    # ------------------------------------------------------------------- audit

    def audit_events(
        self,
        model: str | None = None,
        *,
        actor: str | None = None,
        action: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
        after: int | None = None,
        since: datetime | None = None,
    ) -> list[AuditEvent]:
        """Events, oldest first (or newest); `after` a seq, `since` a time (audit --follow)."""
        return audit_reads.audit_events(
            self._core,
            model,
            actor=actor,
            action=action,
            limit=limit,
            newest_first=newest_first,
            after=after,
            since=since,
        )

    def verify_audit(self, expected_head: str | None = None) -> ChainCheck:
        """The hash chain, and the tables against the state it records."""
        return audit_reads.verify_audit(self._core, expected_head)

    def registration(self, v: VersionInfo) -> Any:
        """What the audit log recorded when `v` was registered (its `after`), or None."""
        return audit_reads.registration(self._core, v)

    def verify_catalog(
        self, expected_head: str | None = None, progress: audit_reads.VerifyProgress | None = None
    ) -> tuple[ChainCheck, audit_replay.StateCheck | None]:
        """The chain and the tables compared with its replay, in one snapshot."""
        return audit_reads.verify_catalog(self._core, expected_head, progress)

    def audit_head(self) -> tuple[int, str]:
        return audit_reads.audit_head(self._core)

    def change_counter(self) -> int:
        """Rises with every change to the catalog: a cheap way to notice other writers."""
        return audit_reads.change_counter(self._core)

    # ----------------------------------------------------- artifacts and store

    def verify_artifacts(self, model: str | None = None) -> list[ArtifactCheck]:
        """Re-hash every version's artifact and kept copy; report missing and changed ones."""
        return serving.verify_artifacts(self._core, model)

    def store_location(self) -> store.StoreLocation:
        """Where this catalog keeps its copies: its "store" setting, else the default."""
        return store_settings.store_location(self._core)

    def count_kept_copies(self) -> store.KeptCount:
        """How many versions have a kept copy in the store, and how many have none there."""
        return store_settings.count_kept_copies(self._core)

    def set_store_location(
        self, path: str | os.PathLike[str], reason: str | None = None
    ) -> store.StoreLocation:
        """Point the catalog's store at `path`, every kept copy copied there first."""
        return store_settings.set_store_location(self._core, path, reason)
