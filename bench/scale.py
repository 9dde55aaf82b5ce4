"""`--size 1m`: a million versions over a thousand models, on each backend.

The catalog is bulk-written through `Catalog.add_candidates` (bench/fixtures.py) and
cached in bench/.cache like the 100k one (a SQLite file; a pg_dump archive for
PostgreSQL). Rows: a model's first page, the TUI's first screen, filters across every
model (first page), promote, rollback, `regtui audit --verify` of every event, and the
catalog's size on disk.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import regtui_side as ours
from bench.common import BENCH_DIR, REGTUI_BIN, VENV_PY, Row, fmt_s, median, repeat, run_json
from bench.fixtures import cached_catalog, model_name
from bench.sizes import Sizes, label

FILTERS = {
    "metric": "metrics.auc > 0.999",
    "tag": "tags.team = 'team-7'",
    "metric and tag": "tags.team = 'team-7' and metrics.auc > 0.9",
}
PAGE = 50
Step = Callable[[dict[str, Any], str, Callable[[], Any]], None]


def measure(r: dict[str, Any], sz: Sizes, work: Path, backend: str, srv: Any, step: Step) -> None:
    key = f"scale:{backend}:"
    model = model_name(sz.scale_models // 2, sz.scale_models)
    t0 = time.perf_counter()
    if backend == "sqlite":
        db: Path | str
        db, rate = cached_catalog(sz.scale, work / "scale.db", models=sz.scale_models)
    else:
        from bench.pg import cached_pg_catalog

        db, rate = cached_pg_catalog(srv.get(), sz.scale, models=sz.scale_models)
    r[key + "catalog"] = {"per_s": rate, "ready_s": time.perf_counter() - t0}
    step(r, key + "size", lambda: {"bytes": size_on_disk(db, srv)})
    step(r, key + "first_page", lambda: first_page(db, model))
    for name, where in FILTERS.items():
        step(r, key + "filter " + name, lambda where=where: ours.filter_page_api(db, where))
    step(r, key + "stages", lambda: ours.stage_moves(db, work / f"scale-{backend}", model=model))
    step(
        r,
        key + "tui",
        lambda: run_json(
            [str(VENV_PY), str(BENCH_DIR / "tui_probe.py"), str(db), "-", "3"], timeout=900
        ),
    )
    step(r, key + "audit", lambda: audit_verify(db))


def size_on_disk(db: Path | str, srv: Any) -> int:
    if isinstance(db, Path):
        return sum(
            p.stat().st_size for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()
        )
    from bench.pg import database_size

    return database_size(srv.get(), db)


def first_page(db: Path | str, model: str) -> dict[str, Any]:
    """The first page of one model's versions, newest first (what a list view shows)."""
    with ours.open_catalog(db) as cat:
        cat.versions(model, newest_first=True, limit=PAGE)  # warm, as the other rows
        times = repeat(lambda: cat.versions(model, newest_first=True, limit=PAGE), reps=7)
        count = cat.count_versions(model)
    return {"median_s": median(times), "count": count, "model": model}


def audit_verify(db: Path | str) -> dict[str, Any]:
    """`regtui audit --verify` as a user runs it (its own process); its stderr is
    passed through so any progress it prints shows while the bench waits."""
    env = {**os.environ, "REGTUI_DB": str(db), "REGTUI_USER": "bench"}
    t0 = time.perf_counter()
    done = subprocess.run(
        [str(REGTUI_BIN), "audit", "--verify", "--json"],
        stdout=subprocess.PIPE,
        stderr=None,  # inherited: what it prints on stderr shows as the bench waits
        text=True,
        env=env,
        timeout=3600,
    )
    seconds = time.perf_counter() - t0
    import json

    out = json.loads(done.stdout) if done.stdout.strip() else {}
    if done.returncode != 0 or not out.get("ok"):
        raise RuntimeError(f"audit --verify exit {done.returncode}: {str(out)[:300]}")
    return {"seconds": seconds, "events": out.get("events")}


def rows(r: dict[str, Any], sz: Sizes, backends: list[str]) -> list[Row]:
    n = label(sz.scale)
    out: list[Row] = []
    for be in backends:
        key = f"scale:{be}:"
        if key + "catalog" not in r:
            continue

        def err(d: Any) -> str | None:
            if not isinstance(d, dict):
                return "not measured"
            return d.get("error")

        def add(
            what: str,
            d: Any,
            value: Callable[[], tuple[str, float, float, str]],
            be: str = be,
        ) -> None:
            """value() → (shown, seconds or measure, limit, note)."""
            if err(d):
                out.append(Row(what, "n/a", note=str(err(d)), backend=be))
                return
            shown, x, limit, note = value()
            target = f"≤ {fmt_s(limit)}"
            out.append(Row(what, shown, target, x / limit, target, x <= limit, note, backend=be))

        def within_50ms(what: str, d: Any, note: Callable[[Any], str]) -> None:
            add(what, d, lambda: (fmt_s(d["median_s"]), d["median_s"], 0.05, note(d)))

        within_50ms(
            f"first page of a model @{n} ({sz.scale_models:,} models)",
            r.get(key + "first_page"),
            lambda d: f"{d['model']}: newest {PAGE} of {d['count']:,}",
        )
        d = r.get(key + "tui")
        add(
            f"TUI first screen @{n}",
            d,
            lambda d=d: (
                fmt_s(d["first_screen_s"]),
                d["first_screen_s"],
                1.0,
                f"process start → rows: {fmt_s(d['process_to_first_screen_s'])}",
            ),
        )
        for name in FILTERS:
            within_50ms(
                f"filter by {name} across all models @{n}, first page",
                r.get(key + "filter " + name),
                lambda d: f"`{d['where']}`: first {d['page']} of {d['count']:,} matches",
            )
        d = r.get(key + "stages")
        for k, name in (("promote_s", "promote"), ("rollback_s", "rollback")):
            add(
                f"{name} @{n}",
                d,
                lambda d=d, k=k: (
                    fmt_s(d[k]),
                    d[k],
                    0.010,
                    f"approve: {fmt_s(d['approve_s'])}" if k == "promote_s" else "",
                ),
            )
        d = r.get(key + "audit")
        add(
            f"audit --verify of every event @{n}",
            d,
            lambda d=d: (
                fmt_s(d["seconds"]),
                d["seconds"],
                10.0,
                f"{d['events']:,} events, chain and table replay, the whole process",
            ),
        )
        d, c = r.get(key + "size"), r[key + "catalog"]
        made = (
            f"generated at {c['per_s']:,.0f} versions/s"
            if c.get("per_s")
            else f"restored from bench/.cache in {fmt_s(c['ready_s'])}"
        )
        if err(d):
            out.append(Row(f"catalog size on disk @{n}", "n/a", note=str(err(d)), backend=be))
        else:
            size = "pg_database_size" if be == "postgresql" else "file size"
            out.append(
                Row(
                    f"catalog size on disk @{n}",
                    f"{d['bytes'] / 2**20:,.0f} MiB",
                    note=f"{size}; {d['bytes'] / sz.scale:,.0f} bytes a version; {made}",
                    backend=be,
                )
            )
    return out
