"""Pilot tests: filtered paging, and clearing a filter, in a table of many versions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input

from regtui.catalog.service import Catalog
from regtui.demo import _candidate
from regtui.tui.app import make_app
from regtui.tui.paging import PAGE_SIZE, VersionPages
from regtui.tui.widgets.version_table import VersionTable

SIZE = (120, 40)
N = 1200


@pytest.fixture
def big(tmp_path: Path, fixed_clock: None) -> Iterator[Catalog]:
    with Catalog(tmp_path / "big.sqlite", user="alice") as cat:
        cat.add_candidates([_candidate("big", i) for i in range(1, N + 1)])
        yield cat


async def apply_filter(pilot, text: str, wait) -> VersionTable:  # type: ignore[no-untyped-def]
    await pilot.press("slash")
    pilot.app.screen.query_one("#filter", Input).value = text
    await pilot.press("enter")
    await wait(pilot)
    return pilot.app.screen.query_one(VersionTable)


def numbers(table: VersionTable, start: int, stop: int) -> list[int | None]:
    return [(v.version if (v := table.row(i)) is not None else None) for i in range(start, stop)]


async def test_small_filter_result_pages_past_the_first_page(big: Catalog, wait) -> None:
    app = make_app(big)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        table = await apply_filter(pilot, "version > 900 and version <= 1150", wait)
        assert table.total == 250 and not table.counting
        assert numbers(table, 0, PAGE_SIZE) == list(range(1150, 1150 - PAGE_SIZE, -1))
        await pilot.press("end")
        await wait(pilot)
        assert table.version is not None and table.version.version == 901
        await pilot.press("pageup")
        await wait(pilot)
        assert 0 < table.cursor < 249
        assert table.version is not None and table.version.version == 1150 - table.cursor


async def test_large_filter_result_fetches_later_pages(big: Catalog, wait) -> None:
    app = make_app(big)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        table = await apply_filter(pilot, "version > 50", wait)
        assert table.total == N - 50 and not table.counting
        assert numbers(table, 0, 3) == [N, N - 1, N - 2]
        await pilot.press("end")  # a page beyond the first query's rows
        await wait(pilot)
        assert table.version is not None and table.version.version == 51
        last_page = (N - 50 - 1) // PAGE_SIZE * PAGE_SIZE
        assert numbers(table, last_page, last_page + 2) == [N - last_page, N - last_page - 1]


async def test_clearing_the_filter_restores_the_unfiltered_rows(big: Catalog, wait) -> None:
    app = make_app(big)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        table = await apply_filter(pilot, "version <= 10", wait)
        assert table.total == 10
        await pilot.press("escape")
        # shown straight away from the rows kept aside: no query, no "loading…"
        assert table.query_spec.where == ""
        assert table.total == N
        assert table.version is not None and table.version.version == N
        await wait(pilot)
        assert numbers(table, 0, 2) == [N, N - 1]


async def test_clearing_the_filter_after_a_change_shows_the_change(big: Catalog, wait) -> None:
    app = make_app(big)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        table = await apply_filter(pilot, "version <= 10", wait)
        with Catalog(big.url, user="ci") as other:
            other.add_candidates([_candidate("big", N + 1)])
        app.refresh_catalog()  # what the 1 s poll does
        await wait(pilot)
        await pilot.press("escape")
        await wait(pilot)
        assert table.total == N + 1
        assert table.version is not None and table.version.version == N + 1


async def test_footer_follows_focus_between_filter_box_and_table(big: Catalog, wait) -> None:
    from regtui.tui.textual_compat import FooterKey
    from regtui.tui.widgets.footer import QuietFooter

    def shown() -> list[str]:
        footer = app.screen.query_one(QuietFooter)
        return [k.key for k in footer.query_children(FooterKey) if k.display]

    app = make_app(big)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        table_keys = shown()
        assert {"slash", "a", "p", "q"} <= set(table_keys)
        for _ in range(2):  # the second round toggles the keys mounted by the first
            await pilot.press("slash")
            await wait(pilot)
            assert "a" not in shown() and "q" not in shown()  # the box takes letters
            assert "slash" in shown()
            await pilot.press("escape")
            await wait(pilot)
            assert shown() == table_keys


def test_numbers_and_counts_fit_their_cells() -> None:
    from regtui.tui.safe import number
    from regtui.tui.widgets.model_list import count_text as _count

    pages = VersionPages()
    pages.total = 123_456
    first = pages.columns(160)[0]
    assert first.title == "#" and first.width >= len("123456")
    pages.total = 42
    assert pages.columns(160)[0].width == 5
    assert [_count(n) for n in (7, 99_999, 100_000, 2_345_678)] == ["7", "99999", "100k", "2345k"]
    assert number(1e-05) == "1e-05" and number(0.000123456) == "0.0001235"
