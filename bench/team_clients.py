"""Many people on one PostgreSQL catalog at once: client processes, each its own
database role and `Catalog`, running a seeded mix of 90% reads (a model's first
page, show, resolve, a filter) and 10% writes (register, approve, promote).

The writes are chosen so that none is refused by design: a client approves only a
version it registered and has not approved, and promotes only one it approved, so
every exception is an error. At the end: every model's version numbers are 1..N
without a gap, and the audit chain and the tables' replay verify.

`run_team` is what `bench.run` and tests/system/test_team_clients.py both call, so
the test holds the benchmark's mix honest.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

READS = ("list", "show", "resolve", "filter")
WRITES = ("register", "approve", "promote")
WRITE_SHARE = 0.10
PAGE = 50
FILTERS = (
    "metrics.auc > 0.9",
    "tags.team = 'team-7'",
    "metrics.auc > 0.5 and tags.team = 'team-3'",
)


def model_names(models: int) -> list[str]:
    """The models `prepare` fills: those bench/fixtures.py spreads versions over."""
    from bench.fixtures import model_name

    return [model_name(i, models) for i in range(models)]


@dataclass
class ClientResult:
    """What one client did: seconds per operation, and every error as text."""

    client: int
    role: str
    times: dict[str, list[float]] = field(default_factory=dict)  # (picklable)
    errors: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0


def prepare(url: str, folder: Path, models: int, versions: int) -> None:
    """The shared catalog the clients start from: `models` models of `versions`
    versions (bulk-written, as bench/fixtures.py writes them), and in each model a
    real artifact approved and promoted to production, so `resolve` finds one."""
    from bench.fixtures import candidates, write_small_artifacts
    from regtui.catalog.service import Catalog

    total = models * versions
    with Catalog(url) as cat:
        for start in range(0, total, 5000):
            cat.add_candidates(candidates(start, min(total, start + 5000), total, models))
        for i, name in enumerate(model_names(models)):
            (path,) = write_small_artifacts(folder / "setup" / name, 1, start=20_000_000 + i)
            v = cat.register(path, name)
            cat.approve(v.ref, "bench setup")
            cat.promote(v.ref, "production", "bench setup")


def client_main(
    url: str,
    index: int,
    ops: int,
    models: int,
    versions: int,
    folder: str,
    seed: int,
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    """One client process: open the catalog as its own role, wait for the start,
    run `ops` operations, put a ClientResult on `results`."""
    from bench.fixtures import safetensors_bytes
    from regtui.catalog.service import Catalog

    role = url.split("://", 1)[1].split("@", 1)[0]
    out = ClientResult(index, role)
    rng = random.Random(seed * 1000 + index)
    names = model_names(models)
    mine = Path(folder) / f"client-{index:02d}"
    mine.mkdir(parents=True, exist_ok=True)
    registered: list[str] = []  # mine, not yet approved
    approved: list[str] = []  # mine, approved, not yet promoted
    made = 0
    try:
        cat = Catalog(url)
        # Connect, and run each read once, before the clock starts: the figures are
        # of a team at work, not of each process's first statements.
        cat.versions(names[0], newest_first=True, limit=PAGE)
        cat.get(f"{names[0]}:1")
        cat.artifact_path(cat.resolve(f"{names[0]}@production"))
        cat.versions(names[0], where=FILTERS[0], newest_first=True, limit=PAGE)
    except Exception as exc:  # reported, so the run fails with the reason
        out.errors.append(f"open: {type(exc).__name__}: {exc}")
        ready.put(index)
        results.put(out)
        return
    ready.put(index)
    go.wait()
    out.started = time.perf_counter()
    for _ in range(ops):
        model = rng.choice(names)
        if rng.random() < WRITE_SHARE:
            # register → approve → promote, each write the next legal step of one of mine
            if approved:
                op, ref = "promote", approved.pop(0)
            elif registered:
                op, ref = "approve", registered.pop(0)
            else:
                op, ref = "register", ""
        else:
            op, ref = rng.choice(READS), ""
        t0 = time.perf_counter()
        try:
            if op == "list":
                cat.versions(model, newest_first=True, limit=PAGE)
            elif op == "show":
                cat.get(f"{model}:{rng.randint(1, versions)}")
            elif op == "resolve":
                cat.artifact_path(cat.resolve(f"{model}@production"))
            elif op == "filter":
                cat.versions(model, where=rng.choice(FILTERS), newest_first=True, limit=PAGE)
            elif op == "register":
                path = mine / f"{index:02d}-{made:05d}.safetensors"
                path.write_bytes(safetensors_bytes(10_000_000 + index * 100_000 + made))
                made += 1
                registered.append(cat.register(path, model, metrics={"auc": rng.random()}).ref)
            elif op == "approve":
                cat.approve(ref, f"reviewed by client {index}")
                approved.append(ref)
            else:
                cat.promote(ref, "production", f"client {index} ships it")
        except Exception as exc:  # every failure is counted and named
            out.errors.append(f"{op}: {type(exc).__name__}: {exc}"[:300])
            continue
        out.times.setdefault(op, []).append(time.perf_counter() - t0)
    out.finished = time.perf_counter()
    cat.close()
    results.put(out)


def run_team(
    url: str,
    folder: Path,
    *,
    clients: int = 20,
    ops: int = 200,
    models: int = 20,
    versions: int = 100,
    role_url: Any = None,
    seed: int = 17,
    timeout: float = 600.0,
) -> dict[str, Any]:
    """Start `clients` processes (spawned: each imports regtui and connects on its
    own) against the catalog at `url`, made beforehand by `prepare(url, folder,
    models, versions)`; each acts as its own role, `role_url(url, name)` making the
    URL for it. Returns the figures and the end checks (see `summary`)."""
    ctx = mp.get_context("spawn")
    go, ready, results = ctx.Event(), ctx.Queue(), ctx.Queue()
    urls = [role_url(url, f"bench_client_{i:02d}") if role_url else url for i in range(clients)]
    procs = [
        ctx.Process(
            target=client_main,
            args=(u, i, ops, models, versions, str(folder), seed, ready, go, results),
            name=f"bench-client-{i}",
        )
        for i, u in enumerate(urls)
    ]
    for p in procs:
        p.start()
    # Everyone connected, each read run once, before the clock starts.
    _wait_until_ready(procs, ready, clients)
    go.set()
    out: list[ClientResult] = []
    end = time.monotonic() + timeout
    while len(out) < clients and time.monotonic() < end:
        try:
            out.append(results.get(timeout=1))
        except queue.Empty:
            if all(p.exitcode is not None for p in procs) and results.empty():
                break  # a client died without a word (it counts as an error)
    for p in procs:
        p.join(timeout=10)
        if p.is_alive():
            p.kill()
    return summary(url, out, clients, models)


def _wait_until_ready(procs: list[Any], ready: Any, clients: int, timeout: float = 300) -> None:
    """Until every client said it is ready (or failed to open), or one died first."""
    seen = 0
    end = time.monotonic() + timeout
    while seen < clients and time.monotonic() < end:
        try:
            ready.get(timeout=0.5)
            seen += 1
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in procs):
                return  # a client died while starting: its silence counts as an error


def pct(xs: list[float], p: float) -> float:
    from bench.common import percentile

    return percentile(xs, p)


def summary(url: str, out: list[ClientResult], clients: int, models: int) -> dict[str, Any]:
    from regtui.catalog.service import Catalog

    times: dict[str, list[float]] = defaultdict(list)
    for r in out:
        for op, xs in r.times.items():
            times[op] += xs
    errors = [e for r in out for e in r.errors]
    if len(out) < clients:
        errors.append(f"{clients - len(out)} of {clients} clients reported nothing")
    done = sum(len(xs) for xs in times.values())
    wall = (max(r.finished for r in out) - min(r.started for r in out)) if out else float("nan")
    gaps: dict[str, list[int]] = {}
    with Catalog(url) as cat:
        for name in model_names(models):
            numbers = [v.version for v in cat.versions(name)]
            if numbers != list(range(1, len(numbers) + 1)):
                gaps[name] = sorted(set(range(1, max(numbers) + 1)) - set(numbers))[:10]
        chain, state = cat.verify_catalog()
    ops = {
        op: {"n": len(xs), "p50_s": pct(xs, 50), "p99_s": pct(xs, 99), "max_s": max(xs)}
        for op, xs in sorted(times.items())
    }
    reads = [x for op in READS for x in times.get(op, [])]
    writes = [x for op in WRITES for x in times.get(op, [])]
    return {
        "clients": clients,
        "roles": sorted({r.role for r in out}),
        "ops_done": done,
        "wall_s": wall,
        "per_s": done / wall if wall == wall and wall > 0 else float("nan"),
        "ops": ops,
        "reads": {"n": len(reads), "p50_s": pct(reads, 50), "p99_s": pct(reads, 99)},
        "writes": {"n": len(writes), "p50_s": pct(writes, 50), "p99_s": pct(writes, 99)},
        "errors": errors,
        "gaps": gaps,
        "chain_ok": chain.ok,
        "chain_events": chain.events,
        "chain_problem": chain.problem,
        "state_ok": state is not None and state.ok,
    }
