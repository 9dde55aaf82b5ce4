"""Pilot tests: the diff screen fits its columns to the terminal (the delta always
shows) and cuts long values so where two differ stays visible."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.ui.test_audit_screen import squeezed, static_text
from tests.ui.test_untrusted_text import screen_text
from textual.widgets import DataTable, Static

from regtui.catalog.service import Candidate, Catalog
from regtui.hashing import Digest
from regtui.tui.app import make_app
from regtui.tui.commands import RegtuiCommands
from regtui.tui.screens.diff import COLUMNS, DELTA, DiffScreen
from regtui.tui.screens.diff_row import DiffRowScreen
from regtui.tui.screens.version import LATE_MARK
from regtui.tui.table_fit import CELL_PADDING

SIZES = [(80, 24), (100, 30), (160, 50)]
RUNS = "/mnt/shared/projects/fraud-detection/experiments/2026-03/sweep-17/trial-00"


@pytest.fixture
def paths_catalog(tmp_path: Path, fixed_clock, fake_store) -> Iterator[Catalog]:
    """Two versions whose path, hash and run folder differ only near their ends."""
    cat = Catalog(tmp_path / "diff.sqlite", user="alice")
    cat.add_candidates(
        [
            Candidate(
                path=Path(f"{RUNS}{n}/model.onnx"),
                model="fraud",
                digest=Digest("e" * 62 + f"{n}f", 10 + n),
                format="onnx",
                metrics={"auc": 0.8 + n / 100, "val_loss": 0.5 - n / 100, "f1": 0.7},
                params={"lr": 0.1 / n},
                lineage={"run_dir": f"{RUNS}{n}", "host": "trainer-01"},
                tags={"note": "[bold]not markup[/bold]" if n == 41 else "[@click=app.quit]q"},
            )
            for n in (41, 42)
        ]
    )
    cat.log("fraud:2", metrics={"recall": 0.9}, reason="late eval")
    yield cat
    cat.close()


async def open_diff(app, pilot, wait) -> DiffScreen:  # type: ignore[no-untyped-def]
    await wait(pilot)
    app.open_diff("fraud:1", "fraud:2")
    await wait(pilot)
    assert isinstance(app.screen, DiffScreen)
    return app.screen


def cells(screen: DiffScreen, field: str) -> dict[str, str]:
    table = screen.query_one(DataTable)
    keys = [str(c.key.value) for c in table.ordered_columns]
    for i in range(table.row_count):
        row = dict(zip(keys, (c.plain for c in table.get_row_at(i)), strict=True))
        if row["field"] == field:
            return row
    raise AssertionError(f"no row {field}")


@pytest.mark.parametrize("size", SIZES)
async def test_every_column_shows_and_the_delta_says_better_or_worse(
    paths_catalog: Catalog, wait, size
) -> None:
    app = make_app(paths_catalog)
    async with app.run_test(size=size) as pilot:
        screen = await open_diff(app, pilot, wait)
        table = screen.query_one(DataTable)
        assert [str(c.key.value) for c in table.ordered_columns] == [c.key for c in COLUMNS]
        assert sum(c.width + CELL_PADDING for c in table.ordered_columns) < size[0]
        shown = screen_text(app)
        assert DELTA in shown
        assert "better" in cells(screen, "metrics.auc")["delta"]
        assert "better" in cells(screen, "metrics.val_loss")["delta"]  # lower is better
        assert any("better" in line for line in shown.splitlines())


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    ("field", "left", "right"),
    [
        ("path", "41/model.onnx", "42/model.onnx"),
        ("sha256", "e41f", "e42f"),
        ("lineage.run_dir", "0041", "0042"),
    ],
)
async def test_long_values_show_where_they_differ(
    paths_catalog: Catalog, wait, size, field: str, left: str, right: str
) -> None:
    """Cut at the right, these would look the same; each side keeps its difference."""
    app = make_app(paths_catalog)
    async with app.run_test(size=size) as pilot:
        screen = await open_diff(app, pilot, wait)
        row = cells(screen, field)
        width = screen.widths["left"]
        assert len(row["left"]) <= width and len(row["right"]) <= width
        assert row["left"] != row["right"]
        assert left[-3:] in row["left"] and right[-3:] in row["right"]
        assert row["left"] in screen_text(app)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_a_late_value_keeps_its_mark(paths_catalog: Catalog, wait, size) -> None:
    app = make_app(paths_catalog)
    async with app.run_test(size=size) as pilot:
        screen = await open_diff(app, pilot, wait)
        row = cells(screen, "metrics.recall")
        assert LATE_MARK in row["right"] and row["right"].startswith("0.9")
        assert len(row["right"]) <= screen.widths["right"]


async def test_toggle_swap_and_resize(paths_catalog: Catalog, wait) -> None:
    app = make_app(paths_catalog)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_diff(app, pilot, wait)
        table = screen.query_one(DataTable)
        assert screen.diff is not None
        everything = len(screen.diff.rows)
        assert table.row_count == everything
        await pilot.press("t")
        assert table.row_count == len(screen.diff.changed()) < everything
        assert "only differing" in screen_text(app)
        await pilot.press("s")
        await wait(pilot)
        assert (screen.left, screen.right) == ("fraud:2", "fraud:1")
        assert "worse" in cells(screen, "metrics.auc")["delta"]
        wide = dict(screen.widths)
        await pilot.resize_terminal(80, 24)
        await wait(pilot)
        assert screen.widths["left"] < wide["left"] and "delta" in screen.widths
        assert table.row_count == len(screen.diff.changed())
        assert DELTA in screen_text(app)


async def test_markup_in_values_is_shown_as_characters(paths_catalog: Catalog, wait) -> None:
    app = make_app(paths_catalog)
    async with app.run_test(size=(160, 50)) as pilot:
        await open_diff(app, pilot, wait)
        shown = screen_text(app)
        assert "[bold]not markup[/bold]" in shown and "[@click=app.quit]q" in shown


async def test_every_diff_action_is_in_the_palette(paths_catalog: Catalog, wait) -> None:
    """Each key the footer shows (but escape: back) runs from the palette too."""
    app = make_app(paths_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_diff(app, pilot, wait)
        offered = {
            getattr(hit.command, "args", ("",))[0]
            async for hit in RegtuiCommands(screen).discover()
        }
        shown = {
            a.binding.action.removeprefix("screen.")
            for key, a in screen.active_bindings.items()
            if a.binding.show and a.node is not app and key != "escape"
        }
        assert shown == {"open_row", "toggle_differing", "swap"}
        assert shown <= set(offered)
        await pilot.press("ctrl+p")
        await pilot.press(*"diff: Swap sides")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait(pilot)
        assert app.screen is screen and screen.left == "fraud:2"


@pytest.mark.parametrize("field", ["path", "sha256", "lineage.run_dir", "tags.note"])
async def test_enter_opens_a_field_with_both_values_whole(
    paths_catalog: Catalog, wait, field: str
) -> None:
    app = make_app(paths_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_diff(app, pilot, wait)
        table = screen.query_one(DataTable)
        index = [r.key if r.section == "version" else f"{r.section}.{r.key}" for r in screen.shown]
        table.move_cursor(row=index.index(field))
        await pilot.press("enter")
        await wait(pilot)
        detail = app.screen
        assert isinstance(detail, DiffRowScreen)
        row = screen.shown[index.index(field)]
        view = static_text(detail.query_one("#diff-row-view", Static))
        for value in (row.left, row.right):
            assert squeezed(str(value)) in squeezed(view)
        assert "…" not in view
        at = index.index(field)
        if at + 1 < len(index):
            await pilot.press("n")
            assert detail.row == screen.shown[at + 1]
        else:  # the last field: next is shown disabled and does nothing
            assert not detail.active_bindings["n"].enabled
            await pilot.press("n")
            assert detail.row == row
        await pilot.press("escape")
        assert app.screen is screen
