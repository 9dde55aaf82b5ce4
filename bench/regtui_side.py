"""regtui's side of each row, measured in this process (or in short subprocesses)."""

from __future__ import annotations

import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import REGTUI_BIN, VENV_PY, median, repeat, run_cmd_times, timed
from bench.fixtures import MODEL, write_small_artifacts

CHUNK = 1 << 20


def is_url(db: Path | str) -> bool:
    return str(db).startswith("postgresql")


def open_catalog(db: Path | str, user: str = "bench") -> Any:
    """A Catalog on a file (acting as `user`) or a PostgreSQL URL (acting as the
    URL's role: the server says who acts there, and a claimed name is refused)."""
    from regtui.catalog.service import Catalog

    return Catalog(db, user=None if is_url(db) else user)


def register_one_each(work: Path, n: int, db: Path | str | None = None) -> dict[str, Any]:
    """`Catalog.register` once per file on a fresh catalog (hash + inspect + one
    transaction); `db`: that empty catalog (default: a new SQLite file in `work`)."""
    files = write_small_artifacts(work / "register" / MODEL, n)
    times = []
    with open_catalog(db or work / "register.db") as cat:
        for i, p in enumerate(files):
            t0 = time.perf_counter()
            cat.register(p, MODEL, metrics={"auc": i / n}, params={"i": i}, tags={"k": "v"})
            times.append(time.perf_counter() - t0)
    return {"n": n, "median_s": median(times), "per_s": n / sum(times)}


def import_mlflow(mlflow_db: Path, work: Path) -> dict[str, Any]:
    """`regtui import-mlflow` of the registry MLflow built, as a user runs it: one
    command into a fresh catalog (process start and MLflow's import included)."""
    import json
    import subprocess

    env = {**os.environ, "REGTUI_DB": str(work / "imported.db"), "REGTUI_USER": "bench"}
    t0 = time.perf_counter()
    done = subprocess.run(
        [str(REGTUI_BIN), "import-mlflow", f"sqlite:///{mlflow_db}", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1][:300] if done.stderr else "failed")
    steps = json.loads(done.stdout)["steps"]
    return {"seconds": seconds, "versions": sum(s["action"] == "version" for s in steps)}


def scan_small(work: Path, n: int) -> dict[str, Any]:
    """`regtui.catalog.scan.scan` over a fresh folder of n small artifacts, fresh catalog."""
    from regtui.catalog.service import Catalog

    root = work / "scan"
    write_small_artifacts(root / MODEL, n)
    with Catalog(work / "scan.db", user="bench") as cat:
        try:
            from regtui.catalog.scan import scan

            scan_fn, mode = scan, "scan()"
            from regtui.inspect import is_artifact_candidate  # noqa: F401  (scan needs it)
        except ImportError as exc:
            scan_fn, mode = _scan_equivalent, f"scan-equivalent ({exc})"
        dt, items = timed(lambda: scan_fn(cat, [root]))
        registered = sum(1 for it in items if getattr(it, "outcome", "") == "registered")
    return {"n": n, "seconds": dt, "per_s": registered / dt, "registered": registered, "mode": mode}


def _scan_equivalent(cat: Any, roots: list[Path]) -> list[Any]:
    """What scan() does when regtui.inspect lacks the walk helpers: walk, prepare in a
    thread pool, add_candidates in batches of 500."""
    from regtui.catalog.records import ScanItem

    paths = sorted(p for r in roots for p in r.rglob("*.safetensors"))
    items: list[Any] = []
    pending: list[Any] = []

    def flush() -> None:
        for c, res in zip(pending, cat.add_candidates(pending), strict=True):
            items.append(
                ScanItem(
                    str(c.path), c.model, "registered" if res.created else "exists", res.version
                )
            )
        pending.clear()

    with ThreadPoolExecutor(max_workers=min(4, (os.cpu_count() or 1) + 1)) as pool:
        for cand in pool.map(lambda p: cat.prepare(p, p.parent.name, root=roots[0]), paths):
            pending.append(cand)
            if len(pending) >= 500:
                flush()
    flush()
    return items


def list_api(db: Path | str, *, budget_s: float = 20.0) -> dict[str, Any]:
    with open_catalog(db) as cat:
        count = len(cat.versions(MODEL))  # warm the page cache and SQLAlchemy's statement cache
        times = repeat(lambda: cat.versions(MODEL), reps=3, budget_s=budget_s)
    return {
        "median_s": median(times),
        "count": count,
        "reps": len(times),
        "driver_s": _bare_fetch_pg(str(db), budget_s) if is_url(db) else _bare_fetch(db, budget_s),
        "driver": "psycopg" if is_url(db) else "sqlite3",
    }


BARE_SQL = (
    "SELECT version.*, model.name FROM version JOIN model ON model.id = version.model_id "
    "WHERE model.name = ? ORDER BY version.number"
)


def _bare_fetch(db: Path | str, budget_s: float) -> float:
    """The limit under the API: the stdlib driver fetching the same rows, no records."""
    import sqlite3

    from regtui.settings import sqlite_uri

    con = sqlite3.connect(sqlite_uri(db, "ro"), uri=True)
    sql = BARE_SQL
    try:
        return median(
            repeat(lambda: con.execute(sql, (MODEL,)).fetchall(), reps=3, budget_s=budget_s)
        )
    finally:
        con.close()


def _bare_fetch_pg(url: str, budget_s: float) -> float:
    """The same limit on PostgreSQL: psycopg fetching the same rows (JSONB decoded
    by the driver, as it is for the API)."""
    import psycopg

    sql = BARE_SQL.replace("?", "%s")
    with psycopg.connect(url) as con:
        return median(
            repeat(lambda: con.execute(sql, (MODEL,)).fetchall(), reps=3, budget_s=budget_s)
        )


def list_cli(db: Path, *, reps: int = 3) -> dict[str, Any]:
    argv = [str(REGTUI_BIN), "--db", str(db), "versions", MODEL, "--json"]
    return {"median_s": median(run_cmd_times(argv, reps=reps))}


def filter_api(db: Path | str, where: str) -> dict[str, Any]:
    with open_catalog(db) as cat:
        count = len(cat.versions(MODEL, where=where))
        times = repeat(lambda: cat.versions(MODEL, where=where), reps=7, budget_s=5)
    return {"median_s": median(times), "count": count, "where": where}


def filter_page_api(db: Path | str, where: str, *, limit: int = 50) -> dict[str, Any]:
    """`Catalog.versions(None, where=..., limit=...)`: the first page of a filter
    across every model, as `regtui versions --filter EXPR --limit N` and a results
    view ask it."""
    with open_catalog(db) as cat:
        page = len(cat.versions(None, where=where, limit=limit))  # warm, as filter_api
        times = repeat(lambda: cat.versions(None, where=where, limit=limit), reps=7, budget_s=5)
        count = cat.count_versions(where=where)
        models = len(cat.models())
    return {
        "median_s": median(times),
        "page": page,
        "count": count,
        "models": models,
        "where": where,
        "limit": limit,
    }


def stage_moves(db: Path | str, work: Path, reps: int = 5, model: str = MODEL) -> dict[str, Any]:
    """approve, promote (to protected `production`) and rollback on a model with many versions.

    The versions moved are new real files registered on top of the bulk ones, because a
    promotion keeps a copy of the artifact.
    """
    files = write_small_artifacts(work / "stage-files" / model, reps + 1, start=10_000_000)
    with open_catalog(db, "bench-reviewer") as cat:
        refs = [cat.register(p, model).ref for p in files]
        approve = [timed(lambda r=r: cat.approve(r, "bench"))[0] for r in refs]
        promote = [timed(lambda r=r: cat.promote(r, "production"))[0] for r in refs]
        rollback = [timed(lambda: cat.rollback(model, "production"))[0] for _ in range(reps)]
        count = cat.count_versions(model)
    return {
        "versions": count,
        "approve_s": median(approve),
        "promote_s": median(promote),
        "rollback_s": median(rollback),
    }


def hashlib_file(path: Path) -> float:
    """The limit: hashlib sha256 over the file, 1 MiB readinto, one core. Wall seconds."""
    return _hashlib_file(path)[0]


def _hashlib_file(path: Path) -> tuple[float, float]:
    """(wall, this thread's CPU) seconds of the hashlib loop."""
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    t0, c0 = time.perf_counter(), time.thread_time()
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(view):
            h.update(view[:n])
    h.hexdigest()
    return time.perf_counter() - t0, time.thread_time() - c0


def hash_big(path: Path, reps: int = 3) -> dict[str, Any]:
    """hash_file vs the hashlib loop, interleaved, best of `reps` each.

    The ratio uses CPU time of the hashing thread (time.thread_time): single-threaded
    hashing is CPU-bound, and CPU seconds do not count the time neighbours on this
    shared machine take the core away. Wall-clock rates are kept in the JSON too.
    """
    from regtui.hashing import hash_file

    size = path.stat().st_size
    hashlib_file(path)  # warm the page cache
    base: list[tuple[float, float]] = []
    ours: list[tuple[float, float]] = []
    for _ in range(reps):
        base.append(_hashlib_file(path))
        t0, c0 = time.perf_counter(), time.thread_time()
        hash_file(path)
        ours.append((time.perf_counter() - t0, time.thread_time() - c0))
    return {
        "bytes": size,
        "regtui_gbps": size / min(c for _, c in ours) / 1e9,
        "hashlib_gbps": size / min(c for _, c in base) / 1e9,
        "regtui_wall_gbps": size / min(w for w, _ in ours) / 1e9,
        "hashlib_wall_gbps": size / min(w for w, _ in base) / 1e9,
        "reps": reps,
    }


def hashlib_parallel(files: list[Path]) -> float:
    """The all-cores limit: hashlib over the files in one thread per core. GB/s."""
    total = sum(p.stat().st_size for p in files)
    with ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, len(files))) as pool:
        dt, _ = timed(lambda: list(pool.map(hashlib_file, files)))
    return total / dt / 1e9


def hash_many(work: Path, files: list[Path], reps: int = 2) -> dict[str, Any]:
    """scan() of a folder of big files: do they hash on all cores at once?
    Interleaved with the limit (hashlib, one thread per core); best of `reps` each."""
    from regtui.catalog.service import Catalog

    total = sum(p.stat().st_size for p in files)
    for p in files:
        hashlib_file(p)  # page cache
    try:
        from regtui.catalog.scan import scan
        from regtui.inspect import is_artifact_candidate  # noqa: F401

        fn, mode = scan, "scan()"
    except ImportError:
        fn, mode = _scan_equivalent, "scan-equivalent"
    limits, ours = [], []
    for i in range(reps):
        limits.append(hashlib_parallel(files))
        with Catalog(work / f"hash-many-{i}.db", user="bench") as cat:
            ours.append(total / timed(lambda: fn(cat, [files[0].parent.parent]))[0] / 1e9)
    return {
        "gbps": max(ours),
        "limit_gbps": max(limits),
        "files": len(files),
        "mode": mode,
        "cores": os.cpu_count(),
    }


def cold_start(db: Path, reps: int = 7) -> dict[str, Any]:
    env = {**os.environ, "REGTUI_DB": str(db)}
    py = median(run_cmd_times([str(VENV_PY), "-c", "pass"], reps=reps))
    ver = median(run_cmd_times([str(REGTUI_BIN), "--version"], reps=reps, env=env))
    models = median(run_cmd_times([str(REGTUI_BIN), "models"], reps=reps, env=env))
    show = median(
        run_cmd_times([str(REGTUI_BIN), "show", f"{MODEL}:1", "--json"], reps=reps, env=env)
    )
    return {"python_s": py, "version_s": ver, "models_s": models, "show_s": show}
