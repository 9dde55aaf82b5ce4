"""Fixtures for snapshot tests: the same fixed-clock synthetic catalog as tests/ui."""

from __future__ import annotations

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
def snap_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Catalog]:
    ticks = itertools.count()
    monkeypatch.setattr(clock, "now", lambda: START + timedelta(minutes=next(ticks)))
    use_fake_store(monkeypatch)
    cat = Catalog(tmp_path / "catalog.sqlite", user="alice")
    with Catalog(cat.url, user="reviewer") as reviewer:
        seed_synthetic(cat, reviewer, versions=12, batch=1)
    yield cat
    cat.close()
