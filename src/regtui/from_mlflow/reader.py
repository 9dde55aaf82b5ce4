"""Read an MLflow registry through MLflow's own client. The only module of regtui
that imports MLflow, and only when `read` is called: `pip install 'regtui[mlflow]'`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from regtui.errors import UsageError
from regtui.from_mlflow.registry import MlflowModel, MlflowVersion, Registry, Run

PAGE = 1000


DATABASES = ("postgresql", "mysql", "mssql", "oracle")
# What every MLflow tracking database holds (its registry and its runs)
MLFLOW_TABLES = {"experiments", "runs", "registered_models", "model_versions"}


def shown(uri: str) -> str:
    """The URI as it may be printed and recorded: any password in it hidden."""
    try:
        parsed = urlsplit(uri)
        if parsed.password is None:
            return uri
    except ValueError:
        return "<an unreadable URI>"
    host = parsed.netloc.rpartition("@")[2]
    return urlunsplit(parsed._replace(netloc=f"{parsed.username or ''}:***@{host}"))


def _check_store(uri: str) -> None:
    """Open only an MLflow store that is already there: pointed anywhere else, MLflow
    makes one (its tables in any database, a SQLite file or folders wherever asked),
    and a server that does not answer keeps its client retrying for minutes."""
    try:
        parsed = urlsplit(uri)
    except ValueError as exc:
        raise UsageError(f"not a tracking URI: {shown(uri)[:300]} ({exc})") from None
    scheme = parsed.scheme.split("+")[0]
    if scheme in ("http", "https"):
        _server_answers(uri)
    elif scheme == "sqlite":
        path = Path(unquote(parsed.path[1:]))  # sqlite:///rel.db, sqlite:////abs.db
        if not path.is_file():
            raise UsageError(f"no MLflow database at {str(path)[:300]}")
        _has_mlflow_tables(str(path), _sqlite_tables(path))
    elif scheme in ("", "file") and not parsed.netloc:
        path = Path(unquote(parsed.path) if scheme else uri)
        if not path.is_dir():
            raise UsageError(f"no MLflow tracking folder at {str(path)[:300]}")
        if not _is_file_store(path):
            raise UsageError(
                f"{str(path)[:300]} is not an MLflow tracking folder (no experiment in it)"
            )
    elif scheme in DATABASES:
        _has_mlflow_tables(shown(uri), _database_tables(uri))


def _has_mlflow_tables(where: str, tables: set[str]) -> None:
    missing = sorted(MLFLOW_TABLES - tables)
    if missing:
        raise UsageError(f"{where[:300]} is not an MLflow database (no {missing[0]} table)")


def _sqlite_tables(path: Path) -> set[str]:
    import sqlite3
    from urllib.request import pathname2url

    try:
        con = sqlite3.connect(f"file:{pathname2url(str(path.absolute()))}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise UsageError(f"{str(path)[:300]} is not an MLflow database ({exc})") from None
    return {str(r[0]) for r in rows}


def _is_file_store(path: Path) -> bool:
    """A folder MLflow's file store made: its trash, or an experiment's meta.yaml."""
    if (path / ".trash").is_dir():
        return True
    for i, child in enumerate(path.iterdir()):
        if i >= 1000:
            break
        if child.name.isdigit() and (child / "meta.yaml").is_file():
            return True
    return False


def _database_tables(uri: str) -> set[str]:
    """The tables of a database store, asked within seconds (MLflow itself retries a
    refused connection for minutes)."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.exc import SQLAlchemyError

    scheme = urlsplit(uri).scheme.split("+")[0]
    args = {"connect_timeout": 10} if scheme in ("postgresql", "mysql") else {}
    try:
        engine = create_engine(uri, connect_args=args)
        try:
            with engine.connect() as conn:
                return set(inspect(conn).get_table_names())
        finally:
            engine.dispose()
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
        raise UsageError(f"cannot reach the MLflow database {shown(uri)}: {first}") from None


def _server_answers(uri: str) -> None:
    """A tracking server answers at all (any HTTP status will do), or one clear error:
    MLflow's client retries a refused connection for minutes."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=10):
            return
    except urllib.error.HTTPError:
        return  # it answered
    except (urllib.error.URLError, OSError, ValueError) as exc:
        why = getattr(exc, "reason", exc)
        raise UsageError(f"cannot reach the MLflow server {shown(uri)[:300]}: {why}") from None


def _client(tracking_uri: str, registry_uri: str | None) -> Any:
    # A plain folder store is refused by MLflow 3 unless allowed; reading one is fine.
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # ours is on stderr
    try:
        from mlflow import MlflowClient
    except ImportError:
        raise UsageError(
            "import-mlflow reads through MLflow's own client, which is not installed here: "
            "pip install 'regtui[mlflow]'"
        ) from None
    for uri in dict.fromkeys((tracking_uri, registry_uri or tracking_uri)):
        _check_store(uri)
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
) -> Registry:
    """Every registered model (or those named in `only`), every version, its run."""
    client = _client(tracking_uri, registry_uri)
    from mlflow.exceptions import MlflowException

    try:
        return _read(client, tracking_uri, registry_uri, set(only))
    except MlflowException as exc:
        first = (str(getattr(exc, "message", exc)).strip().splitlines() or ["?"])[0][:300]
        raise UsageError(f"MLflow at {shown(tracking_uri)}: {first}") from None


def _read(
    client: Any,
    tracking_uri: str,
    registry_uri: str | None,
    only: set[str],
) -> Registry:
    models: dict[str, MlflowModel] = {}
    aliases: dict[tuple[str, int], list[str]] = {}
    for rm in _pages(client.search_registered_models):
        if only and rm.name not in only:
            continue
        models[rm.name] = MlflowModel(
            rm.name,
            _time(rm.creation_timestamp),
            _time(rm.last_updated_timestamp),
            rm.description or None,
            dict(rm.tags or {}),
        )
        for alias, number in (rm.aliases or {}).items():
            aliases.setdefault((rm.name, int(number)), []).append(alias)
    missing = sorted(only - set(models))
    if missing:
        raise UsageError(
            f"no registered model named {missing[0]!r} in MLflow at {shown(tracking_uri)}"
        )
    found = [
        mv
        for mv in _pages(lambda **kw: client.search_model_versions(None, **kw))
        if mv.name in models
    ]
    runs = _runs(client, {mv.run_id for mv in found if mv.run_id})
    download_uri = _download_uri_reader(client)
    for mv in found:
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
                artifact_uri=str(download_uri(mv.name, mv.version)),
                run=runs.get(mv.run_id) if mv.run_id else None,
            )
        )
    for m in models.values():
        m.versions.sort(key=lambda v: v.number)
    return Registry(
        tracking_uri, registry_uri or tracking_uri, sorted(models.values(), key=lambda m: m.name)
    )


def _download_uri_reader(client: Any) -> Callable[[str, Any], Any]:
    """MlflowClient.get_model_version_download_uri first re-reads the whole model (to
    refuse prompts), which makes a registry's versions cost their count squared; its
    registry client answers the same question directly. The public call where that
    is missing (another MLflow)."""
    registry = getattr(client, "_get_registry_client", None)
    try:
        return registry().get_model_version_download_uri  # type: ignore[no-any-return]
    except (TypeError, AttributeError):
        return client.get_model_version_download_uri  # type: ignore[no-any-return]


RUNS_PER_QUERY = 100


def _runs(client: Any, run_ids: set[str]) -> dict[str, Run]:
    """The runs, fetched a hundred to a query (one get_run each costs ms apiece); a run
    deleted or kept in another tracking store is simply absent."""
    from mlflow.entities import ViewType

    experiments = {
        e.experiment_id: e.name
        for e in _pages(lambda **kw: client.search_experiments(view_type=ViewType.ALL, **kw))
    }
    wanted = sorted(run_ids)
    out: dict[str, Run] = {}
    for i in range(0, len(wanted), RUNS_PER_QUERY):
        chunk = wanted[i : i + RUNS_PER_QUERY]
        listed = ", ".join("'" + r.replace("'", "") + "'" for r in chunk)
        found = _pages(
            lambda listed=listed, **kw: client.search_runs(
                list(experiments),
                filter_string=f"attributes.run_id IN ({listed})",
                run_view_type=ViewType.ALL,
                **kw,
            )
        )
        for r in found:
            out[r.info.run_id] = _run_of(r, experiments)
    return out


def _run_of(r: Any, experiments: dict[str, str]) -> Run:
    eid = str(r.info.experiment_id)
    tags = r.data.tags or {}
    return Run(
        run_id=r.info.run_id,
        experiment_id=eid,
        experiment=experiments.get(eid),
        metrics={k: float(v) for k, v in (r.data.metrics or {}).items()},
        params={k: str(v) for k, v in (r.data.params or {}).items()},
        user=tags.get("mlflow.user") or r.info.user_id or None,
        git_commit=tags.get("mlflow.source.git.commit"),
        source_name=tags.get("mlflow.source.name"),
        run_name=tags.get("mlflow.runName") or getattr(r.info, "run_name", None),
    )


def download(artifact_uri: str, into: str, tracking_uri: str) -> str:
    """Fetch a version's files from a remote artifact store through MLflow (an
    `mlflow-artifacts:` URI through the tracking server); the local folder (or file)
    they landed in."""
    from mlflow.artifacts import download_artifacts
    from mlflow.exceptions import MlflowException

    try:
        got = download_artifacts(
            artifact_uri=artifact_uri, dst_path=into, tracking_uri=tracking_uri
        )
        return str(got)
    except (MlflowException, OSError) as exc:
        first = (str(getattr(exc, "message", exc)).strip().splitlines() or ["?"])[0][:300]
        raise UsageError(f"cannot download {artifact_uri[:300]}: {first}") from None
