"""Pilot tests: the main screen's header says what matters beyond the screen in
front of you: what is watched, why nothing can change, a broken audit chain; and
the watcher's registrations reach you as one notice per burst."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from tests.system.watch.conftest import weights

from regtui.catalog.service import Catalog
from regtui.tui.app import NOTICE_BURST_SECONDS, make_app
from regtui.tui.messages import VersionRegistered
from regtui.tui.textual_compat import notifications

pytestmark = [pytest.mark.app, pytest.mark.slow]

SIZE = (120, 40)


def notes(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.message for n in notifications(app)]


@pytest.mark.parametrize(
    "seq",
    # the last one: the check the app really runs, in a child process
    [1, 3, "last", pytest.param(2, marks=pytest.mark.chain_process)],
)
async def test_a_broken_chain_shows_on_the_main_screen(
    catalog: Catalog, db_path: Path, wait, seq: int | str
) -> None:
    with sqlite3.connect(db_path) as conn:
        where = "(SELECT max(seq) FROM audit_event)" if seq == "last" else str(seq)
        conn.execute(f"UPDATE audit_event SET reason = 'forged' WHERE seq = {where}")
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        for _ in range(100):
            if app.chain_problem:
                break
            await pilot.pause(0.1)
        await wait(pilot)
        assert "AUDIT CHAIN BROKEN" in app.sub_title
        assert any("l opens the audit log" in n for n in notes(app))


async def test_an_intact_chain_says_nothing(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(1.5)
        await wait(pilot)
        assert app.chain_problem is None and "BROKEN" not in app.sub_title


@pytest.mark.parametrize("burst", [1, 2, 3, 6])
async def test_registrations_in_a_burst_are_one_notice(catalog: Catalog, wait, burst: int) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        versions = catalog.versions("churn-xgb")[:burst]
        for v in versions:
            app.post_message(VersionRegistered(v, True))
        app.post_message(VersionRegistered(versions[0], False))  # already had: no notice
        await pilot.pause(NOTICE_BURST_SECONDS + 0.3)
        await wait(pilot)
        said = [n for n in notes(app) if n.startswith("Registered")]
        assert len(said) == 1
        if burst == 1:
            assert said[0].startswith(f"Registered {versions[0].ref} (")
        else:
            assert said[0].startswith(f"Registered {burst} versions: {versions[0].ref}")
            assert ("more" in said[0]) == (burst > 3)


async def test_watch_mode_says_what_it_watches(tmp_path: Path, wait) -> None:
    root = tmp_path / "runs"
    (root / "live-model" / "run-1").mkdir(parents=True)
    with Catalog(tmp_path / "c.sqlite", user="alice") as cat:
        app = make_app(cat, watch_dirs=[root])
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(50):
                if app.watching:
                    break
                await pilot.pause(0.1)
            await wait(pilot)
            assert "watching /" in app.sub_title and app.sub_title.endswith(f"/{root.name}")
            head = str(app.screen.query_one("#model-head").render())
            assert "Watching" in head and "regtui watch DIR" not in head
            (root / "live-model" / "run-1" / "model.safetensors").write_bytes(weights("x"))
            for _ in range(100):
                if cat.count_versions():
                    break
                await asyncio.sleep(0.1)
            await pilot.pause(NOTICE_BURST_SECONDS + 0.3)
            await wait(pilot)
            assert any(n.startswith("Registered live-model:1 (safetensors)") for n in notes(app))


@pytest.mark.chain_process
async def test_the_chain_process_stops_with_the_app(catalog: Catalog, wait) -> None:
    """Quitting while a check runs leaves no child process behind."""
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(50):
            proc = app.chain_check.process
            if proc is not None:
                break
            await pilot.pause(0.1)
        assert proc is not None
    assert proc.poll() is not None
