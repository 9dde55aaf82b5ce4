"""Hostile filters in the TUI's filter box: the error is shown inline (the table
never stays at "loading…"), and a number past every integer type still filters."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from regtui.catalog.filter import MAX_NESTING
from regtui.catalog.service import Catalog
from regtui.tui.app import make_app
from regtui.tui.widgets.version_table import VersionTable

SIZE = (120, 40)


@pytest.mark.parametrize(
    "text,shown",
    [
        ("not " * 900 + "version = 1", f"deeper than {MAX_NESTING}"),
        ("not (" * 200 + "version = 1" + ")" * 200, "deeper than"),
        ("version = 1e999", "out of range"),
        ("metrics.auc > -1e999", "out of range"),
        ("version = ١", "column 11"),
        ("version = " + "9" * 24, None),
        ("params.lr < " + "9" * 30, None),
    ],
)
async def test_a_hostile_filter_shows_its_error_or_its_rows(
    catalog: Catalog, wait, text: str, shown: str | None
) -> None:  # type: ignore[no-untyped-def]
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        screen = app.screen
        await pilot.press("slash")
        screen.query_one("#filter", Input).value = text
        await pilot.press("enter")
        await wait(pilot)
        table = screen.query_one(VersionTable)
        error = screen.query_one("#filter-error", Static)
        assert table.total is not None  # answered: not "loading…"
        if shown is None:
            assert not error.display
        else:
            assert error.display and shown in str(error.render())
