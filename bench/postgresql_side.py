"""The catalog rows again on PostgreSQL, and the team of concurrent clients.

Results go into the run's dict under "pg:<key>" with the same shape as the SQLite
measurement of <key>, so `bench.run.rows_from` prints both with one code path.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import regtui_side as ours
from bench.common import BENCH_DIR, VENV_PY, Row, fmt_s, run_json
from bench.fixtures import MODEL
from bench.pg import Server, cached_pg_catalog, url_as
from bench.sizes import Sizes
from bench.team_clients import prepare, run_team

PREFIX = "pg:"
READ_P99, WRITE_P99 = 0.050, 0.100

Step = Callable[[dict[str, Any], str, Callable[[], Any]], None]


def measure(
    r: dict[str, Any],
    sz: Sizes,
    work: Path,
    srv: Server,
    step: Step,
    *,
    filters: dict[str, str],
    across: dict[str, str],
    across_models: int,
) -> None:
    """Every catalog row that makes sense on a server: register, list (API), the
    filters, the filters across models, promote/rollback, the TUI; then the team."""
    step(r, "pg:server", lambda: {"start_s": srv.get() and srv.start_s})
    if "error" in r["pg:server"]:
        return
    server = srv.get()
    step(r, "pg:register", lambda: ours.register_one_each(work, sz.register, server.new_database()))
    big_url, rate = cached_pg_catalog(server, sz.big)
    across_url, _ = cached_pg_catalog(server, sz.big, models=across_models)
    r["pg:generate"] = {"big_per_s": rate}
    step(r, "pg:list_big_api", lambda: ours.list_api(big_url))
    for key, where in filters.items():
        step(r, PREFIX + key, lambda where=where: ours.filter_api(big_url, where))
    for key, where in across.items():
        step(r, PREFIX + key, lambda where=where: ours.filter_page_api(across_url, where))
    step(r, "pg:stages", lambda: ours.stage_moves(big_url, work / "pg"))
    step(
        r,
        "pg:tui",
        lambda: run_json(
            [str(VENV_PY), str(BENCH_DIR / "tui_probe.py"), big_url, MODEL, str(sz.tui_keys)],
            timeout=600,
        ),
    )
    step(r, "pg:team", lambda: team(sz, work, srv))


def team(sz: Sizes, work: Path, srv: Server) -> dict[str, Any]:
    """The mix of bench/team_clients.py on a fresh database, each client its own role."""
    server = srv.get()
    url = server.new_database()
    prepare(url, work / "team", sz.team_models, sz.team_versions)
    return run_team(
        url,
        work / "team",
        clients=sz.team_clients,
        ops=sz.team_ops,
        models=sz.team_models,
        versions=sz.team_versions,
        role_url=url_as,
    )


def team_rows(r: dict[str, Any], sz: Sizes) -> list[Row]:
    d = r.get("pg:team")
    n = sz.team_clients
    what = f"{n} clients at once (90% reads / 10% writes), ops/s"
    if not isinstance(d, dict) or "error" in d:
        why = d.get("error", "not measured") if isinstance(d, dict) else "not measured"
        return [Row(what, "n/a", target="0 errors", note=why, backend="postgresql")]
    errors, gaps = d["errors"], d["gaps"]
    whole = not errors and not gaps and d["chain_ok"] and d["state_ok"]
    rows = [
        Row(
            what,
            f"{d['per_s']:,.0f}/s",
            "-",
            None,
            "0 errors, gapless, chain ok",
            whole,
            note=f"{d['ops_done']:,} operations by {len(d['roles'])} roles in "
            f"{fmt_s(d['wall_s'])}; errors: {len(errors)}"
            + (f" (first: {errors[0]})" if errors else "")
            + f"; gaps: {len(gaps)} models; chain of {d['chain_events']:,} events "
            + ("verifies" if d["chain_ok"] and d["state_ok"] else f"FAILS: {d['chain_problem']}"),
            backend="postgresql",
        )
    ]
    for kind, limit in (("reads", READ_P99), ("writes", WRITE_P99)):
        x = d[kind]
        per_op = ", ".join(
            f"{op} {fmt_s(o['p50_s'])}/{fmt_s(o['p99_s'])} ({o['n']})"
            for op, o in d["ops"].items()
            if (op in ("list", "show", "resolve", "filter")) == (kind == "reads")
        )
        rows.append(
            Row(
                f"{n} clients at once: {kind} p50 / p99",
                f"{fmt_s(x['p50_s'])} / {fmt_s(x['p99_s'])}",
                f"≤ {fmt_s(limit)}",
                x["p99_s"] / limit,
                f"p99 ≤ {fmt_s(limit)}",
                x["p99_s"] <= limit,
                note=f"{x['n']:,} {kind}; per operation p50/p99 (count): {per_op}",
                backend="postgresql",
            )
        )
    return rows


def tui_rows(r: dict[str, Any], n_big: str) -> list[Row]:
    """The TUI's first screen and filter Enter on PostgreSQL (the keys that only
    move in memory are the SQLite rows' business)."""
    d = r.get("pg:tui")
    if not isinstance(d, dict):
        return []
    if "error" in d:
        return [
            Row(f"TUI first screen @{n_big}", "n/a", target="≤ 1 s", note=d["error"],
                backend="postgresql")
        ]  # fmt: skip
    return [
        Row(
            f"TUI first screen @{n_big}",
            fmt_s(d["first_screen_s"]),
            "≤ 1 s",
            d["first_screen_s"],
            "≤ 1 s",
            d["first_screen_s"] <= 1.0,
            note=f"process start → rows: {fmt_s(d['process_to_first_screen_s'])}",
            backend="postgresql",
        ),
        Row(
            "TUI filter Enter → filtered rows",
            fmt_s(d["filter_apply_s"]),
            "≤ 50 ms",
            d["filter_apply_s"] / 0.05,
            "≤ 50 ms",
            d["filter_apply_s"] <= 0.05,
            note=f"{d['filter_total']:,} rows match",
            backend="postgresql",
        ),
    ]
