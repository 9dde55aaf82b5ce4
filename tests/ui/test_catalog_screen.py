"""Pilot tests: the catalog screen, navigation, filter, palette, refresh."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Static

from regtui.catalog.service import Catalog
from regtui.demo import _candidate
from regtui.tui.app import make_app
from regtui.tui.screens.audit import AuditScreen
from regtui.tui.screens.catalog import CatalogScreen
from regtui.tui.screens.diff import DiffScreen
from regtui.tui.screens.help import HelpScreen
from regtui.tui.screens.version import VersionScreen
from regtui.tui.screens.watch import WatchScreen
from regtui.tui.widgets.version_table import VersionTable

SIZE = (120, 40)


def static_text(screen, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(screen.query_one(selector, Static).render())


async def test_first_screen_lists_models_and_versions(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        screen = app.screen
        assert isinstance(screen, CatalogScreen)
        models = screen.query_one("#models", DataTable)
        assert models.row_count == 3
        table = screen.query_one(VersionTable)
        assert table.total == 6
        assert table.version is not None and table.version.ref == "churn-xgb:6"
        assert "6 versions" in static_text(screen, "#status-line")


async def test_cursor_keys_and_model_switch(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        table = app.screen.query_one(VersionTable)
        await pilot.press("down", "down")
        assert table.version is not None and table.version.version == 4
        await pilot.press("end")
        assert table.version.version == 1
        await pilot.press("home")
        assert table.version.version == 6
        await pilot.press("shift+tab")  # to the models list
        await pilot.press("down")
        await wait(pilot)
        assert app.screen.model_name == "fraud-net"
        assert table.version is not None and table.version.model == "fraud-net"


async def test_filter_applies_and_shows_errors_inline(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        screen = app.screen
        await pilot.press("slash")
        box = screen.query_one("#filter", Input)
        assert box.has_focus
        box.value = "version <= 2"
        await pilot.press("enter")
        await wait(pilot)
        table = screen.query_one(VersionTable)
        assert table.total == 2
        assert "filter: version <= 2" in static_text(screen, "#status-line")
        await pilot.press("slash")
        box.value = "metrics.auc >"
        await pilot.press("enter")
        await wait(pilot)
        error = screen.query_one("#filter-error", Static)
        assert error.display
        assert "filter" in str(error.render())
        await pilot.press("escape")  # clear the filter
        await wait(pilot)
        assert table.total == 6
        assert not error.display


async def test_enter_opens_version_detail(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("down", "enter")
        await wait(pilot)
        assert isinstance(app.screen, VersionScreen)
        assert app.screen.version is not None and app.screen.version.ref == "churn-xgb:5"
        assert "churn-xgb:5" in static_text(app.screen, "#version-title")
        await pilot.press("escape")
        assert isinstance(app.screen, CatalogScreen)


async def test_click_selects_and_double_click_opens(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        table = app.screen.query_one(VersionTable)
        await pilot.click(VersionTable, offset=(10, 3))  # header + 2 rows down
        assert table.version is not None and table.version.version == 4
        await pilot.click(VersionTable, offset=(10, 3), times=2)
        await wait(pilot)
        assert isinstance(app.screen, VersionScreen)


async def test_mark_then_diff_compares_marked_with_selected(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("space", "down", "down", "d")
        await wait(pilot)
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        assert (screen.left, screen.right) == ("churn-xgb:6", "churn-xgb:4")
        table = screen.query_one(DataTable)
        everything = table.row_count
        await pilot.press("t")
        assert 0 < table.row_count < everything
        await pilot.press("t")
        assert table.row_count == everything
        await pilot.press("s")
        await wait(pilot)
        assert (screen.left, screen.right) == ("churn-xgb:4", "churn-xgb:6")


async def test_diff_defaults_to_production(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("d")  # churn-xgb:6 against production (v1 after the rollback)
        await wait(pilot)
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        assert (screen.left, screen.right) == ("churn-xgb:1", "churn-xgb:6")
        summary = static_text(screen, "#diff-summary")
        assert "better" in summary and "worse" in summary
        await pilot.press("escape")
        assert isinstance(app.screen, CatalogScreen)


async def test_audit_watch_help_and_quit_keys(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("l")
        await wait(pilot)
        assert isinstance(app.screen, AuditScreen)
        await pilot.press("escape", "w")
        await wait(pilot)
        assert isinstance(app.screen, WatchScreen)
        assert "not watching" in static_text(app.screen, "#watch-state")
        await pilot.press("escape", "question_mark")
        await wait(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "Approve" in [a.binding.description for _k, a in app.screen.bindings_in_force]
        await pilot.press("escape")
        assert isinstance(app.screen, CatalogScreen)
        await pilot.press("q")
    assert app.return_code == 0


async def test_palette_jumps_to_a_version(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"fraud-net:3")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait(pilot)
        assert isinstance(app.screen, VersionScreen)
        assert app.screen.ref == "fraud-net:3"


async def test_palette_jumps_to_a_model(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"model: sentiment")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait(pilot)
        assert app.screen.model_name == "sentiment-bert"


async def test_versions_from_another_process_appear(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        table = app.screen.query_one(VersionTable)
        assert table.total == 6
        with Catalog(catalog.url, user="ci") as other:
            other.add_candidates([_candidate("churn-xgb", 7)])
        app.refresh_catalog()  # what the 1 s poll does
        await wait(pilot)
        assert table.total == 7
        assert table.version is not None and table.version.version == 7


async def test_empty_catalog_says_what_to_do(empty_catalog: Catalog, wait) -> None:
    app = make_app(empty_catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        assert "No models yet" in static_text(app.screen, "#model-head")
        await pilot.press("a", "p", "d")  # nothing applies; nothing breaks
        assert isinstance(app.screen, CatalogScreen)


async def test_large_catalog_pages_rows(tmp_path: Path, fixed_clock: None, wait) -> None:
    with Catalog(tmp_path / "big.sqlite", user="alice") as cat:
        cat.add_candidates([_candidate("big", i) for i in range(1, 1201)])
        app = make_app(cat)
        async with app.run_test(size=SIZE) as pilot:
            await wait(pilot)
            table = app.screen.query_one(VersionTable)
            assert table.total == 1200
            # only what is on screen, its neighbour and the last page (kept ready for End)
            assert len(table.loaded_versions()) <= 300
            await pilot.press("end")
            await wait(pilot)
            assert table.version is not None and table.version.version == 1
            await pilot.press("pageup")
            await wait(pilot)
            assert table.version is not None and table.version.version > 1
