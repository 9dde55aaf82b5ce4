"""Shared bits of the benchmark harness: timing, rows, the table."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
CACHE_DIR = Path(os.environ.get("REGTUI_BENCH_CACHE", BENCH_DIR / ".cache"))
VENV_PY = REPO / ".venv" / "bin" / "python"
REGTUI_BIN = REPO / ".venv" / "bin" / "regtui"


@dataclass
class Row:
    """One line of the table. `better` says which way the ratio should go."""

    what: str
    regtui: str
    peer: str = "-"
    ratio: float | None = None
    target: str = "-"
    met: bool | None = None
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    backend: str = "sqlite"  # the catalog's backend; "-" for rows about files alone

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def repeat(
    fn: Callable[[], Any],
    *,
    reps: int = 5,
    budget_s: float = 10.0,
    setup: Callable[[], Any] | None = None,
) -> list[float]:
    """Run fn at least once and up to `reps` times while under `budget_s`; seconds each."""
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < reps:
        if setup is not None:
            setup()
        dt, _ = timed(fn)
        times.append(dt)
        if time.perf_counter() - start > budget_s:
            break
    return times


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def percentile(xs: Sequence[float], p: float) -> float:
    s = sorted(xs)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


def run_cmd_times(
    argv: list[str], *, reps: int = 7, env: dict[str, str] | None = None
) -> list[float]:
    """Wall time of a command, run `reps` times (output discarded)."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env
        )
        times.append(time.perf_counter() - t0)
    return times


def run_json(
    argv: list[str], *, timeout: float, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run a probe script that prints one JSON object on its last stdout line."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"{Path(argv[1]).name} failed ({proc.returncode}): " + " | ".join(tail))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt_s(s: float) -> str:
    if s != s:  # nan
        return "n/a"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def fmt_rate(per_s: float, unit: str = "/s") -> str:
    if per_s >= 1e4:
        return f"{per_s / 1e3:,.1f}k{unit}"
    return f"{per_s:,.0f}{unit}"


def fmt_ratio(r: float | None) -> str:
    if r is None or r != r:
        return "-"
    if r >= 100:
        return f"{r:,.0f}×"
    if r >= 10:
        return f"{r:.1f}×"
    return f"{r:.2f}×"


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import sqlite3

    return {
        "host": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def table(rows: Sequence[Row]) -> str:
    head = ["what", "backend", "regtui", "peer/limit", "ratio", "target", "met?"]
    body = [
        [
            r.what,
            r.backend,
            r.regtui,
            r.peer,
            fmt_ratio(r.ratio),
            r.target,
            {True: "yes", False: "NO", None: "-"}[r.met],
        ]
        for r in rows
    ]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(b) for b in body]
    notes = [f"  [{i + 1}] {r.what}: {r.note}" for i, r in enumerate(rows) if r.note]
    if notes:
        out += ["", "notes:", *notes]
    return "\n".join(out)
