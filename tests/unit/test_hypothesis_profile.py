"""Property-based tests draw the same examples on every run unless REGTUI_FULL=1."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
from hypothesis import settings

from tests import conftest
from tests.support import hypothesis_runs


@pytest.mark.skipif(hypothesis_runs.FULL, reason="REGTUI_FULL=1 explores at random")
def test_runs_are_derandomized_with_no_example_database() -> None:
    assert settings.default.derandomize is True
    assert settings.default.database is None
    # a test's own settings inherit the profile; only the count is scaled
    own = settings(max_examples=hypothesis_runs.examples(70), deadline=None)
    expected = 14 if hypothesis_runs.in_fast_lane() else 70
    assert (own.derandomize, own.database, own.max_examples) == (True, None, expected)


def test_the_fast_lane_draws_a_fifth_of_each_count_and_at_least_two() -> None:
    assert hypothesis_runs.scaled(300, fast=True) == 60
    assert hypothesis_runs.scaled(8, fast=True) == 2
    assert hypothesis_runs.scaled(300, fast=False) == 300 * hypothesis_runs.SCALE


@pytest.mark.parametrize(("markexpr", "fast"), [("not slow", True), ("", False), ("pg", False)])
def test_the_lane_is_read_from_the_marker_expression(markexpr: str, fast: bool) -> None:
    config = SimpleNamespace(getoption=lambda name, default=None: {"markexpr": markexpr}.get(name))
    was = hypothesis_runs.in_fast_lane()
    try:
        conftest.pytest_configure(config)  # type: ignore[arg-type]
        assert hypothesis_runs.in_fast_lane() == (fast and not hypothesis_runs.FULL)
        assert settings.default.max_examples == hypothesis_runs.examples(100)
    finally:
        hypothesis_runs.load(fast_lane=was)  # the rest of this run keeps its lane


@pytest.mark.skipif(hypothesis_runs.FULL, reason="REGTUI_FULL=1 explores at random")
def test_every_local_module_is_imported_before_the_first_draw() -> None:
    """Hypothesis draws constants from the project's modules loaded at the time: all
    of them are loaded up front, so test order cannot change the examples."""
    for name in ("regtui.tui.app", "regtui.cli.main", "regtui.demo", "bench.run"):
        assert name in sys.modules, name
