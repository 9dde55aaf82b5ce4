"""Bring an MLflow registry (read by `reader`) into a catalog, or say what would
come (`dry_run`). Re-running brings only what is new: a version already imported
(its lineage names the same registry, model and MLflow version) is left alone, and
so is a stage that already holds what MLflow's alias points at.

What maps to what:
    registered model          model (description, tags)
    model version             version: the next number (MLflow's own when the model
                              came over whole and in order), its files hashed and
                              inspected, description, tags, creation time, author
                              (the version's user, else the run's)
    run                       the run's latest metric values and its params;
                              lineage: run id, experiment, git commit, user
    alias                     stage of the alias's name, lowercased (Champion ->
                              champion); a protected stage's version is approved
                              first, as MLflow had no such step
    legacy stage              Production/Staging -> stage; Archived -> archived
Every change keeps MLflow's time where MLflow kept one, and its audit event says it
was imported and from where.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from regtui.catalog.records import Policy, VersionInfo
from regtui.catalog.refs import stage_for_alias
from regtui.catalog.service import Catalog
from regtui.errors import ArtifactError, NotFound, RegtuiError
from regtui.from_mlflow.registry import MlflowModel, MlflowVersion, Registry

LEGACY_STAGES = {"Production": "production", "Staging": "staging"}


@dataclass
class Step:
    """One line of the plan (or of what was done)."""

    action: str  # model, version, same-bytes, description, stage, archive, problem
    model: str
    detail: str
    mlflow_version: int | None = None
    ref: str | None = None
    exit_code: int | None = None  # a problem's, as the CLI exits with it

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Outcome:
    dry_run: bool
    source: str
    steps: list[Step] = field(default_factory=list)
    already: int = 0  # versions imported by an earlier run

    @property
    def problems(self) -> list[Step]:
        return [s for s in self.steps if s.action == "problem"]

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "source": self.source,
            "steps": [s.to_json() for s in self.steps],
            "already_imported": self.already,
        }


def registry_identity(uri: str) -> str:
    """The registry as lineage records it: a SQLite file or folder by absolute path,
    a database without its password."""
    from regtui.from_mlflow.reader import shown

    uri = shown(uri)
    if uri.startswith("sqlite:///"):
        path = uri[len("sqlite:///") :]
        return "sqlite:///" + str(Path(path).absolute()) if not path.startswith("/") else uri
    if "://" not in uri:
        return str(Path(uri).absolute())
    return uri


def local_path(uri: str) -> Path | None:
    """The local file or folder an artifact URI names, if it is on this machine."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file") and not parsed.netloc:
        path = Path(unquote(parsed.path) if parsed.scheme else uri)
        return path if path.exists() else None
    return None


class Importer:
    def __init__(
        self,
        cat: Catalog,
        registry: Registry,
        *,
        dry_run: bool = False,
        copy_artifacts: bool = False,
        on_progress: Callable[[int, int, str], None] | None = None,
    ) -> None:
        self.cat = cat
        self.registry = registry
        self.identity = registry_identity(registry.registry_uri)
        self.source = f"imported from MLflow {self.identity}"
        self.dry_run = dry_run
        self.copy_artifacts = copy_artifacts
        self.progress = on_progress or (lambda _done, _total, _what: None)
        self.out = Outcome(dry_run, self.identity)
        self.policy: Policy = cat.policy()

    def run(self) -> Outcome:
        total = sum(len(m.versions) for m in self.registry.models)
        done = 0
        for m in self.registry.models:
            imported = self._imported(m.name)
            placed: dict[int, VersionInfo | None] = {}
            for mv in m.versions:
                done += 1
                self.progress(done, total, f"{m.name} version {mv.number}")
                if mv.number in imported:
                    self.out.already += 1
                    placed[mv.number] = imported[mv.number]
                    continue
                placed[mv.number] = self._version(mv)
            self._model_facts(m)
            self._stages(m, placed)
        return self.out

    # ----------------------------------------------------------------- reading

    def _imported(self, model: str) -> dict[int, VersionInfo]:
        """MLflow version number -> the version an earlier run made of it."""
        try:
            versions = self.cat.versions(model)
        except NotFound:
            return {}
        out = {}
        for v in versions:
            came = v.lineage.get("mlflow") if isinstance(v.lineage, dict) else None
            if (
                isinstance(came, dict)
                and came.get("registry") == self.identity
                and came.get("model") == model
                and isinstance(came.get("version"), int)
            ):
                out[came["version"]] = v
        return out

    def _lineage(self, mv: MlflowVersion) -> dict[str, Any]:
        came: dict[str, Any] = {
            "registry": self.identity,
            "model": mv.model,
            "version": mv.number,
            "source": mv.source,
            "status": mv.status,
        }
        lineage: dict[str, Any] = {"mlflow": came}
        run = mv.run
        if run is not None:
            came["experiment_id"] = run.experiment_id
            lineage["run_id"] = run.run_id
            for key, value in (
                ("experiment", run.experiment),
                ("git_commit", run.git_commit),
                ("user", run.user),
                ("run_name", run.run_name),
                ("entry_point", run.source_name),
            ):
                if value:
                    lineage[key] = value
        return lineage

    # ----------------------------------------------------------------- writing

    def _say(self, action: str, model: str, detail: str, **more: Any) -> Step:
        step = Step(action, model, detail, **more)
        self.out.steps.append(step)
        return step

    def _version(self, mv: MlflowVersion) -> VersionInfo | None:
        run = mv.run
        what = f"MLflow version {mv.number}" + (
            f", run {run.run_id[:12]}: {len(run.metrics)} metrics, {len(run.params)} params"
            if run
            else ""
        )
        path = local_path(mv.artifact_uri)
        if path is None and not self.copy_artifacts:
            self._say(
                "problem",
                mv.model,
                f"MLflow version {mv.number}: its files at {mv.artifact_uri[:200]} are not on this "
                "machine; --copy-artifacts downloads them",
                mlflow_version=mv.number,
                exit_code=ArtifactError.exit_code,
            )
            return None
        if self.dry_run:
            self._say("version", mv.model, what, mlflow_version=mv.number)
            return None
        try:
            if path is None:
                path = self._downloaded(mv)
            return self._register(mv, path, what)
        except RegtuiError as exc:
            self._say(
                "problem",
                mv.model,
                f"MLflow version {mv.number}: {exc}",
                mlflow_version=mv.number,
                exit_code=exc.exit_code,
            )
            return None

    def _downloaded(self, mv: MlflowVersion) -> Path:
        """Files from a remote artifact store, fetched through MLflow into a folder
        beside the catalog's store that stays (the version's path; its kept copy is
        made from it). A half-fetched folder from an earlier run is fetched again."""
        from regtui.from_mlflow.reader import download

        store = self.cat.store_location().path
        key = hashlib.sha256(f"{self.identity}\0{mv.model}\0{mv.number}".encode()).hexdigest()
        home = store.parent / f"{store.name}-mlflow-downloads" / key[:32]
        if home.is_dir():
            shutil.rmtree(home)
        home.mkdir(parents=True)
        return Path(download(mv.artifact_uri, str(home), self.registry.tracking_uri))

    def _register(self, mv: MlflowVersion, path: Path, what: str) -> VersionInfo:
        run = mv.run
        cand = self.cat.prepare(
            path,
            mv.model,
            metrics=dict(run.metrics) if run else None,
            params=dict(run.params) if run else None,
            tags=dict(mv.tags),
            lineage=self._lineage(mv),
        )
        author = mv.author or (run.user if run else None)
        with self.cat.replaying(at=mv.created, actor=author, source=self.source):
            result = self.cat.add_candidates([cand])[0]
            v = result.version
            if not result.created:
                self._say(
                    "same-bytes",
                    mv.model,
                    f"MLflow version {mv.number} holds the same bytes as {v.ref}: no new version",
                    mlflow_version=mv.number,
                    ref=v.ref,
                )
                return v
            if mv.description:
                v = self.cat.edit_version(v.ref, description=mv.description)
        if self.copy_artifacts:
            with self.cat.replaying(at=None, actor=None, source=self.source):
                v = self.cat.keep_copy(v.ref)
        if mv.legacy_stage == "Archived":
            with self.cat.replaying(at=mv.updated, actor=None, source=self.source):
                v = self.cat.archive(v.ref, f"Archived in MLflow ({self.source})")
        self._say("version", mv.model, what, mlflow_version=mv.number, ref=v.ref)
        return v

    def _model_facts(self, m: MlflowModel) -> None:
        try:
            have = next(x for x in self.cat.models() if x.name == m.name)
        except StopIteration:
            have = None
        # Fill in what the catalog lacks; never overwrite what someone edited here.
        desc = m.description if m.description and not (have and have.description) else None
        had = dict(have.tags) if have else {}
        tags = {k: v for k, v in m.tags.items() if k not in had} or None
        if desc is None and tags is None:
            return
        parts = [p for p, given in (("description", desc), ("tags", tags)) if given]
        self._say("model", m.name, " and ".join(parts))
        if not self.dry_run and have is not None:
            with self.cat.replaying(at=m.updated, actor=None, source=self.source):
                self.cat.edit(m.name, description=desc, tags=tags)

    def _stages(self, m: MlflowModel, placed: dict[int, VersionInfo | None]) -> None:
        wanted: dict[str, tuple[MlflowVersion, str]] = {}
        for mv in m.versions:
            legacy = LEGACY_STAGES.get(mv.legacy_stage)
            if legacy:
                wanted.setdefault(legacy, (mv, f"stage {mv.legacy_stage}"))
        for mv in m.versions:
            for alias in mv.aliases:
                try:
                    wanted[stage_for_alias(alias)] = (mv, f"alias {alias}")
                except RegtuiError as exc:
                    self._say(
                        "problem",
                        m.name,
                        str(exc),
                        mlflow_version=mv.number,
                        exit_code=exc.exit_code,
                    )
        try:
            held = next(x for x in self.cat.models() if x.name == m.name).stages
        except StopIteration:
            held = {}
        for stage, (mv, why) in sorted(wanted.items()):
            v = placed.get(mv.number)
            ref = v.ref if v is not None else f"MLflow version {mv.number}"
            if v is not None and held.get(stage) == v.version:
                continue
            detail = f"{stage} <- {ref} (MLflow {why})"
            if self.dry_run or v is None:
                if self.dry_run:
                    self._say("stage", m.name, detail, mlflow_version=mv.number)
                continue
            try:
                with self.cat.replaying(at=mv.updated, actor=None, source=self.source):
                    reason = f"held {why} in MLflow ({self.source})"
                    if stage in self.policy.protected_stages and v.approval.status != "approved":
                        self.cat.approve(v.ref, reason)
                    self.cat.promote(v.ref, stage, reason)
            except RegtuiError as exc:
                self._say(
                    "problem",
                    m.name,
                    f"{detail}: {exc}",
                    mlflow_version=mv.number,
                    ref=v.ref,
                    exit_code=exc.exit_code,
                )
                continue
            self._say("stage", m.name, detail, mlflow_version=mv.number, ref=v.ref)
