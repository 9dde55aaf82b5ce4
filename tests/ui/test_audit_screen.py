"""Pilot tests: the audit log filters, reports the hash chain, fits its columns to the
terminal, and opens an event whole."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console
from tests.ui.test_untrusted_text import HOSTILE, HOSTILE_NAME, hostile_catalog, screen_text
from textual.widgets import DataTable, Input, Static

from regtui.catalog.records import AuditEvent
from regtui.catalog.service import Catalog
from regtui.tui.app import make_app
from regtui.tui.commands import RegtuiCommands
from regtui.tui.screens.audit import COLUMNS, AuditScreen
from regtui.tui.screens.audit_event import AuditEventScreen
from regtui.tui.table_fit import CELL_PADDING

SIZE = (120, 40)
BOXES = ["#f-model", "#f-actor", "#f-action"]


async def open_audit(app, pilot, wait) -> AuditScreen:  # type: ignore[no-untyped-def]
    await wait(pilot)
    await pilot.press("l")
    await wait(pilot)
    assert isinstance(app.screen, AuditScreen)
    return app.screen


def view_text(screen: AuditEventScreen) -> str:
    """The event view as the dialog lays it out (all of it, scrolled or not)."""
    return static_text(screen.query_one("#audit-event-view", Static))


def static_text(static: Static) -> str:
    console = Console(width=static.content_size.width, record=True, file=io.StringIO())
    console.print(static.content)
    return console.export_text()


def squeezed(value: str) -> str:
    """Text without its whitespace: a value wrapped over lines reads the same."""
    return "".join(value.split())


def row_of(screen: AuditScreen, seq: int) -> int:
    return [e.seq for e in screen.events].index(seq)


async def test_audit_filters_and_verifies(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_audit(app, pilot, wait)
        assert "hash chain verifies" in str(screen.query_one("#chain", Static).render())
        table = screen.query_one(DataTable)
        assert table.row_count == len(catalog.audit_events())
        await pilot.press("f")
        screen.query_one("#f-action", Input).value = "approved"
        screen.query_one("#f-actor", Input).value = "reviewer"
        await pilot.pause(0.4)
        await wait(pilot)
        assert table.row_count == len(catalog.audit_events(actor="reviewer", action="approved"))
        assert table.row_count > 0


@pytest.mark.parametrize("box", BOXES)
async def test_escape_in_a_filter_clears_it_then_leaves_it_then_the_log(
    catalog: Catalog, wait, box: str
) -> None:
    typed = {"#f-model": "fraud-net", "#f-actor": "reviewer", "#f-action": "promoted"}[box]
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_audit(app, pilot, wait)
        table = screen.query_one(DataTable)
        everything = table.row_count
        screen.query_one(box, Input).focus()
        await pilot.press(*typed)
        await pilot.pause(0.4)
        await wait(pilot)
        assert 0 < table.row_count < everything
        # the footer says what escape does here, and does it
        assert screen.active_bindings["escape"].binding.description == "Clear filter"
        await pilot.press("escape")
        await pilot.pause(0.4)
        await wait(pilot)
        assert app.screen is screen and screen.query_one(box, Input).value == ""
        assert app.focused is screen.query_one(box, Input)
        assert table.row_count == everything
        assert screen.active_bindings["escape"].binding.description == "Leave filter"
        await pilot.press("escape")
        assert app.screen is screen and app.focused is table
        assert screen.active_bindings["escape"].binding.description == "Back"
        await pilot.press("escape")
        assert not isinstance(app.screen, AuditScreen)


@pytest.mark.parametrize("action", ["edited", "registered", "promoted", "rolled_back", "approved"])
async def test_enter_opens_the_event_whole(catalog: Catalog, wait, action: str) -> None:
    """Every value before and after, the reason and both hashes, wrapped, none cut."""
    catalog.edit_model(
        "fraud-net",
        description="a long description that says a great deal. " * 12,
        tags={"team": "risk", "owner": "x" * 150},
        reason="a reason that runs on: " + "because " * 40,
    )
    app = make_app(catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_audit(app, pilot, wait)
        wanted = next(e for e in screen.events if e.action == action)
        screen.query_one(DataTable).move_cursor(row=row_of(screen, wanted.seq))
        await pilot.press("enter")
        await wait(pilot)
        detail = app.screen
        assert isinstance(detail, AuditEventScreen) and detail.event == wanted
        shown = squeezed(view_text(detail))
        for value in expected_values(wanted):
            assert squeezed(value) in shown, value
        assert "…" not in view_text(detail)
        await pilot.press("escape")
        assert app.screen is screen
        assert screen.query_one(DataTable).cursor_row == row_of(screen, wanted.seq)


def expected_values(e: AuditEvent) -> list[str]:
    out = [e.hash, e.prev_hash, e.actor, e.action, e.target, e.reason or "none given"]
    for side in (e.before, e.after):
        if isinstance(side, dict):
            for key, value in side.items():
                out.append(key)
                if value is None:
                    out.append("none")
                else:  # JSON is shown indented: the same without its whitespace
                    out.append(
                        value if isinstance(value, str) else json.dumps(value, sort_keys=True)
                    )
    return [v for v in out if v]


async def test_the_event_detail_steps_through_the_log(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_audit(app, pilot, wait)
        await pilot.press("enter")
        await wait(pilot)
        detail = app.screen
        assert isinstance(detail, AuditEventScreen)
        newest = screen.events[0]
        assert detail.event == newest
        # at the newest event "previous" is shown but disabled, and does nothing
        assert not detail.active_bindings["p"].enabled
        await pilot.press("p")
        assert detail.event == newest
        await pilot.press("n", "n")
        assert detail.event == screen.events[2]
        assert screen.events[2].hash in view_text(detail)
        await pilot.press("p")
        assert detail.event == screen.events[1]


async def test_a_broken_chain_is_named_in_the_table_and_the_event(
    catalog: Catalog, db_path, wait
) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE audit_event SET reason = 'forged' WHERE seq = 3")
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_audit(app, pilot, wait)
        chain = str(screen.query_one("#chain", Static).render())
        assert "BROKEN" in chain and "3" in chain
        for seq, note in ((3, "breaks here"), (4, "after the break"), (2, "before the break")):
            screen.query_one(DataTable).move_cursor(row=row_of(screen, seq))
            await pilot.press("enter")
            await wait(pilot)
            assert note in view_text(app.screen)
            await pilot.press("escape")


SIZES = [(80, 24), (100, 30), (120, 40), (160, 50), (220, 50)]


@pytest.mark.parametrize("size", SIZES)
async def test_columns_by_priority_at_every_size(catalog: Catalog, wait, size) -> None:
    """Change and reason always show; at 160 columns everything does; nothing spills."""
    app = make_app(catalog)
    async with app.run_test(size=size) as pilot:
        screen = await open_audit(app, pilot, wait)
        table = screen.query_one(DataTable)
        keys = [str(c.key.value) for c in table.ordered_columns]
        assert {"action", "target", "change", "reason"} <= set(keys)
        if size[0] >= 160:
            assert keys == [c.key for c in COLUMNS]
        assert sum(c.width + CELL_PADDING for c in table.ordered_columns) < size[0]
        header = screen_text(app).splitlines()[5]
        assert "change" in header and "reason" in header


async def test_a_resize_or_a_new_event_keeps_the_cursor_on_its_event(
    catalog: Catalog, wait
) -> None:
    app = make_app(catalog)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_audit(app, pilot, wait)
        table = screen.query_one(DataTable)
        rows = table.row_count
        table.move_cursor(row=5)
        assert len(table.ordered_columns) == len(COLUMNS)
        await pilot.resize_terminal(80, 24)
        await wait(pilot)
        assert len(table.ordered_columns) < len(COLUMNS)
        assert table.row_count == rows and table.cursor_row == 5
        # a change made elsewhere arrives above: the cursor stays on its event
        seq = screen.events[5].seq
        with Catalog(catalog.url, user="ci") as other:
            other.edit_model("fraud-net", description="new", reason="from elsewhere")
        screen.catalog_changed()
        await wait(pilot)
        assert table.row_count == rows + 1
        assert screen.events[table.cursor_row].seq == seq


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_a_long_change_shows_where_it_differs(catalog: Catalog, wait, size) -> None:
    """Two long descriptions that differ only at the end: the cell shows both ends."""
    shared = "/data/projects/risk/experiments/2026/march/baseline/run-"
    catalog.edit_model("fraud-net", description=shared + "0001", reason="first")
    catalog.edit_model("fraud-net", description=shared + "0002", reason="second")
    app = make_app(catalog)
    async with app.run_test(size=size) as pilot:
        screen = await open_audit(app, pilot, wait)
        table = screen.query_one(DataTable)
        at = [str(c.key.value) for c in table.ordered_columns].index("change")
        cell = table.get_row_at(0)[at].plain
        before, after = cell.removeprefix("description: ").split(" → ")
        assert before.endswith("1") and after.endswith("2"), cell
        assert cell in screen_text(app).splitlines()[6]


async def test_hostile_text_is_shown_as_characters(tmp_path: Path, fixed_clock, wait) -> None:
    cat = hostile_catalog(tmp_path / "evil.sqlite", HOSTILE_NAME)
    cat.edit_model(
        HOSTILE_NAME, description=f"[bold]{HOSTILE}", reason=f"[bold]why[/bold] {HOSTILE}"
    )
    app = make_app(cat)
    async with app.run_test(size=(160, 50)) as pilot:
        await open_audit(app, pilot, wait)
        shown = screen_text(app)
        assert "[bold]why[/bold]" in shown and "[@click=app.quit]" in shown
        assert "\x1b" not in shown and "\x9b" not in shown and "\u202e" not in shown
        await pilot.press("enter")
        await wait(pilot)
        detail = view_text(app.screen)
        for literal in ("[bold]why[/bold]", "[@click=app.quit]Q", "\\x1b[31mESC", "\\u202eevil"):
            assert literal in detail, literal
        assert HOSTILE_NAME[:20] in screen_text(app)
        await pilot.click("#audit-event-view")  # a click on the text runs nothing
        assert app.is_running and isinstance(app.screen, AuditEventScreen)
    cat.close()


async def test_every_audit_action_is_in_the_palette(catalog: Catalog, wait) -> None:
    """Each key the footer shows (but escape: back, clear) runs from the palette too."""
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_audit(app, pilot, wait)
        offered = {
            getattr(hit.command, "args", ("",))[0]
            async for hit in RegtuiCommands(screen).discover()
        }
        shown = {
            a.binding.action.removeprefix("screen.")
            for key, a in screen.active_bindings.items()
            if a.binding.show and a.node is not app and key != "escape"
        }
        assert "verify" in shown and "focus_filter" in shown
        assert shown == {"open_event", "focus_filter", "verify"}
        for action in shown:
            assert action in offered, action
        await pilot.press("ctrl+p")
        await pilot.press(*"audit: Open event")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait(pilot)
        assert isinstance(app.screen, AuditEventScreen)
