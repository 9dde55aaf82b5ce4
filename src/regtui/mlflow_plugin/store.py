"""The read-only MLflow registry store over a regtui catalog.

MLflow's names for regtui's things: a registered model is a model; a model version is
a version (`version` = regtui's number, `source` = its artifact path, `user_id` = who
registered it, `run_id` from its lineage); an alias is a stage (`models:/M@Champion`
is stage `champion`); the legacy stages Production and Staging are the stages of
those names, Archived an archived version. The download URI of a version is the path
`regtui resolve` would give: the kept copy first, re-hashed, refused when its row
disagrees with its registration. Every write is refused with the regtui command
that does it.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import platformdirs
from mlflow.entities.model_registry import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    INVALID_PARAMETER_VALUE,
    PERMISSION_DENIED,
    RESOURCE_DOES_NOT_EXIST,
)
from mlflow.store.entities.paged_list import PagedList
from mlflow.store.model_registry.abstract_store import AbstractStore
from mlflow.utils.search_utils import SearchModelUtils, SearchModelVersionUtils

from regtui.catalog import store
from regtui.catalog.records import ModelInfo, VersionInfo
from regtui.catalog.refs import Ref, stage_for_alias
from regtui.catalog.service import Catalog
from regtui.catalog.stage_rules import check_holder
from regtui.errors import ArtifactError, NotFound, PolicyRefused, RegtuiError, UsageError
from regtui.from_mlflow.reader import shown
from regtui.hashing import hash_path

SCHEME = "regtui:"
MLFLOW_MARKER = "registered_model_meta"  # what MLflow writes into a model it loads


def cache_root() -> Path:  # read when used: tests move the user's folders
    return Path(platformdirs.user_cache_dir("regtui", appauthor=False)) / "mlflow"


LEGACY = {"production": "Production", "staging": "Staging"}


def _ms(ts: datetime | None) -> int | None:
    return None if ts is None else round(ts.timestamp() * 1000)


def _not_found(text: str) -> MlflowException:
    return MlflowException(text, error_code=RESOURCE_DOES_NOT_EXIST)


def _refused(what: str, instead: str) -> NoReturn:
    raise MlflowException(
        f"regtui's registry is read-only through MLflow ({what}); use {instead}",
        error_code=PERMISSION_DENIED,
    )


class RegtuiRegistryStore(AbstractStore):  # type: ignore[misc]
    def __init__(self, store_uri: str | None = None, tracking_uri: str | None = None) -> None:
        super().__init__(store_uri=store_uri, tracking_uri=tracking_uri)
        db = (store_uri or SCHEME)[len(SCHEME) :] if (store_uri or "").startswith(SCHEME) else None
        try:
            self.cat = Catalog(db or None, read_only=True)
        except RegtuiError as exc:
            where = shown(db) if db else "(default)"
            raise MlflowException(f"regtui catalog {where}: {exc}") from None

    # ------------------------------------------------------------- converting

    def _model(self, m: ModelInfo) -> RegisteredModel:
        return RegisteredModel(
            name=m.name,
            creation_timestamp=_ms(m.created_at),
            last_updated_timestamp=_ms(m.created_at),
            description=m.description or None,
            tags=[RegisteredModelTag(k, str(v)) for k, v in m.tags.items()],
            aliases=[RegisteredModelAlias(s, str(n)) for s, n in sorted(m.stages.items())],
        )

    def _version(self, v: VersionInfo) -> ModelVersion:
        legacy = next((LEGACY[s] for s in ("production", "staging") if s in v.stages), None)
        run_id = v.lineage.get("run_id") if isinstance(v.lineage, dict) else None
        return ModelVersion(
            name=v.model,
            version=v.version,  # an int, as MLflow's own SQL store gives it
            creation_timestamp=_ms(v.created_at),
            last_updated_timestamp=_ms(v.created_at),
            description=v.description,
            user_id=v.created_by,
            current_stage=legacy or ("Archived" if v.archived else "None"),
            source=v.path,
            run_id=run_id if isinstance(run_id, str) else None,
            tags=[ModelVersionTag(k, str(val)) for k, val in v.tags.items()],
            aliases=list(v.stages),
        )

    def _get(self, ref: Ref) -> VersionInfo:
        try:
            return self.cat.get(ref)
        except NotFound as exc:
            raise _not_found(str(exc)) from None
        except UsageError as exc:
            raise MlflowException(str(exc), error_code=INVALID_PARAMETER_VALUE) from None

    def _models(self, name: str | None = None) -> list[ModelInfo]:
        models = self.cat.models()
        return models if name is None else [m for m in models if m.name == name]

    # ------------------------------------------------------------------ reads

    def get_registered_model(self, name: str) -> RegisteredModel:
        found = self._models(name)
        if not found:
            raise _not_found(f"Registered Model with name={name} not found")
        return self._model(found[0])

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        models = [self._model(m) for m in self._models()]
        models = SearchModelUtils.filter(models, filter_string)
        models = SearchModelUtils.sort(models, order_by)
        page, token = SearchModelUtils.paginate(models, page_token, max_results or 100)
        return PagedList(page, token)

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        return self._version(self._get(Ref(name, version=_number(version))))

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        try:
            stage = stage_for_alias(alias)
        except UsageError as exc:
            raise MlflowException(str(exc), error_code=INVALID_PARAMETER_VALUE) from None
        v = self._get(Ref(name, stage=stage))
        problem = self._not_allowed(v, stage)
        if problem:
            raise MlflowException(problem)
        return self._version(v)

    def _not_allowed(self, v: VersionInfo, stage: str) -> str | None:
        """As `regtui resolve MODEL@STAGE`: a pointer the policy forbids is not served."""
        try:
            check_holder(
                self.cat.policy(),
                stage,
                ref=v.ref,
                archived=v.archived,
                approval=v.approval.status,
                damage=v.damage,
            )
        except PolicyRefused as exc:
            return f"{v.ref} is not served from {stage}: {exc.detail}"
        return None

    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
        if not self._models(name):
            raise _not_found(f"Registered Model with name={name} not found")
        versions = []
        for v in self.cat.versions(name):
            held = [s for s in LEGACY if s in v.stages]
            if held and self._not_allowed(v, held[0]):
                continue  # `models:/M/Production` serves what `resolve M@production` would
            versions.append(self._version(v))
        latest: dict[str, ModelVersion] = {}
        for mv in versions:
            if mv.current_stage not in latest or int(mv.version) > int(
                latest[mv.current_stage].version
            ):
                latest[mv.current_stage] = mv
        if stages is None:
            return list(latest.values())
        wanted = {s.lower() for s in stages}
        return [mv for stage, mv in latest.items() if stage.lower() in wanted]

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        names = _names_in(filter_string)
        models = self._models() if names is None else [m for m in self._models() if m.name in names]
        versions = [self._version(v) for m in models for v in self.cat.versions(m.name)]
        versions = SearchModelVersionUtils.filter(versions, filter_string)
        versions = SearchModelVersionUtils.sort(versions, order_by)
        page, token = SearchModelVersionUtils.paginate(versions, page_token, max_results or 10_000)
        return PagedList(page, token)

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        v = self._get(Ref(name, version=_number(version)))
        try:
            return str(handed_copy(self.cat.artifact_path(v), v.sha256))
        except (RegtuiError, OSError) as exc:
            raise MlflowException(f"{v.ref} is not served: {exc}") from None

    # ----------------------------------------------------------------- writes

    def create_registered_model(self, name: str, *args: Any, **kw: Any) -> NoReturn:
        _refused("create a model", "`regtui register PATH --model NAME`")

    def update_registered_model(self, name: str, *args: Any, **kw: Any) -> NoReturn:
        _refused("edit a model", "`regtui edit MODEL --description TEXT`")

    def rename_registered_model(self, name: str, *args: Any, **kw: Any) -> NoReturn:
        _refused("rename a model", "regtui, which keeps every model under its name")

    def delete_registered_model(self, name: str, *args: Any, **kw: Any) -> NoReturn:
        _refused("delete a model", "`regtui archive MODEL:N` for each version")

    def set_registered_model_tag(self, name: str, *args: Any, **kw: Any) -> NoReturn:
        _refused("tag a model", "`regtui edit MODEL --tag KEY=VALUE`")

    def delete_registered_model_tag(self, name: str, *args: Any, **kw: Any) -> NoReturn:
        _refused("untag a model", "`regtui edit MODEL --untag KEY`")

    def create_model_version(self, name: str, *args: Any, **kw: Any) -> NoReturn:
        _refused("register a version", "`regtui register PATH --model NAME`")

    def update_model_version(self, name: str, *args: Any, **kw: Any) -> NoReturn:
        _refused("edit a version", "`regtui edit MODEL:N --description TEXT`")

    def transition_model_version_stage(self, name: str, *args: Any, **kw: Any) -> NoReturn:
        _refused("move a stage", "`regtui promote MODEL:N --to STAGE` or `regtui archive MODEL:N`")

    def delete_model_version(self, name: str, *args: Any, **kw: Any) -> NoReturn:
        _refused("delete a version", "`regtui archive MODEL:N`")

    def set_model_version_tag(self, name: str, *args: Any, **kw: Any) -> NoReturn:
        _refused("tag a version", "`regtui edit MODEL:N --tag KEY=VALUE`")

    def delete_model_version_tag(self, name: str, *args: Any, **kw: Any) -> NoReturn:
        _refused("untag a version", "`regtui edit MODEL:N --untag KEY`")

    def set_registered_model_alias(self, name: str, *args: Any, **kw: Any) -> NoReturn:
        _refused("set an alias", "`regtui promote MODEL:N --to STAGE`")

    def delete_registered_model_alias(self, name: str, *args: Any, **kw: Any) -> NoReturn:
        _refused("delete an alias", "`regtui demote MODEL --stage STAGE`")


def _number(version: str | int) -> int:
    try:
        return int(version)
    except (TypeError, ValueError):
        raise MlflowException(
            f"version {str(version)[:40]!r} is not a number", error_code=INVALID_PARAMETER_VALUE
        ) from None


def handed_copy(served: Path, sha256: str) -> Path:
    """A copy of the verified bytes (`served`, re-hashed: the kept copy first) in the
    user cache, for MLflow to load. MLflow uses a local path in place and writes a
    `registered_model_meta` file into it: handed the artifact or the kept copy, it
    would change what regtui verifies. A copy from before is reused once it hashes
    to `sha256` again without that file."""
    root = cache_root() / sha256
    target = root / served.name
    if target.exists():
        marker = target / MLFLOW_MARKER
        if marker.is_file() and not marker.is_symlink():
            marker.unlink()
        with contextlib.suppress(RegtuiError, OSError):
            if hash_path(target).sha256 == sha256:
                return target
        shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=root.parent))
    try:
        # The store's copying: what the hash covers, through the non-blocking opener
        if served.is_dir():
            store.copy_tree(served, partial / served.name)
        else:
            store.clone_file(served, partial / served.name)
        if hash_path(partial / served.name).sha256 != sha256:
            raise ArtifactError(f"{served} changed while it was copied for MLflow")
        try:
            partial.rename(root)
        except OSError:  # another process put it there first: theirs is as good
            if not target.exists():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def _names_in(filter_string: str | None) -> set[str] | None:
    """The model names a filter pins with `name = '…'` or `name IN (…)`, so only
    their versions are read; None when it pins none."""
    if not filter_string:
        return None
    for clause in SearchModelVersionUtils.parse_search_filter(filter_string):
        if clause.get("type") == "attribute" and clause.get("key") == "name":
            comparator = str(clause.get("comparator", "")).upper()
            if comparator == "=":
                return {clause["value"]}
            if comparator == "IN":
                return set(clause["value"])
    return None
