"""The version screen's key/value tables: keys sharing a long prefix stay apart."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from regtui.tui.widgets.facts import MAX_KEY_WIDTH, kv_table


def shown(rows: list[tuple[str, str]], width: int) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, legacy_windows=False).print(kv_table(rows))
    return out.getvalue().splitlines()


@pytest.mark.parametrize("width", [80, 160])
@pytest.mark.parametrize(
    "keys",
    [
        [f"metadata.parameters.{k}" for k in ("num_leaves", "learning_rate", "max_depth")],
        [f"metadata.metadata.{k}" for k in ("ansi", "bidi", "format", "long", "name")],
        ["metadata." + "x" * 60 + k for k in ("_a", "_b")],
        ["auc", "f1"],
    ],
)
def test_keys_that_share_a_prefix_are_told_apart(width: int, keys: list[str]) -> None:
    lines = shown([(k, "v") for k in keys], width)
    assert len(lines) == len(keys)
    cells = [line.split("  ")[0].strip() for line in lines]
    assert len(set(cells)) == len(keys)
    for key, cell in zip(keys, cells, strict=True):
        assert len(cell) <= MAX_KEY_WIDTH
        assert cell == key or ("…" in cell and key.endswith(cell.split("…")[1]))


def test_markup_in_a_key_is_text() -> None:
    (line,) = shown([("[b]x[/b]", "[red]y[/red]")], 80)
    assert "[b]x[/b]" in line and "[red]y[/red]" in line
