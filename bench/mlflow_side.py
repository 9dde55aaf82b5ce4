"""The peer: MLflow's Model Registry on SQLite. Run with the MLflow venv's Python.

Prints one JSON object on the last line of stdout. Standard library + mlflow only;
it does not import regtui or the rest of bench/.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

MODEL = "bench-model"


def _client(db: Path) -> Any:
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{db}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _create_versions(client: Any, n: int, start: int, tags: bool) -> list[float]:
    times = []
    for i in range(start, start + n):
        t0 = time.perf_counter()
        client.create_model_version(
            MODEL,
            source=f"/bench/runs/{MODEL}/model-{i:06d}.safetensors",
            tags={"team": f"team-{i % 100}"} if tags else None,
        )
        times.append(time.perf_counter() - t0)
    return times


def _fresh(db: Path) -> Any:
    client = _client(db)
    client.create_registered_model(MODEL)  # also runs MLflow's migrations (not timed)
    return client


def _big_db(cache: Path, n: int, version: str, log: dict[str, Any]) -> Path:
    """An MLflow DB with n versions, built once and reused while n and MLflow match."""
    cache.mkdir(parents=True, exist_ok=True)
    cached = cache / f"mlflow-{version}-{n}.db"
    if cached.exists():
        log["big_db"] = {"reused": True, "path": str(cached)}
        return cached
    tmp = cached.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    client = _fresh(tmp)
    t0 = time.perf_counter()
    _create_versions(client, n, 0, tags=True)
    log["big_db"] = {"reused": False, "build_s": time.perf_counter() - t0, "path": str(cached)}
    tmp.rename(cached)
    return cached


def _import_source(folder: Path, n: int) -> dict[str, Any]:
    """A registry as training code makes one, for `regtui import-mlflow` to read: per
    version a run (two metrics, a param) and a version whose source is a small MLflow
    model folder of its own. Times what MLflow took to create them."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "mlflow.db"
    client = _client(db)
    client.create_registered_model("import-model")  # also runs the migrations (not timed)
    experiment = client.create_experiment("bench")
    runs_s = versions_s = 0.0
    for i in range(n):
        model = folder / "models" / f"m{i:05d}"
        model.mkdir(parents=True)
        (model / "MLmodel").write_text(
            "artifact_path: model\nflavors:\n  python_function:\n    loader_module: x\n"
            f"model_uuid: {i:032x}\n"
        )
        (model / "weights.bin").write_bytes(i.to_bytes(8, "little") * 64)
        t0 = time.perf_counter()
        run = client.create_run(experiment)
        client.log_metric(run.info.run_id, "auc", 0.5 + i / (2 * n))
        client.log_metric(run.info.run_id, "loss", 1.0 - i / (2 * n))
        client.log_param(run.info.run_id, "lr", "0.01")
        t1 = time.perf_counter()
        client.create_model_version("import-model", source=str(model), run_id=run.info.run_id)
        t2 = time.perf_counter()
        runs_s += t1 - t0
        versions_s += t2 - t1
    return {"n": n, "db": str(db), "create_s": runs_s + versions_s, "versions_s": versions_s}


def _median_of(fn: Any, reps: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--register", type=int, default=1000)
    ap.add_argument("--big", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--import-versions", type=int, default=0)
    ap.add_argument("--import-dir", type=Path)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")

    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    import mlflow

    out["import_s"] = time.perf_counter() - t0
    out["mlflow_version"] = mlflow.__version__

    work = Path(tempfile.mkdtemp(prefix="bench-mlflow-"))
    try:
        # create_model_version, one call each, on a fresh registry
        client = _fresh(work / "register.db")
        times = _create_versions(client, args.register, 0, tags=False)
        out["register"] = {
            "n": args.register,
            "median_s": statistics.median(times),
            "per_s": args.register / sum(times),
        }

        # reads and stage moves at `big` versions, on a copy of the cached DB
        big = _big_db(args.cache, args.big, mlflow.__version__, out)
        db = work / "big.db"
        shutil.copyfile(big, db)
        client = _client(db)
        s, res = _median_of(lambda: client.search_model_versions(f"name='{MODEL}'"), args.reps)
        out["search_all"] = {"n": args.big, "median_s": s, "count": len(res)}
        flt = f"name='{MODEL}' and tag.team='team-7'"
        s, res = _median_of(lambda: client.search_model_versions(flt), args.reps)
        out["search_tag"] = {"n": args.big, "median_s": s, "count": len(res)}

        versions = iter(range(args.big, args.big - 100, -1))
        s, _ = _median_of(
            lambda: client.set_registered_model_alias(MODEL, "champion", str(next(versions))),
            args.reps,
        )
        out["set_alias"] = {"n": args.big, "median_s": s}
        try:
            s, _ = _median_of(
                lambda: client.transition_model_version_stage(
                    MODEL, str(next(versions)), "Production", archive_existing_versions=False
                ),
                args.reps,
            )
            out["transition_stage"] = {"n": args.big, "median_s": s}
        except Exception as exc:  # deprecated in MLflow 3; may go away
            out["transition_stage"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        if args.import_versions and args.import_dir:
            out["import_source"] = _import_source(args.import_dir, args.import_versions)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
