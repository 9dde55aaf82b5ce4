"""SVG snapshots of the audit log, one audit event and the diff at 80x24 and 160x50.

Each screen is pushed directly (not reached through the catalog's keys), so a change
to the catalog screen leaves these pictures alone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from tests.ui.snapshots.test_screens import keys, make
from textual.pilot import Pilot
from textual.screen import Screen

from regtui.catalog.service import Catalog
from regtui.tui.screens.audit import AuditScreen
from regtui.tui.screens.diff import DiffScreen

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])


def showing(
    screen: Callable[[], Screen[None]], *pressed: str
) -> Callable[[Pilot], Awaitable[None]]:
    return keys(*pressed, push=screen)


@SIZES
def test_audit_log(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    assert snap_compare(make(snap_catalog), terminal_size=size, run_before=showing(AuditScreen))


@SIZES
def test_audit_event(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    """The newest event: a model's description and tags edited (before/after, wrapped)."""
    run = showing(AuditScreen, "enter")
    assert snap_compare(make(snap_catalog), terminal_size=size, run_before=run)


@SIZES
def test_audit_event_registered(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    """A registration: path and sha256 whole."""
    run = showing(AuditScreen, *["down"] * 12, "enter")
    assert snap_compare(make(snap_catalog), terminal_size=size, run_before=run)


@SIZES
def test_diff_all_fields(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    run = showing(lambda: DiffScreen("churn-xgb:1", "churn-xgb:2"))
    assert snap_compare(make(snap_catalog), terminal_size=size, run_before=run)


@SIZES
def test_diff_only_differences(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    run = showing(lambda: DiffScreen("churn-xgb:1", "churn-xgb:2"), "t")
    assert snap_compare(make(snap_catalog), terminal_size=size, run_before=run)


@SIZES
def test_diff_field(snap_compare, snap_catalog: Catalog, size: tuple[int, int]) -> None:
    """The path row opened: both paths whole."""
    run = showing(
        lambda: DiffScreen("churn-xgb:1", "churn-xgb:2"), "t", "down", "down", "down", "enter"
    )
    assert snap_compare(make(snap_catalog), terminal_size=size, run_before=run)
