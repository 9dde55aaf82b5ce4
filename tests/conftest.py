"""Shared fixtures: every test gets its own data dir and user; catalogs on both backends."""

from __future__ import annotations

import os
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


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The one place that says which tests are slow, by what they do, so the fast lane
    (`-m "not slow"`) is tests/unit + tests/ui without each test saying so: all of
    tests/system (subprocesses, watcher threads on real files, kill -9, bench), and
    anywhere a PostgreSQL server (the `pg_server` fixture, or the `pg` side of
    `db_url`) or the real ML libraries (`frameworks`)."""
    for item in items:
        if "pg_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.pg)
        if (
            item.path.is_relative_to(SYSTEM)
            or item.get_closest_marker("pg")
            or item.get_closest_marker("frameworks")
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
