"""Pilot tests: a reviewer can reach every change from the TUI, and the policy
answers before a reason is asked (never after it was typed)."""

from __future__ import annotations

import pytest
from textual.widgets import Input, OptionList

from regtui.catalog.records import Policy
from regtui.catalog.service import Catalog
from regtui.tui.app import make_app
from regtui.tui.screens.catalog import CatalogScreen
from regtui.tui.screens.edit import EditModal
from regtui.tui.screens.reason import ReasonModal
from regtui.tui.screens.stage import StageChooser
from regtui.tui.textual_compat import notifications
from regtui.tui.widgets.version_table import VersionTable

pytestmark = [pytest.mark.app, pytest.mark.slow]

SIZE = (120, 40)


def notes(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.message for n in notifications(app)]


async def give_reason(pilot, reason: str) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(pilot.app.screen, ReasonModal), pilot.app.screen
    pilot.app.screen.query_one("#reason", Input).value = reason
    await pilot.press("enter")


async def open_at(pilot, wait, model: str, version: int) -> None:  # type: ignore[no-untyped-def]
    """Select `model` and put the cursor on `version` (newest first)."""
    screen = pilot.app.screen
    assert isinstance(screen, CatalogScreen)
    screen.jump_to_model(model)
    await wait(pilot)
    table = screen.query_one(VersionTable)
    newest = pilot.app.catalog.model(model).versions
    table.cursor = newest - version
    await wait(pilot)
    assert table.version is not None and table.version.version == version


async def test_out_of_production_when_it_held_only_one_version(catalog: Catalog, wait) -> None:
    """fraud-net:5 is the only version production ever held: roll back cannot help,
    demote empties the stage, and then the version can be rejected."""
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await open_at(pilot, wait, "fraud-net", 5)
        await pilot.press("r")
        await wait(pilot)
        assert not isinstance(app.screen, ReasonModal)
        assert "D empties production" in notes(app)[-1]
        await pilot.press("D")
        await give_reason(pilot, "model retired")
        await wait(pilot)
        assert catalog.model("fraud-net").stages.get("production") is None
        event = catalog.audit_events("fraud-net", newest_first=True, limit=1)[0]
        assert (event.action, event.reason, event.actor) == ("demoted", "model retired", "alice")
        await pilot.press("x")  # now nothing holds it: reject asks why
        await give_reason(pilot, "superseded")
        await wait(pilot)
        assert catalog.get("fraud-net:5").approval.status == "rejected"


async def test_demote_asks_which_stage_when_several_are_held(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        held = {s for s, n in catalog.model("churn-xgb").stages.items() if n is not None}
        assert len(held) >= 2
        await pilot.press("D")
        assert isinstance(app.screen, StageChooser)
        ids = [o.id for o in app.screen.query_one(OptionList).options]
        assert set(ids) == held  # only stages that hold a version
        await pilot.press(*["down"] * ids.index("staging"), "enter")
        await give_reason(pilot, "staging trial over")
        await wait(pilot)
        stages = catalog.model("churn-xgb").stages
        assert stages.get("staging") is None and stages.get("production") is not None


@pytest.mark.parametrize(
    ("model", "version", "key", "words"),
    [
        # the production holder cannot be rejected or archived: say how to free it
        ("fraud-net", 5, "x", "demote or roll back production first"),
        ("fraud-net", 5, "A", "demote or roll back production first"),
        # a rejected version can go to no stage
        ("fraud-net", 6, "p", "is rejected and can go to no stage; approve it first"),
    ],
)
async def test_policy_refuses_before_the_reason_is_asked(
    catalog: Catalog, wait, model: str, version: int, key: str, words: str
) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await open_at(pilot, wait, model, version)
        before = catalog.audit_head()
        await pilot.press(key)
        await wait(pilot)
        if isinstance(app.screen, StageChooser):
            await pilot.press("enter")  # the first stage offered
            await wait(pilot)
        assert not isinstance(app.screen, ReasonModal)
        assert words in notes(app)[-1]
        assert catalog.audit_head() == before


async def test_pending_version_to_protected_stage_is_refused_first(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await open_at(pilot, wait, "sentiment-bert", 4)
        assert catalog.get("sentiment-bert:4").approval.status == "pending"
        await pilot.press("p")
        assert isinstance(app.screen, StageChooser)
        ids = [o.id for o in app.screen.query_one(OptionList).options]
        await pilot.press(*["down"] * ids.index("production"), "enter")
        await wait(pilot)
        assert not isinstance(app.screen, ReasonModal)
        assert "approve it first" in notes(app)[-1]


async def test_approver_rule_is_checked_before_the_reason(catalog: Catalog, wait) -> None:
    """With distinct approvers, alice (who registered every version) is told at once."""
    with Catalog(catalog.url, user="admin") as admin:
        admin.set_policy(Policy(distinct_approver=True), reason="four eyes")
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await open_at(pilot, wait, "sentiment-bert", 3)
        await pilot.press("a")
        await wait(pilot)
        assert not isinstance(app.screen, ReasonModal)
        assert "another reviewer must" in notes(app)[-1]


async def test_archive_and_unarchive_from_the_catalog(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await open_at(pilot, wait, "sentiment-bert", 2)
        await pilot.press("A")
        assert isinstance(app.screen, ReasonModal)
        await give_reason(pilot, "bad tokenizer")
        await wait(pilot)
        assert catalog.get("sentiment-bert:2").archived
        # archived: promote says why not, before asking anything
        await pilot.press("p")
        await wait(pilot)
        assert "archived; unarchive it first" in notes(app)[-1]
        assert not isinstance(app.screen, (StageChooser, ReasonModal))
        await pilot.press("A")
        await give_reason(pilot, "tokenizer fixed")
        await wait(pilot)
        assert not catalog.get("sentiment-bert:2").archived
        actions = [e.action for e in catalog.audit_events("sentiment-bert", newest_first=True)]
        assert actions[:2] == ["unarchived", "archived"]


async def test_edit_a_version_from_the_catalog(catalog: Catalog, wait) -> None:
    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await open_at(pilot, wait, "churn-xgb", 2)
        await pilot.press("e")  # e: the version, on every screen
        assert isinstance(app.screen, EditModal)
        assert "churn-xgb:2" in str(app.screen.title_text)
        await pilot.press("escape")
        await pilot.press("E")  # E: its model
        assert isinstance(app.screen, EditModal)
        assert str(app.screen.title_text) == "Edit churn-xgb"


@pytest.mark.parametrize(
    "label",
    [
        "stage: Demote (empty a stage)",
        "version: Archive",
        "version: Edit description and tags",
        "version: Log metrics",
        "catalog: Find in all models",
    ],
)
async def test_palette_offers_every_change(catalog: Catalog, wait, label: str) -> None:
    from regtui.tui.commands import RegtuiCommands

    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        provider = RegtuiCommands(app.screen)
        names = [name for name, _run, _help in provider.offered_actions()]
        assert label in names


async def test_log_metrics_from_the_catalog(catalog: Catalog, wait) -> None:
    from regtui.tui.screens.log_metrics import LogMetricsModal

    app = make_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await open_at(pilot, wait, "churn-xgb", 3)
        await pilot.press("L")
        modal = app.screen
        assert isinstance(modal, LogMetricsModal)
        modal.query_one("#metrics", Input).value = "test_auc=0.91, latency_ms=12"
        await pilot.press("enter")  # on to the reason
        assert modal.query_one("#reason", Input).has_focus
        await pilot.press("enter")  # no reason: refused in place
        assert isinstance(app.screen, LogMetricsModal)
        modal.query_one("#reason", Input).value = "holdout evaluation"
        await pilot.press("enter")
        await wait(pilot)
        v = catalog.get("churn-xgb:3")
        assert v.metrics["test_auc"] == 0.91 and v.metrics["latency_ms"] == 12
        event = catalog.audit_events("churn-xgb", newest_first=True, limit=1)[0]
        assert event.reason == "holdout evaluation"


async def test_review_from_the_diff(catalog: Catalog, wait) -> None:
    """In the diff, the right-hand version is the one reviewed: approve and promote
    act on it, and the policy answers first there too."""
    from regtui.tui.screens.diff import DiffScreen

    app = make_app(catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait(pilot)
        await open_at(pilot, wait, "sentiment-bert", 4)
        await pilot.press("d")
        await wait(pilot)
        assert isinstance(app.screen, DiffScreen)
        right = app.screen.current_version()
        assert right is not None and right.ref == "sentiment-bert:4"
        await pilot.press("p")  # pending: production refuses before anything is asked
        if isinstance(app.screen, StageChooser):
            ids = [o.id for o in app.screen.query_one(OptionList).options]
            await pilot.press(*["down"] * ids.index("production"), "enter")
            await wait(pilot)
        assert not isinstance(app.screen, ReasonModal)
        assert "approve it first" in notes(app)[-1]
        await pilot.press("a")
        await give_reason(pilot, "diff looks right")
        await wait(pilot)
        assert catalog.get("sentiment-bert:4").approval.status == "approved"
        assert isinstance(app.screen, DiffScreen)
        await wait(pilot)
        assert app.screen.current_version().approval.status == "approved"
