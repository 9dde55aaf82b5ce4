"""How big each benchmark is: full (the issue's sizes), quick, and tiny (the smoke test)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    register: int = 1000
    scan: int = 10_000
    small: int = 10_000  # "list at 10k"
    big: int = 100_000  # "list/filter/promote at 100k"
    mlflow_big: int = 10_000
    hash_bytes: int = 2 << 30
    many_files: int = 4
    many_bytes: int = 512 << 20
    watch_files: int = 200
    cold_reps: int = 7
    tui_keys: int = 40
    mlflow_reps: int = 3
    team_clients: int = 20  # concurrent client processes on PostgreSQL
    team_ops: int = 200  # operations each
    team_models: int = 20
    team_versions: int = 500  # versions per model before the clients start
    scale: int = 1_000_000  # `--size 1m`: versions ...
    scale_models: int = 1000  # ... over this many models


FULL = Sizes()
QUICK = Sizes(
    register=200,
    scan=1000,
    small=1000,
    big=10_000,
    mlflow_big=1000,
    hash_bytes=256 << 20,
    many_bytes=64 << 20,
    watch_files=40,
    cold_reps=3,
    tui_keys=15,
    team_ops=50,
    team_versions=100,
    scale=20_000,
    scale_models=100,
)
TINY = Sizes(
    register=20,
    scan=50,
    small=100,
    big=300,
    mlflow_big=100,
    hash_bytes=8 << 20,
    many_files=2,
    many_bytes=4 << 20,
    watch_files=5,
    cold_reps=1,
    tui_keys=3,
    mlflow_reps=1,
    team_clients=3,
    team_ops=10,
    team_models=3,
    team_versions=20,
    scale=400,
    scale_models=4,
)


def label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)
