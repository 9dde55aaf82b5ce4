"""Pilot tests: the filter searches across models, the model list filters by name,
and a filter that does not compile keeps the last good result on screen."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Static

from regtui.catalog.service import Catalog
from regtui.tui.app import make_app
from regtui.tui.screens.catalog import CatalogScreen
from regtui.tui.widgets.version_table import VersionTable

pytestmark = [pytest.mark.app, pytest.mark.slow]

SIZE = (120, 40)


def rows(table: VersionTable) -> list[str]:
    return [v.ref for v in table.loaded_versions()]


async def type_filter(pilot, wait, key: str, value: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(key)
    box = pilot.app.screen.query_one("#filter", Input)
    assert box.has_focus
    box.value = value
    await pilot.press("enter")
    await wait(pilot)


@pytest.mark.parametrize(
    "expr",
    [
        "metrics.auc > 0.85",
        "approval = 'approved'",
        "stage = 'production'",
        "version <= 2 and format = 'onnx'",
        "",
    ],
)
async def test_find_searches_every_model(catalog: Catalog, wait, expr: str) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await type_filter(pilot, wait, "f", expr)
        table = app.screen.query_one(VersionTable)
        expected = [v.ref for v in catalog.versions(None, where=expr or None, newest_first=True)]
        assert table.total == len(expected)
        assert sorted(rows(table)) == sorted(expected)
        assert len({v.model for v in table.loaded_versions()}) == len(
            {r.split(":")[0] for r in expected}
        )
        # the rows name their model; actions act on the row's own model
        header = app.screen.query_one(VersionTable).render_line(0).text
        assert "model" in header
        v = table.version
        if v is not None:
            m = app.screen.current_model()
            assert m is not None and m.name == v.model
        # esc goes back to the selected model's versions
        await pilot.press("escape")
        await wait(pilot)
        screen = app.screen
        assert isinstance(screen, CatalogScreen)
        assert table.query_spec.everywhere is False
        assert {v.model for v in table.loaded_versions()} == {screen.model_name}


async def test_moving_in_the_model_list_keeps_the_search(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await type_filter(pilot, wait, "f", "approval = 'approved'")
        table = app.screen.query_one(VersionTable)
        before = rows(table)
        await pilot.press("tab", "down")
        await wait(pilot)
        assert rows(table) == before and table.query_spec.everywhere


@pytest.mark.parametrize(
    "bad",
    [
        "metrics.auc >",
        "tags.team = demo",
        "approvel = 'approved'",
        "version > 'x' and (",
        "((((",
        "metrics.auc > 0.9 and",
    ],
)
@pytest.mark.parametrize("key", ["/", "f"])
async def test_an_invalid_filter_keeps_the_last_good_rows(
    catalog: Catalog, wait, bad: str, key: str
) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await type_filter(pilot, wait, key, "metrics.auc > 0.85")
        table = app.screen.query_one(VersionTable)
        good, total = rows(table), table.total
        assert good
        await type_filter(pilot, wait, "/", bad)
        err = app.screen.query_one("#filter-error", Static)
        assert err.display
        assert "last result" in str(err.render())
        assert rows(table) == good and table.total == total
        assert table.pages.error is None
        assert app.screen.query_one("#filter", Input).has_focus  # still there to fix it
        # fixing it applies it and the error goes
        await type_filter(pilot, wait, "/", "metrics.auc > 0.8")
        assert not err.display
        assert table.query_spec.where == "metrics.auc > 0.8"


@pytest.mark.parametrize(
    ("typed", "shown"), [("fraud", 1), ("E", 2), ("zzz", 0), ("-", 3), ("net", 1)]
)
async def test_the_model_list_filters_by_name_as_you_type(
    catalog: Catalog, wait, typed: str, shown: int
) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        models = app.screen.query_one("#models", DataTable)
        models.focus()
        await pilot.press("/")
        box = app.screen.query_one("#model-filter", Input)
        assert box.has_focus
        await pilot.press(*typed)
        await wait(pilot)
        names = [str(k.value) for k in models.rows]
        assert len(names) == shown
        assert all(typed.casefold() in n.casefold() for n in names)
        await pilot.press("escape")
        await wait(pilot)
        assert len(models.rows) == 3 and not box.display
