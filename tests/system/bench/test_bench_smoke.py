"""The benchmark harness runs end to end at tiny sizes (no MLflow), so it cannot rot.

Not a timed test: it asserts only that every row was measured and written.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def test_bench_runs_at_tiny_sizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REGTUI_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(REPO))
    for name in [m for m in sys.modules if m == "bench" or m.startswith("bench.")]:
        monkeypatch.delitem(sys.modules, name)
    from bench import run

    out = tmp_path / "latest.json"
    # Both backends (PostgreSQL as the tests start it) unless the run is knowingly
    # without PostgreSQL, and the 1M rows at their tiny size.
    backend = "sqlite" if os.environ.get("REGTUI_SKIP_PG") == "1" else "both"
    argv = ["--tiny", "--skip-mlflow", "--backend", backend, "--size", "1m", "--out", str(out)]
    assert run.main(argv) == 0

    printed = capsys.readouterr().out
    assert "| what" in printed and "peer/limit" in printed
    data = json.loads(out.read_text())
    errors = {k: v["error"] for k, v in data["raw"].items() if isinstance(v, dict) and "error" in v}
    assert errors == {}, errors
    whats = " ".join(r["what"] for r in data["rows"])
    for needle in (
        "register",
        "scan",
        "list all versions",
        "filter by",
        "promote",
        "rollback",
        "hash one",
        "watcher",
        "cold start",
        "TUI first screen",
        "peak memory",
        "first page of a model @400",
        "audit --verify of every event",
        "catalog size on disk",
    ):
        assert needle in whats
    backends = {r["backend"] for r in data["rows"]}
    assert {"sqlite", "-"} <= backends
    if backend == "both":
        assert "postgresql" in backends
        assert "clients at once" in whats
        team = data["raw"]["pg:team"]
        assert team["errors"] == [] and team["gaps"] == {} and team["chain_ok"]
