"""Read an MLflow registry through MLflow's own client. The only module of regtui
that imports MLflow, and only when `read` is called: `pip install 'regtui[mlflow]'`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from regtui.errors import UsageError
from regtui.from_mlflow.registry import MlflowModel, MlflowVersion, Registry, Run

PAGE = 1000


def _client(tracking_uri: str, registry_uri: str | None) -> Any:
    # A plain folder store is refused by MLflow 3 unless allowed; reading one is fine.
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    try:
        from mlflow import MlflowClient
    except ImportError:
        raise UsageError(
            "import-mlflow reads through MLflow's own client, which is not installed here: "
            "pip install 'regtui[mlflow]'"
        ) from None
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri or tracking_uri)


def _pages(search: Callable[..., Any]) -> Iterator[Any]:
    token = None
    while True:
        page = search(max_results=PAGE, page_token=token)
        yield from page
        token = getattr(page, "token", None)
        if not token:
            return


def _time(ms: int | None) -> datetime:
    return datetime.fromtimestamp((ms or 0) / 1000, UTC)


def read(
    tracking_uri: str,
    registry_uri: str | None = None,
    only: Sequence[str] = (),
    on_progress: Callable[[str], None] | None = None,
) -> Registry:
    """Every registered model (or those named in `only`), every version, its run."""
    from mlflow.exceptions import MlflowException

    client = _client(tracking_uri, registry_uri)
    try:
        return _read(client, tracking_uri, registry_uri, set(only), on_progress)
    except MlflowException as exc:
        first = str(exc.message if hasattr(exc, "message") else exc).splitlines()[0][:300]
        raise UsageError(f"MLflow at {tracking_uri}: {first}") from None


def _read(
    client: Any,
    tracking_uri: str,
    registry_uri: str | None,
    only: set[str],
    on_progress: Callable[[str], None] | None,
) -> Registry:
    models: dict[str, MlflowModel] = {}
    aliases: dict[tuple[str, int], list[str]] = {}
    for rm in _pages(client.search_registered_models):
        if only and rm.name not in only:
            continue
        models[rm.name] = MlflowModel(
            rm.name, _time(rm.creation_timestamp), rm.description or None, dict(rm.tags or {})
        )
        for alias, number in (rm.aliases or {}).items():
            aliases.setdefault((rm.name, int(number)), []).append(alias)
    missing = sorted(only - set(models))
    if missing:
        raise UsageError(f"no registered model named {missing[0]!r} in MLflow at {tracking_uri}")
    runs: dict[str, Run | None] = {}
    experiments: dict[str, str | None] = {}
    seen = 0
    for mv in _pages(lambda **kw: client.search_model_versions(None, **kw)):
        if mv.name not in models:
            continue
        run = None
        if mv.run_id:
            if mv.run_id not in runs:
                runs[mv.run_id] = _run(client, mv.run_id, experiments)
            run = runs[mv.run_id]
        number = int(mv.version)
        models[mv.name].versions.append(
            MlflowVersion(
                model=mv.name,
                number=number,
                created=_time(mv.creation_timestamp),
                updated=_time(mv.last_updated_timestamp),
                author=mv.user_id or None,
                description=mv.description or None,
                tags=dict(mv.tags or {}),
                status=str(mv.status or "READY"),
                legacy_stage=str(mv.current_stage or "None"),
                aliases=tuple(sorted(aliases.get((mv.name, number), []))),
                source=str(mv.source or ""),
                artifact_uri=str(client.get_model_version_download_uri(mv.name, mv.version)),
                run=run,
            )
        )
        seen += 1
        if on_progress and seen % 100 == 0:
            on_progress(f"read {seen} versions from MLflow")
    for m in models.values():
        m.versions.sort(key=lambda v: v.number)
    return Registry(
        tracking_uri, registry_uri or tracking_uri, sorted(models.values(), key=lambda m: m.name)
    )


def _run(client: Any, run_id: str, experiments: dict[str, str | None]) -> Run | None:
    from mlflow.exceptions import MlflowException

    try:
        r = client.get_run(run_id)
    except MlflowException:
        return None  # a version whose run was deleted, or lives in another tracking store
    eid = str(r.info.experiment_id)
    if eid not in experiments:
        try:
            experiments[eid] = client.get_experiment(eid).name
        except MlflowException:
            experiments[eid] = None
    tags = r.data.tags or {}
    return Run(
        run_id=run_id,
        experiment_id=eid,
        experiment=experiments[eid],
        metrics={k: float(v) for k, v in (r.data.metrics or {}).items()},
        params={k: str(v) for k, v in (r.data.params or {}).items()},
        user=tags.get("mlflow.user") or r.info.user_id or None,
        git_commit=tags.get("mlflow.source.git.commit"),
        source_name=tags.get("mlflow.source.name"),
        run_name=tags.get("mlflow.runName") or getattr(r.info, "run_name", None),
    )


def download(artifact_uri: str, into: str) -> str:
    """Fetch a version's files from a remote artifact store through MLflow; the
    local folder (or file) they landed in."""
    from mlflow.artifacts import download_artifacts
    from mlflow.exceptions import MlflowException

    try:
        return str(download_artifacts(artifact_uri=artifact_uri, dst_path=into))
    except (MlflowException, OSError) as exc:
        raise UsageError(f"cannot download {artifact_uri[:300]}: {str(exc)[:300]}") from None
