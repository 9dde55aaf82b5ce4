"""Markup and escape sequences in artifact metadata are shown as characters."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from regtui.catalog.service import Candidate, Catalog
from regtui.hashing import Digest
from regtui.tui.app import make_app
from regtui.tui.safe import clean, content, text

SIZE = (140, 45)
HOSTILE = "[@click=app.quit]Q [red]red[/red] \x1b[31mESC\x1b[0m \x9b2J \u202eevil [unclosed"
# A model name may hold markup and ref punctuation (names are written as people write them)
HOSTILE_NAME = "[@click=app.quit]evil [b]team[/b]:a@b [unclosed"


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    """The characters on screen, from the SVG screenshot."""
    svg = app.export_screenshot()
    rows: dict[int, dict[int, str]] = {}
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        rows.setdefault(round(float(m.group(2)) / 24.4), {})[round(float(m.group(1)) / 12.2)] = (
            html.unescape(m.group(3)).replace("\xa0", " ")
        )
    lines = []
    for r in sorted(rows):
        line = ""
        for c in sorted(rows[r]):
            line = line.ljust(c) + rows[r][c]
        lines.append(line)
    return "\n".join(lines)


def hostile_catalog(path: Path, model: str = "evil") -> Catalog:
    cat = Catalog(path, user="alice")
    cat.add_candidates(
        [
            Candidate(
                path=Path(f"/runs/evil/{HOSTILE}/model.onnx"),
                model=model,
                digest=Digest("a" * 64, 10),
                format="[@click=app.quit]fmt",
                metrics={"auc[/]": 0.5, "[b]loss": 0.1},
                params={"[i]p": HOSTILE},
                tags={"owner": HOSTILE},
                metadata={"model_card": f"# Card\n\n{HOSTILE}\n\n[link](https://evil.example)"},
                warnings=[HOSTILE],
            ),
            Candidate(
                path=Path("/runs/evil/2/model.onnx"),
                model=model,
                digest=Digest("b" * 64, 10),
                format="onnx",
                metrics={"auc[/]": 0.7, "[b]loss": 0.05},
            ),
        ]
    )
    cat.edit_model(model, description=HOSTILE, tags={"[x]": HOSTILE}, reason=HOSTILE)
    return cat


def test_safe_helpers_escape_controls_and_keep_markup_literal() -> None:
    assert "\x1b" not in clean(HOSTILE) and "\\x1b" in clean(HOSTILE)
    assert "\x9b" not in clean(HOSTILE) and "\\x9b" in clean(HOSTILE)
    assert "\u202e" not in clean(HOSTILE) and "\\u202e" in clean(HOSTILE)
    assert "[@click=app.quit]" in text(HOSTILE).plain
    assert "[@click=app.quit]" in content(HOSTILE).plain
    assert clean("x" * 500, 10) == "x" * 10 + "…"


@pytest.mark.parametrize("model", ["evil", HOSTILE_NAME])
async def test_metadata_appears_literally_everywhere(
    tmp_path: Path, fixed_clock, wait, model: str
) -> None:
    cat = hostile_catalog(tmp_path / "evil.sqlite", model)
    app = make_app(cat)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        shown = screen_text(app)
        assert model[:20] in shown  # the model list
        assert "[@click=app.quit]" in shown  # the model description line
        assert "\\x1b[31mESC" in shown
        await pilot.click("#model-head")  # a click on the text runs nothing
        await pilot.press("down", "enter")  # version 1: the hostile one
        await wait(pilot)
        shown = screen_text(app)
        for literal in (
            "[@click=app.quit]fmt",
            "[red]red[/red]",
            "\\x1b[31mESC",
            "\\x9b2J",
            "\\u202eevil",
            "[unclosed",
            "auc[/]",
            "[b]loss",
        ):
            assert literal in shown, literal
        assert "\x1b" not in shown and "\x9b" not in shown and "\u202e" not in shown
        await pilot.press("d")  # diff against the previous... v1 has none: compare with v2
        await pilot.press("escape", "space", "up", "d")
        await wait(pilot)
        shown = screen_text(app)
        assert "[@click=app.quit]fmt" in shown
        assert model[:20] in shown
        await pilot.press("escape", "l")
        await wait(pilot)
        assert "[@click=app.quit]" in screen_text(app)
        assert app.is_running
    cat.close()


async def test_a_model_named_in_markup_is_found_and_shown_literally_in_the_palette(
    tmp_path: Path, fixed_clock, wait
) -> None:
    cat = hostile_catalog(tmp_path / "evil.sqlite", HOSTILE_NAME)
    cat.add_candidates(
        [Candidate(path=Path("/runs/o/m.onnx"), model="other", digest=Digest("c" * 64, 1))]
    )
    app = make_app(cat)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"team[/b]")
        await wait(pilot)
        assert "[b]team[/b]" in screen_text(app)
        await pilot.press("enter")
        await wait(pilot)
        assert app.is_running
        await pilot.press("ctrl+p")
        typed = f"{HOSTILE_NAME.upper()}:2"  # a name typed but for case, with a version
        await pilot.press(*typed)
        await wait(pilot)
        hits = [line for line in screen_text(app).splitlines() if "version: " in line]
        assert any('version: "[@click=app.quit]evil' in line for line in hits), hits
        await pilot.press("enter")
        await wait(pilot)
        shown = screen_text(app)
        assert app.is_running and '[b]team[/b]:a@b [unclosed":2' in shown  # the quoted ref
    cat.close()
