"""Pilot tests: the audit log filters and reports the hash chain."""

from __future__ import annotations

import sqlite3

from textual.widgets import DataTable, Input, Static

from regtui.catalog.service import Catalog
from regtui.tui.app import make_app
from regtui.tui.screens.audit import AuditScreen

SIZE = (120, 40)


async def test_audit_filters_and_verifies(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("l")
        await wait(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
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
        await pilot.press("escape")
        assert not isinstance(app.screen, AuditScreen)


async def test_audit_shows_a_broken_chain(catalog: Catalog, db_path, wait) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE audit_event SET reason = 'forged' WHERE seq = 3")
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("l")
        await wait(pilot)
        chain = str(app.screen.query_one("#chain", Static).render())
        assert "BROKEN" in chain and "3" in chain
