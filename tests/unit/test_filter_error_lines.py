"""What the TUI shows under a filter that does not compile: the message, the filter
with the offending token underlined, and the hint, never read as markup."""

from __future__ import annotations

import pytest

from regtui.tui.filter_errors import filter_error_text, filter_problem


@pytest.mark.parametrize(
    ("typed", "token", "hint_word"),
    [
        ("tags.team = demo", "demo", "'demo'"),
        ("approval = 'approved' and creatd > '2026'", "creatd", "created"),
        ("metrics.auc > 0.9 and versoin = 3", "versoin", "version"),
        ("[b]x[/b] = 1", "[", ""),
    ],
)
def test_the_offending_token_is_underlined(typed: str, token: str, hint_word: str) -> None:
    problem = filter_problem(typed, "sqlite")
    assert problem is not None and problem.column is not None
    shown = filter_error_text(problem, typed).plain
    lines = shown.splitlines()
    assert typed in lines  # the filter as typed, literally (no markup read)
    carets = next(line for line in lines if "^" in line)
    start = carets.index("^")
    assert typed[start:].startswith(token)
    assert hint_word in shown
    assert "still showing the last result" in shown


def test_a_valid_filter_has_no_problem() -> None:
    assert filter_problem("metrics.auc > 0.9 and tags.team = 'demo'", "sqlite") is None
    assert filter_problem("   ", "sqlite") is None
