"""Bring an MLflow registry (read by `reader`) into a catalog, or say what would
come (`dry_run`).

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

A registration keeps MLflow's time and author; every other change is stamped now
(MLflow keeps no time for an alias), by the person importing. Each change's audit
event says it was imported and from where, and that is how a re-run knows what an
earlier one did: it brings only what is new, finishes what an interrupted run left
(a description, an archive, a kept copy), and never undoes what was changed here
since (an edited description or tag, a stage moved by hand).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from regtui.catalog.records import AuditEvent, ModelInfo, Policy, VersionInfo
from regtui.catalog.refs import Ref, stage_for_alias
from regtui.catalog.service import Catalog
from regtui.errors import ArtifactError, NotFound, RegtuiError
from regtui.from_mlflow.registry import MlflowModel, MlflowVersion, Registry
from regtui.settings import data_dir

LEGACY_STAGES = {"Production": "production", "Staging": "staging"}
MAX_SOURCE_SHOWN = 300  # the registry as audit reasons name it: they hold 2,000 at most


@dataclass
class Step:
    """One line of the plan (or of what was done)."""

    action: str  # version, same-bytes, model, stage, kept-here, skipped, problem
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
    """The registry as lineage records it: a SQLite file or folder by its real
    absolute path (however it was spelled), a database or server without its password."""
    from regtui.from_mlflow.reader import shown

    uri = shown(uri)
    parsed = urlparse(uri)
    if parsed.scheme.split("+")[0] == "sqlite" and parsed.path not in ("", "/", "/:memory:"):
        return "sqlite:///" + os.path.realpath(unquote(parsed.path[1:]))
    if "://" not in uri:
        return os.path.realpath(uri)
    return uri


def _clipped(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
        self.source = f"imported from MLflow {_clipped(self.identity, MAX_SOURCE_SHOWN)}"
        self.dry_run = dry_run
        self.copy_artifacts = copy_artifacts
        self.progress = on_progress or (lambda _done, _total, _what: None)
        self.out = Outcome(dry_run, self.identity)
        self.policy: Policy = cat.policy()
        self.total = sum(len(m.versions) for m in registry.models)
        self.done = 0

    def run(self) -> Outcome:
        for m in self.registry.models:
            try:
                self._model(m)
            except RegtuiError as exc:  # this model stops here; the others still come
                self._problem(m.name, str(exc), exc.exit_code)
        return self.out

    # ---------------------------------------------------------------- helpers

    def _say(self, action: str, model: str, detail: str, **more: Any) -> Step:
        step = Step(action, model, detail, **more)
        self.out.steps.append(step)
        return step

    def _problem(self, model: str, detail: str, code: int, **more: Any) -> None:
        self._say("problem", model, detail, exit_code=code, **more)

    def _model_info(self, name: str) -> ModelInfo | None:
        return next((m for m in self.cat.models() if m.name == name), None)

    def _history(self, model: str) -> dict[str, list[AuditEvent]]:
        """What earlier imports from this registry did to the model, by target."""
        try:
            events = self.cat.audit_events(model)
        except NotFound:
            return {}
        out: dict[str, list[AuditEvent]] = {}
        for e in events:
            if self.source in (e.reason or ""):
                out.setdefault(e.target, []).append(e)
        return out

    def _imported(self, model: str) -> tuple[dict[int, VersionInfo], int]:
        """MLflow version number -> the version an earlier run made of it; and the
        model's highest version number here."""
        try:
            versions = self.cat.versions(model)
        except NotFound:
            return {}, 0
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
        return out, max((v.version for v in versions), default=0)

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

    # ----------------------------------------------------------------- models

    def _model(self, m: MlflowModel) -> None:
        if not m.versions:
            self._say("skipped", m.name, "no versions in MLflow: nothing to bring")
            return
        history = self._history(m.name)
        imported, top = self._imported(m.name)
        placed: dict[int, VersionInfo | None] = {}
        for mv in m.versions:
            self.done += 1
            self.progress(self.done, self.total, f"{m.name} version {mv.number}")
            v = imported.get(mv.number)
            if v is not None:
                self.out.already += 1
            else:
                top += 1
                v = self._version(mv, Ref(m.name, top))
            if v is not None and not self.dry_run:
                v = self._complete(mv, v, history)
            placed[mv.number] = v
        self._model_facts(m, history)
        self._stages(m, placed, history)

    def _model_facts(self, m: MlflowModel, history: dict[str, list[AuditEvent]]) -> None:
        """Description and tags, the first time only: a later run never undoes an
        edit made here (nor one MLflow made after the first import: say so in it)."""
        if any(e.action == "edited" for e in history.get(m.name, [])):
            return
        have = self._model_info(m.name)
        if have is None and not self.dry_run:
            return  # none of its versions came over: nothing to describe
        desc = m.description if m.description and not (have and have.description) else None
        had = dict(have.tags) if have else {}
        tags = {k: v for k, v in m.tags.items() if k not in had} or None
        if desc is None and tags is None:
            return
        parts = [p for p, given in (("description", desc), ("tags", tags)) if given]
        self._say("model", m.name, " and ".join(parts))
        if not self.dry_run:
            with self.cat.replaying(at=None, actor=None, source=self.source):
                self.cat.edit(Ref(m.name), description=desc, tags=tags)

    # --------------------------------------------------------------- versions

    def _files(self, mv: MlflowVersion) -> Path | str:
        """The version's files here, or why they cannot be had (a problem line)."""
        parsed = urlparse(mv.artifact_uri)
        if parsed.scheme in ("", "file") and not parsed.netloc:
            path = Path(unquote(parsed.path) if parsed.scheme else mv.artifact_uri)
            if path.exists():
                return path
            return f"its files at {mv.artifact_uri[:200]} are missing"
        if not self.copy_artifacts:
            return (
                f"its files at {mv.artifact_uri[:200]} are not on this machine; "
                "--copy-artifacts downloads them"
            )
        return self._downloaded(mv) if not self.dry_run else Path(".")

    def _version(self, mv: MlflowVersion, next_ref: Ref) -> VersionInfo | None:
        run = mv.run
        about = (
            f", run {run.run_id[:12]}: {len(run.metrics)} metrics, {len(run.params)} params"
            if run
            else ""
        )
        try:
            files = self._files(mv)
            if isinstance(files, str):
                self._problem(
                    mv.model,
                    f"MLflow version {mv.number}: {files}",
                    ArtifactError.exit_code,
                    mlflow_version=mv.number,
                )
                return None
            if self.dry_run:
                self._say(
                    "version",
                    mv.model,
                    f"MLflow version {mv.number} -> {next_ref}{about}",
                    mlflow_version=mv.number,
                )
                return None
            return self._register(mv, files, about)
        except RegtuiError as exc:
            self._problem(
                mv.model,
                f"MLflow version {mv.number}: {exc}",
                exc.exit_code,
                mlflow_version=mv.number,
            )
            return None

    def _downloaded(self, mv: MlflowVersion) -> Path:
        """Files from a remote artifact store, fetched through MLflow into a folder
        beside the catalog's store that stays (the version's path; its kept copy is
        made from it). A half-fetched folder from an earlier run is fetched again."""
        from regtui.from_mlflow.reader import download

        store = self.cat.store_location().path
        key = hashlib.sha256(f"{self.identity}\0{mv.model}\0{mv.number}".encode()).hexdigest()
        if isinstance(store, Path):
            home = store.parent / f"{store.name}-mlflow-downloads" / key[:32]
        else:  # a bucket store: the files stay on this host, in its data folder
            home = data_dir() / "mlflow-downloads" / key[:32]
        if home.is_dir():
            shutil.rmtree(home)
        home.mkdir(parents=True)
        return Path(download(mv.artifact_uri, str(home), self.registry.tracking_uri))

    def _register(self, mv: MlflowVersion, path: Path, about: str) -> VersionInfo:
        run = mv.run
        cand = self.cat.prepare(
            path,
            mv.model,
            metrics=dict(run.metrics) if run else None,
            params=dict(run.params) if run else None,
            tags=dict(mv.tags),
            lineage=self._lineage(mv),
        )
        same = self.cat.version_by_sha(mv.model, cand.digest.sha256)
        if same is not None:  # its metrics stay its own: nothing is merged into it
            self._say(
                "same-bytes",
                mv.model,
                f"MLflow version {mv.number} holds the same bytes as {same.ref}: no new version",
                mlflow_version=mv.number,
                ref=same.ref,
            )
            return same
        author = mv.author or (run.user if run else None)
        with self.cat.replaying(at=mv.created, actor=author, source=self.source):
            v = self.cat.add_candidates([cand])[0].version
            if mv.description:
                v = self.cat.edit_version(v.ref, description=mv.description)
        self._say(
            "version",
            mv.model,
            f"MLflow version {mv.number} -> {v.ref}{about}",
            mlflow_version=mv.number,
            ref=v.ref,
        )
        return v

    def _complete(
        self, mv: MlflowVersion, v: VersionInfo, history: dict[str, list[AuditEvent]]
    ) -> VersionInfo:
        """What registering it was to be followed by, where it is still missing (a
        run stopped in between, or an earlier one without --copy-artifacts)."""
        came = v.lineage.get("mlflow") if isinstance(v.lineage, dict) else None
        if not isinstance(came, dict) or came.get("version") != mv.number:
            return v  # another MLflow version's bytes: its own facts stand
        done = {e.action for e in history.get(v.target, [])}
        with self.cat.replaying(at=None, actor=None, source=self.source):
            if mv.description and not v.description and "edited" not in done:
                v = self.cat.edit_version(v.ref, description=mv.description)
            if mv.legacy_stage == "Archived" and not v.archived and "archived" not in done:
                v = self.cat.archive(v.ref, f"Archived in MLflow ({self.source})")
            if self.copy_artifacts and not v.stored_path:
                v = self.cat.keep_copy(v.ref)
        return v

    # ----------------------------------------------------------------- stages

    def _stages(
        self,
        m: MlflowModel,
        placed: dict[int, VersionInfo | None],
        history: dict[str, list[AuditEvent]],
    ) -> None:
        wanted: dict[str, dict[int, str]] = {}  # stage -> MLflow version -> why
        for mv in m.versions:
            legacy = LEGACY_STAGES.get(mv.legacy_stage)
            if legacy:
                wanted.setdefault(legacy, {})[mv.number] = f"stage {mv.legacy_stage}"
            for alias in mv.aliases:
                try:
                    wanted.setdefault(stage_for_alias(alias), {})[mv.number] = f"alias {alias}"
                except RegtuiError as exc:
                    self._problem(m.name, str(exc), exc.exit_code, mlflow_version=mv.number)
        have = self._model_info(m.name)
        held = dict(have.stages) if have else {}
        for stage, by_version in sorted(wanted.items()):
            if len(by_version) > 1:
                named = ", ".join(f"{why} (version {n})" for n, why in sorted(by_version.items()))
                self._problem(m.name, f"{named} all map to stage {stage}: left as it is", 2)
                continue
            [(number, why)] = by_version.items()
            self._stage(m.name, stage, number, why, placed.get(number), held, history)

    def _stage(
        self,
        model: str,
        stage: str,
        number: int,
        why: str,
        v: VersionInfo | None,
        held: dict[str, int],
        history: dict[str, list[AuditEvent]],
    ) -> None:
        if v is None:
            if self.dry_run:
                self._say("stage", model, f"{stage} <- MLflow version {number} (MLflow {why})")
            else:
                self._problem(
                    model,
                    f"{stage} not set: MLflow version {number} ({why}) did not come over",
                    ArtifactError.exit_code,
                    mlflow_version=number,
                )
            return
        now = held.get(stage)
        if now == v.version:
            return
        # What an earlier import set it to: anything else there was decided here
        earlier = history.get(f"{model}@{stage}", [])
        after = earlier[-1].after if earlier else None
        last = after.get("version") if isinstance(after, dict) else None
        if now != last:
            self._say(
                "kept-here",
                model,
                f"{stage} holds {f'version {now}' if now else 'nothing'}, as set here: "
                f"MLflow's {why} (version {number}) not applied",
                mlflow_version=number,
            )
            return
        detail = f"{stage} <- {v.ref} (MLflow {why})"
        if self.dry_run:
            self._say("stage", model, detail, mlflow_version=number)
            return
        try:
            with self.cat.replaying(at=None, actor=None, source=self.source):
                reason = f"held {why} in MLflow ({self.source})"
                if stage in self.policy.protected_stages and v.approval.status != "approved":
                    self.cat.approve(v.ref, reason)
                self.cat.promote(v.ref, stage, reason)
        except RegtuiError as exc:
            self._problem(
                model, f"{detail}: {exc}", exc.exit_code, mlflow_version=number, ref=v.ref
            )
            return
        self._say("stage", model, detail, mlflow_version=number, ref=v.ref)
