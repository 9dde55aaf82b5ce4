"""Pilot tests: every change asks why, refusals are shown plainly, undo works."""

from __future__ import annotations

from textual.widgets import Input, OptionList, Static, TextArea

from regtui.catalog.service import Catalog
from regtui.tui.app import make_app
from regtui.tui.screens.catalog import CatalogScreen
from regtui.tui.screens.edit import EditModal
from regtui.tui.screens.reason import ReasonModal
from regtui.tui.screens.stage import StageChooser
from regtui.tui.screens.version import VersionScreen
from regtui.tui.textual_compat import FooterKey, notifications
from regtui.tui.widgets.version_table import VersionTable

SIZE = (120, 40)


def notes(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.message for n in notifications(app)]


async def give_reason(pilot, reason: str) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(pilot.app.screen, ReasonModal)
    pilot.app.screen.query_one("#reason", Input).value = reason
    await pilot.press("enter")


async def test_approve_asks_for_a_reason_and_reject_undoes_it(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("a")
        await give_reason(pilot, "eval passed")
        await wait(pilot)
        v = catalog.get("churn-xgb:6")
        assert (v.approval.status, v.approval.by, v.approval.reason) == (
            "approved",
            "alice",
            "eval passed",
        )
        assert any("Approved churn-xgb:6" in n for n in notes(app))
        table = app.screen.query_one(VersionTable)
        assert table.version is not None and table.version.approval.status == "approved"
        assert app.screen.check_action("approve", ()) is None  # already approved
        await pilot.press("x")  # v6 holds staging: the policy refuses before asking why
        await wait(pilot)
        assert not isinstance(app.screen, ReasonModal)
        assert "rejected-no-stage" in notes(app)[-1]
        assert "demote or roll back staging first" in notes(app)[-1]
        assert catalog.get("churn-xgb:6").approval.status == "approved"
        await pilot.press("down", "a")
        await give_reason(pilot, "ok")
        await wait(pilot)
        await pilot.press("x")  # undo the approval of v5
        await give_reason(pilot, "changed my mind")
        await wait(pilot)
        assert catalog.get("churn-xgb:5").approval.status == "rejected"
        event = catalog.audit_events("churn-xgb", newest_first=True, limit=1)[0]
        assert (event.action, event.reason) == ("rejected", "changed my mind")


async def test_reason_is_required_and_escape_cancels(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        before = catalog.change_counter()
        await pilot.press("a", "enter")  # empty reason
        modal = app.screen
        assert isinstance(modal, ReasonModal)
        assert "reason is required" in str(modal.query_one("#reason-error", Static).render())
        await pilot.press("escape")
        await wait(pilot)
        assert isinstance(app.screen, CatalogScreen)
        assert catalog.change_counter() == before
        assert catalog.get("churn-xgb:6").approval.status == "pending"


async def test_policy_refusal_is_shown_plainly(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("p")
        chooser = app.screen
        assert isinstance(chooser, StageChooser)
        assert chooser.query_one(OptionList).get_option_at_index(0).id == "production"
        await pilot.press("enter")  # production
        await wait(pilot)
        # refused before a reason is asked for: the catalog's own rule, checked first
        assert not isinstance(app.screen, ReasonModal)
        refused = [n for n in notifications(app) if n.severity == "error"]
        assert refused and "protected-stage-needs-approval" in refused[-1].message
        assert refused[-1].markup is False
        assert refused[-1].title == "Refused by policy"
        assert catalog.get("churn-xgb@production").version == 1


async def test_promote_then_roll_back(catalog: Catalog, wait) -> None:
    reviewer = Catalog(catalog.url, user="reviewer")
    reviewer.approve("churn-xgb:6", "ok")
    reviewer.close()
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("p", "enter")  # production
        await give_reason(pilot, "best auc")
        await wait(pilot)
        assert catalog.get("churn-xgb@production").version == 6
        assert any("Promoted churn-xgb:6 to production" in n for n in notes(app))
        await pilot.press("r")  # two stages held: choose which
        assert isinstance(app.screen, StageChooser)
        option_ids = [o.id for o in app.screen.query_one(OptionList).options]
        await pilot.press(*["down"] * option_ids.index("production"), "enter")
        await give_reason(pilot, "latency regression")
        await wait(pilot)
        assert catalog.get("churn-xgb@production").version == 1
        moves = catalog.stage_history("churn-xgb", "production")
        assert (moves[-1].action, moves[-1].reason) == ("rollback", "latency regression")


async def test_rollback_with_nothing_earlier_says_so_without_asking(catalog: Catalog, wait) -> None:
    held = {s: n for s, n in catalog.model("churn-xgb").stages.items() if n is not None}
    for stage in held:
        if stage != "production":
            catalog.demote("churn-xgb", stage)
    if "production" not in held:
        catalog.promote("churn-xgb:1", "production", reason="first")
    assert catalog.rollback_target("churn-xgb", "production") is None
    moves_before = len(catalog.stage_history("churn-xgb"))
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("r")
        await wait(pilot)
        assert not isinstance(app.screen, ReasonModal)
        assert any("no earlier version to roll back to" in n for n in notes(app))
    assert len(catalog.stage_history("churn-xgb")) == moves_before


async def test_promote_to_a_new_stage_typed_by_name(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("p")
        box = app.screen.query_one("#new-stage", Input)
        box.value = "Bad Name"
        box.focus()
        await pilot.press("enter")
        assert "bad stage name" in str(app.screen.query_one("#stage-error", Static).render())
        box.value = "canary"
        await pilot.press("enter")
        await give_reason(pilot, "canary 5%")
        await wait(pilot)
        assert catalog.get("churn-xgb@canary").version == 6


async def test_edit_model_description_and_tags(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("E")
        modal = app.screen
        assert isinstance(modal, EditModal)
        modal.query_one("#description", TextArea).text = "Churn model.\n\nOwned by growth."
        modal.query_one("#tags", Input).value = "team=growth, tier=1"
        modal.query_one("#reason", Input).value = "document it"
        modal.query_one("#reason", Input).focus()
        await pilot.press("enter")
        await wait(pilot)
        m = catalog.model("churn-xgb")
        assert m.description == "Churn model.\n\nOwned by growth."
        assert m.tags == {"team": "growth", "tier": "1"}
        assert "Churn model." in str(app.screen.query_one("#model-head", Static).render())


async def test_version_screen_actions_and_tag_edit(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("enter")
        await wait(pilot)
        assert isinstance(app.screen, VersionScreen)
        await pilot.press("a")
        await give_reason(pilot, "fine")
        await wait(pilot)
        assert app.screen.version is not None
        assert app.screen.version.approval.status == "approved"  # reloaded on change
        await pilot.press("e")
        modal = app.screen
        assert isinstance(modal, EditModal)
        modal.query_one("#tags", Input).value = "candidate=yes"
        modal.query_one("#reason", Input).value = "flag it"
        await pilot.press("ctrl+s")
        await wait(pilot)
        assert catalog.get("churn-xgb:6").tags == {"candidate": "yes"}
        await pilot.press("d")
        await wait(pilot)
        assert app.screen.__class__.__name__ == "DiffScreen"


async def test_read_only_disables_every_change(catalog: Catalog, wait) -> None:
    app = make_app(catalog, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        screen = app.screen
        changes = ("approve", "reject", "promote", "rollback", "demote", "archive", "edit")
        for action in (*changes, "edit_tags"):
            assert screen.check_action(action, ()) is False, action  # hidden, not greyed
        await pilot.press("a", "x", "p", "r", "e", "D", "A", "E")
        assert isinstance(app.screen, CatalogScreen)
        assert "read-only" in app.sub_title
        assert screen.check_action("diff", ()) is True
        # the footer and the palette offer no change at all
        shown = {k.action for k in screen.query(FooterKey)}
        assert shown and not shown & set(changes) and "diff" in shown
        from regtui.tui.commands import RegtuiCommands

        names = " ".join(n for n, _r, _h in RegtuiCommands(screen).offered_actions())
        for word in ("Approve", "Reject", "Promote", "Roll back", "Demote", "Archive", "Edit"):
            assert word not in names
        # the version screen too
        await pilot.press("enter")
        await wait(pilot)
        assert isinstance(app.screen, VersionScreen)
        shown = {k.action for k in app.screen.query(FooterKey)}
        assert shown and not shown & {*changes, "edit_tags"}


async def test_version_description_is_shown_and_edited_on_the_version_screen(
    catalog: Catalog, wait
) -> None:
    catalog.edit("churn-xgb:6", description="[b]not markup[/b]\nsecond line")
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("enter")
        await wait(pilot)
        screen = app.screen
        assert isinstance(screen, VersionScreen)
        shown = screen.query_one("#version-description", Static)
        assert shown.display and "[b]not markup[/b]" in str(shown.render())
        await pilot.press("e")
        modal = app.screen
        assert isinstance(modal, EditModal)
        area = modal.query_one("#description", TextArea)
        assert area.text == "[b]not markup[/b]\nsecond line"
        area.text = "retrained on March data"
        modal.query_one("#reason", Input).value = "notes"
        await pilot.press("ctrl+s")
        await wait(pilot)
        assert catalog.get("churn-xgb:6").description == "retrained on March data"
        assert catalog.get("churn-xgb:6").tags == {}  # only what changed was sent
        assert "retrained on March data" in str(
            app.screen.query_one("#version-description", Static).render()
        )


async def test_a_version_without_a_description_shows_no_empty_section(
    catalog: Catalog, wait
) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("enter")
        await wait(pilot)
        assert not app.screen.query_one("#version-description", Static).display
