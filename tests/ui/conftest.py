"""Fixtures for Pilot tests: a small deterministic catalog and helpers."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.fake_store import use_fake_store

from regtui.catalog import clock
from regtui.catalog.service import Catalog
from regtui.demo import seed_synthetic

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every catalog timestamp is 2026-03-01 09:00 + n minutes: pictures stay the same."""
    ticks = itertools.count()
    monkeypatch.setattr(clock, "now", lambda: START + timedelta(minutes=next(ticks)))


@pytest.fixture
def fake_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Synthetic versions have no files: promotion's kept copy is a fixed fake path."""
    use_fake_store(monkeypatch)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "catalog.sqlite"


@pytest.fixture
def catalog(db_path: Path, fixed_clock: None, fake_store: None) -> Iterator[Catalog]:
    """Three models of six versions, registered by alice, reviewed by reviewer."""
    cat = Catalog(db_path, user="alice")
    with Catalog(cat.url, user="reviewer") as reviewer:
        seed_synthetic(cat, reviewer, versions=6)
    yield cat
    cat.close()


@pytest.fixture
def empty_catalog(db_path: Path, fixed_clock: None, fake_store: None) -> Iterator[Catalog]:
    cat = Catalog(db_path, user="alice")
    yield cat
    cat.close()


async def settle(pilot, rounds: int = 3) -> None:  # type: ignore[no-untyped-def]
    """Let workers finish and their messages be handled."""
    from textual.worker import WorkerCancelled, WorkerFailed

    for _ in range(rounds):
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.02)


@pytest.fixture
def wait():  # type: ignore[no-untyped-def]
    return settle


@pytest.fixture(autouse=True)
def chain_check_in_process(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The header's chain check runs `regtui audit --verify` in a child process; a
    few hundred app tests would each start one. Here the same check runs in-process,
    except for tests marked `chain_process`, which try the real child."""
    if request.node.get_closest_marker("chain_process"):
        return
    from regtui.catalog.service import Catalog as _Catalog
    from regtui.tui.chain_check import ChainCheck

    def run(self: ChainCheck) -> str | None:
        with _Catalog(self.url, user="chain-check", read_only=True) as cat:
            check = cat.verify_audit()
        return None if check.ok else (check.problem or "the audit chain does not verify")

    monkeypatch.setattr(ChainCheck, "run", run)
