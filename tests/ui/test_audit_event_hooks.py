"""The audit event screen says how the event's hooks went: one line per hook, its
latest attempt (`deploy ✓ 0 in 0.12 s`, a failure with its attempt number), and
nothing about hooks for an event none was told of."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console
from tests.ui.test_audit_screen import open_audit, row_of, view_text
from textual.widgets import DataTable

from regtui.catalog.hook_delivery import Retry
from regtui.catalog.hooks import Attempt
from regtui.catalog.records import AuditEvent
from regtui.catalog.service import Catalog
from regtui.tui.app import make_app
from regtui.tui.screens.audit_event import AuditEventScreen, event_view, hook_lines

EVENT = AuditEvent(5, datetime.now(UTC), "erin", "promoted", "churn", "churn@production",
                   {"version": 1}, {"version": 2}, "go", "0" * 64, "1" * 64)  # fmt: skip


def attempt(hook: str, n: int, ok: bool, status: int | None, final: bool) -> Attempt:
    return Attempt(hook, 5, n, datetime.now(UTC), ok, status, "", 0.123, final)


def rendered(value: object) -> str:
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(value)
    return console.export_text()


def test_each_hook_shows_its_latest_attempt() -> None:
    shown = rendered(
        hook_lines(
            [
                attempt("deploy", 1, True, 200, True),
                attempt("ci", 1, False, 500, False),
                attempt("ci", 2, False, None, True),
                attempt("slack\x1b[31m", 1, False, 1, False),
            ]
        )
    ).splitlines()
    assert shown[0] == "deploy ✓ 200 in 0.12 s"
    assert shown[1] == "ci ✗ no answer in 0.12 s (attempt 2)"
    assert shown[2].endswith("✗ 1 in 0.12 s (retrying)") and "\x1b" not in shown[2]


def test_no_attempts_no_hooks_row() -> None:
    assert hook_lines([]) is None
    assert "hooks" not in rendered(event_view(EVENT))
    shown = rendered(event_view(EVENT, attempts=[attempt("deploy", 1, True, 200, True)]))
    assert shown.splitlines()[-1].split() == ["hooks", "deploy", "✓", "200", "in", "0.12", "s"]


async def test_the_event_screen_shows_the_deliveries_of_its_event(catalog: Catalog, wait) -> None:
    catalog.add_hook("ok", ["metrics-logged"], run="cat > /dev/null")
    catalog.add_hook("bad", ["metrics-logged"], run="exit 4")
    catalog.log("churn-xgb:1", metrics={"f1": 0.5}, reason="late")
    catalog.hook_deliverer(Retry(2, 0.01)).run_once()
    app = make_app(catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(app, pilot, wait)
        logged = next(e for e in screen.events if e.action == "logged")
        screen.query_one(DataTable).move_cursor(row=row_of(screen, logged.seq))
        await pilot.press("enter")
        await wait(pilot)
        assert isinstance(app.screen, AuditEventScreen)
        text = view_text(app.screen)
        assert "ok ✓ 0 in" in text and "bad ✗ 4 in" in text and "(attempt 2)" in text
        await pilot.press("n")  # an older event: no hook was told of it
        await wait(pilot)
        assert "hooks" not in view_text(app.screen)
