"""How hard the property-based tests look, in one place.

By default (and so in `.ci/run`) every run tries the same examples: derandomized, no
example database, so a landing never fails by chance and a failure reproduces. With
REGTUI_FULL=1 the examples are random and ten times as many, to find what the fixed
ones miss (a failure prints the blob that replays it with @reproduce_failure). The
fast lane (`-m "not slow"`, for quick feedback while editing) draws a fifth as many,
also fixed; the full suite, and so `.ci/run`, draws the whole count.
tests/conftest.py loads the profile before any test module builds its settings, so
every `@settings(...)` inherits it; a test that names its own count wraps it in
`examples()` to be scaled too.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
from pathlib import Path

from hypothesis import settings

import regtui

FULL = os.environ.get("REGTUI_FULL") == "1"
SCALE = 10 if FULL else 1
FAST_SHARE = 5  # the fast lane draws 1/FAST_SHARE of each count
_fast = False

settings.register_profile("regtui-ci", derandomize=True, database=None, print_blob=True)
settings.register_profile(
    "regtui-full",
    derandomize=False,
    database=None,
    print_blob=True,
    max_examples=settings.default.max_examples * SCALE,
)
settings.register_profile(
    "regtui-fast",
    parent=settings.get_profile("regtui-ci"),
    max_examples=settings.default.max_examples // FAST_SHARE,
)
PROFILE = "regtui-full" if FULL else "regtui-ci"


def scaled(count: int, *, fast: bool) -> int:
    return max(2, count // FAST_SHARE) if fast else count * SCALE


def examples(count: int) -> int:
    """A test's own example count, scaled under REGTUI_FULL=1 and in the fast lane."""
    return scaled(count, fast=_fast)


def in_fast_lane() -> bool:
    return _fast


def load(*, fast_lane: bool = False, draws_here: bool = True) -> None:
    """The run's profile; `fast_lane` (not with REGTUI_FULL=1) draws fewer examples.
    A process that runs no test (`draws_here=False`) need not fix the draws."""
    global _fast
    _fast = fast_lane and not FULL
    settings.load_profile("regtui-fast" if _fast else PROFILE)
    if not FULL and draws_here:
        import_every_local_module()


OPTIONAL_EXTRAS = {"mlflow"}


def import_every_local_module() -> None:
    """Hypothesis also draws constants found in the project's own modules (not the
    tests) that are imported *at the time of the draw*: which ones those are depends
    on the tests that ran before in the same process (a lazy import, an xdist
    split), so even derandomized runs drew different examples. Importing them all
    first makes that pool the same for every test on every run."""
    for info in pkgutil.walk_packages(regtui.__path__, "regtui."):
        # __main__ runs the CLI; alembic loads the migrations by path, never as modules
        if not info.name.endswith("__main__") and not info.name.startswith("regtui.migrations."):
            try:
                importlib.import_module(info.name)
            except ModuleNotFoundError as exc:
                # the MLflow plugin needs the optional `mlflow` extra (absent in the fast lane)
                if exc.name not in OPTIONAL_EXTRAS:
                    raise
    bench = Path(__file__).resolve().parents[2] / "bench"
    for path in sorted(bench.glob("[!_]*.py")):
        # the probes import their siblings as scripts do; they hold no constants a
        # test draws that are missing elsewhere, and fail the same way every run
        with contextlib.suppress(ImportError):
            importlib.import_module(f"bench.{path.stem}")
