"""The edit dialogs send only what the user changed (tags set, keys dropped).

A tag another client adds while the dialog is open is kept: `Catalog.edit` merges
the change into the tags it reads inside its write transaction, as `regtui edit`
does (tests/unit/cli/test_edit_race.py). Sending the dialog's whole set would write
the tags as they were when it opened, losing the other change."""

from __future__ import annotations

from textual.widgets import Input

from regtui.catalog.service import Catalog
from regtui.tui.app import make_app
from regtui.tui.screens.edit import EditModal, tag_changes
from regtui.tui.screens.version import VersionScreen

SIZE = (120, 40)


def _meanwhile(catalog: Catalog, target: str, **tags: str) -> None:
    """Another client (the CLI, a script) edits `target` while the dialog is open."""
    with Catalog(catalog.url, user="bob") as other:
        other.edit(target, tags=tags, reason="meanwhile")


async def test_model_edit_keeps_a_tag_added_while_the_dialog_was_open(
    catalog: Catalog, wait
) -> None:
    catalog.edit("churn-xgb", tags={"team": "growth", "tier": "2"}, reason="setup")
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("E")
        modal = app.screen
        assert isinstance(modal, EditModal)
        box = modal.query_one("#tags", Input)
        assert box.value == "team=growth, tier=2"
        box.value = "team=growth, tier=1"  # one tag changed
        _meanwhile(catalog, "churn-xgb", oncall="bob")
        modal.query_one("#reason", Input).value = "retier"
        modal.query_one("#reason", Input).focus()
        await pilot.press("enter")
        await wait(pilot)
    assert catalog.model("churn-xgb").tags == {"team": "growth", "tier": "1", "oncall": "bob"}


async def test_version_tag_edit_keeps_a_tag_added_while_the_dialog_was_open(
    catalog: Catalog, wait
) -> None:
    catalog.edit("churn-xgb:6", tags={"a": "1", "b": "2"}, reason="setup")
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("enter")
        await wait(pilot)
        assert isinstance(app.screen, VersionScreen)
        assert app.screen.version is not None and app.screen.version.ref == "churn-xgb:6"
        await pilot.press("e")
        modal = app.screen
        assert isinstance(modal, EditModal)
        box = modal.query_one("#tags", Input)
        assert box.value == "a=1, b=2"
        box.value = "b=3"  # a dropped, b changed
        _meanwhile(catalog, "churn-xgb:6", c="4")
        modal.query_one("#reason", Input).value = "retag"
        await pilot.press("ctrl+s")
        await wait(pilot)
    assert catalog.get("churn-xgb:6").tags == {"b": "3", "c": "4"}


def test_tag_changes_are_what_differs() -> None:
    before = {"a": "1", "b": "2", "c": "3"}
    assert tag_changes(before, before) == ({}, ())
    assert tag_changes(before, {"a": "1", "b": "9", "d": "4"}) == ({"b": "9", "d": "4"}, ("c",))
    assert tag_changes(before, {}) == ({}, ("a", "b", "c"))
