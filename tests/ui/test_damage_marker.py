"""A damaged version is marked in the version table and its detail, and the damage
text (taken from the artifact) is shown as plain characters, never as markup."""

from __future__ import annotations

from pathlib import Path

from tests.ui.test_untrusted_text import SIZE, screen_text

from regtui.catalog.service import Candidate, Catalog
from regtui.hashing import Digest
from regtui.tui.app import make_app
from regtui.tui.columns import DAMAGE_MARK
from regtui.tui.textual_compat import notifications

DAMAGE = (
    "an HTML page, not a model: a failed download? (<title>[bold red]404[/] [@click=app.quit]x)"
)


def _catalog(path: Path) -> Catalog:
    cat = Catalog(path, user="alice")
    cat.add_candidates(
        [
            Candidate(
                path=Path("/runs/churn/1/model.safetensors"),
                model="churn",
                digest=Digest("a" * 64, 10),
                format="html",
                damage=DAMAGE,
            ),
            Candidate(
                path=Path("/runs/churn/2/model.safetensors"),
                model="churn",
                digest=Digest("b" * 64, 10),
                format="safetensors",
            ),
        ]
    )
    return cat


async def test_damaged_versions_are_marked_and_their_reason_shown_as_text(
    tmp_path: Path, fixed_clock, wait
) -> None:
    cat = _catalog(tmp_path / "c.sqlite")
    app = make_app(cat)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        rows = screen_text(app).splitlines()
        damaged = [r for r in rows if f"{DAMAGE_MARK}1 " in r]
        sound = [r for r in rows if " 2 " in r and "safetensors" in r]
        assert damaged and sound and DAMAGE_MARK not in sound[0]
        await pilot.press("down", "enter")  # newest first: version 1 is the second row
        await wait(pilot)
        shown = screen_text(app)
        assert f"{DAMAGE_MARK} damaged" in shown
        assert "[bold red]404[/]" in shown and "[@click=app.quit]x" in shown
        assert app.is_running
    cat.close()


async def test_approving_or_shipping_a_damaged_version_is_refused_before_the_reason(
    tmp_path: Path, fixed_clock, wait
) -> None:
    cat = _catalog(tmp_path / "c.sqlite")
    app = make_app(cat)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("down")  # version 1, the damaged one
        await wait(pilot)
        for keys in (("a",), ()):
            if keys:
                await pilot.press(*keys)
            else:
                app.screen.action_promote_to("production")  # type: ignore[attr-defined]
            await wait(pilot)
            assert type(app.screen).__name__ != "ReasonModal"  # no reason was asked for
            shown = [str(n.message) for n in notifications(app)]
            assert any("artifact-damaged" in m and "churn:1" in m for m in shown)
            app.clear_notifications()
        assert cat.get("churn:1").approval.status == "pending"
        assert not cat.get("churn:1").stages
    cat.close()
