"""Shared fixtures: every test gets its own data dir and user; catalogs on both backends."""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import hypothesis_runs
from tests.support.pg import PgServer, start_server


def pytest_configure(config: pytest.Config) -> None:
    """The hypothesis profile, before any test module builds its @settings (so they
    inherit it), unless --hypothesis-profile names another."""
    if config.getoption("hypothesis_profile", None) is None:
        hypothesis_runs.load()


SYSTEM = Path(__file__).parent / "system"

# The real ML libraries (the `frameworks` extra and what its tests import beside it): an
# in-process test that imports one (`pytest.importorskip`) is a `frameworks` test.
FRAMEWORK_MODULES = {
    "accelerate", "h5py", "keras", "lightning", "mlflow", "numpy", "onnx",
    "pytorch_lightning", "safetensors", "skops", "sklearn", "torch", "transformers",
}  # fmt: skip
_IMPORTS_SKIPPED = re.compile(r"importorskip\(\s*[\"']([\w.]+)")

# In-process tests too costly for the fast lane, each with why. The full suite runs them.
SLOW_HERE = {
    "tests/unit/test_one_read.py::test_scan_and_watch_record_one_file_under_a_swap[watch]":
        "starts a real watcher thread on real files (a system test's work)",
    "tests/unit/test_policy_gates.py::test_generated_imports_are_clean_or_refused_whole":
        "generated export files, each imported into a fresh catalog",
    "tests/unit/test_import_validation.py::test_generated_edits_import_soundly_or_are_refused_whole":
        "generated export edits, each imported into a fresh catalog",
    "tests/unit/test_special_files.py::test_special_files_are_refused_or_named_never_read":
        "sixty special-file layouts, each inspected, scanned and registered in a thread",
    "tests/unit/test_scan_entries.py::test_a_scan_finishes_with_one_refused_line_per_bad_entry":
        "generated trees of loops, FIFOs and folders 1,100 deep, each scanned",
    "tests/ui/test_filter_errors.py::test_a_hostile_filter_shows_its_error_or_its_rows":
        "generated filters, each typed into a running TUI",
}  # fmt: skip


def _imports_a_framework(item: pytest.Item) -> bool:
    try:
        source = inspect.getsource(item.function)  # type: ignore[attr-defined]
    except (AttributeError, OSError, TypeError):
        return False
    return any(m.split(".")[0] in FRAMEWORK_MODULES for m in _IMPORTS_SKIPPED.findall(source))


def _slow_here(item: pytest.Item) -> bool:
    nodeid = item.nodeid
    return nodeid in SLOW_HERE or nodeid.split("[")[0] in SLOW_HERE


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The one place that says which tests are slow, by what they do, so the fast lane
    (`-m "not slow"`) is tests/unit + tests/ui without each test saying so: all of
    tests/system (subprocesses, watcher threads on real files, kill -9, real git,
    bench), anything needing a PostgreSQL server (the `pg_server` fixture, or the `pg`
    side of `db_url`) or a real ML library (`frameworks`, or importing one), and the
    few in-process tests named in SLOW_HERE."""
    for item in items:
        if "pg_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.pg)
        if _imports_a_framework(item):
            item.add_marker(pytest.mark.frameworks)
        if (
            item.path.is_relative_to(SYSTEM)
            or item.get_closest_marker("pg")
            or item.get_closest_marker("frameworks")
            or _slow_here(item)
        ):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches a real home directory or an outside catalog."""
    monkeypatch.setenv("REGTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("REGTUI_USER", "tester")
    monkeypatch.delenv("REGTUI_DB", raising=False)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL server; failing to start one is an error, not a skip,
    unless REGTUI_SKIP_PG=1 says the run is knowingly without it."""
    if os.environ.get("REGTUI_SKIP_PG") == "1":
        pytest.skip("REGTUI_SKIP_PG=1: PostgreSQL tests skipped on purpose")
    try:
        server = start_server()
    except Exception as exc:  # a loud failure: CI must not pass without PostgreSQL
        pytest.fail(f"could not start PostgreSQL for the tests: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty catalog location on each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "catalog.sqlite")
    server: PgServer = request.getfixturevalue("pg_server")
    return server.new_database()


@pytest.fixture
def sqlite_path(tmp_path: Path) -> str:
    return str(tmp_path / "catalog.sqlite")
