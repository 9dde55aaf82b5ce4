"""SVG snapshots of every screen at 80×24 and at 160×50 (fixed clock, fixed paths)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import WorkerCancelled, WorkerFailed

from regtui.catalog.service import Catalog
from regtui.tui.app import RegtuiApp

# The smallest terminal regtui is laid out for, and a large one.
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]
pytestmark = pytest.mark.parametrize("size", SIZES)


def make(catalog: Catalog) -> RegtuiApp:
    return RegtuiApp(catalog, poll_seconds=0)


async def settle(pilot: Pilot) -> None:
    for _ in range(3):
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.02)


def keys(
    *pressed: str, push: Callable[[], Screen[None]] | None = None
) -> Callable[[Pilot], Awaitable[None]]:
    """Settle, push the screen `push` makes (if any), press each key, then clear
    the notices so the picture holds only the screen."""

    async def run(pilot: Pilot) -> None:
        await settle(pilot)
        if push is not None:
            pilot.app.push_screen(push())
            await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause(0.02)

    return run


def test_catalog_screen(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    assert snap_compare(make(snap_catalog), terminal_size=size, run_before=keys("down"))


def test_catalog_filter_error(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    async def run(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("slash")
        pilot.app.screen.query_one("#filter", Input).value = "metrics.auc > 'x'"
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make(snap_catalog), terminal_size=size, run_before=run)


def test_catalog_find_in_all_models(
    snap_compare, snap_catalog: Catalog, size: tuple[int, int]
) -> None:
    async def run(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("f")
        pilot.app.screen.query_one("#filter", Input).value = "approval = 'approved'"
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make(snap_catalog), terminal_size=size, run_before=run)


def test_model_names_filtered(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    assert snap_compare(
        make(snap_catalog), terminal_size=size, run_before=keys("shift+tab", "slash", "r", "a")
    )


def test_version_screen(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    assert snap_compare(make(snap_catalog), terminal_size=size, run_before=keys("enter"))


def test_diff_screen(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    assert snap_compare(make(snap_catalog), terminal_size=size, run_before=keys("d"))


def test_diff_only_differing(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    assert snap_compare(
        make(snap_catalog), terminal_size=size, run_before=keys("space", "down", "d", "t")
    )


def test_audit_screen(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    assert snap_compare(make(snap_catalog), terminal_size=size, run_before=keys("l"))


def test_watch_panel(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    assert snap_compare(make(snap_catalog), terminal_size=size, run_before=keys("w"))


def test_help_screen(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    assert snap_compare(make(snap_catalog), terminal_size=size, run_before=keys("question_mark"))


def test_reason_modal(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    assert snap_compare(make(snap_catalog), terminal_size=size, run_before=keys("a", "enter"))


def test_stage_chooser(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    assert snap_compare(make(snap_catalog), terminal_size=size, run_before=keys("p"))


def test_edit_modal(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    assert snap_compare(make(snap_catalog), terminal_size=size, run_before=keys("e"))
