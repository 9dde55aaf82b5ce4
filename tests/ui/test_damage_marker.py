"""A damaged version is marked in the version table and its detail, and the damage
text (taken from the artifact) is shown as plain characters, never as markup."""

from __future__ import annotations

from pathlib import Path

from tests.ui.test_untrusted_text import SIZE, screen_text

from regtui.catalog.service import Candidate, Catalog
from regtui.hashing import Digest
from regtui.tui.app import make_app
from regtui.tui.widgets.version_table import DAMAGE_MARK

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
