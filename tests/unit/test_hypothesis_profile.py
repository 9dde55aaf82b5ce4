"""Property-based tests draw the same examples on every run unless REGTUI_FULL=1."""

from __future__ import annotations

import sys

import pytest
from hypothesis import settings

from tests.support import hypothesis_runs


@pytest.mark.skipif(hypothesis_runs.FULL, reason="REGTUI_FULL=1 explores at random")
def test_runs_are_derandomized_with_no_example_database() -> None:
    assert settings.default.derandomize is True
    assert settings.default.database is None
    # a test's own settings inherit the profile; only the count is scaled
    own = settings(max_examples=hypothesis_runs.examples(7), deadline=None)
    assert (own.derandomize, own.database, own.max_examples) == (True, None, 7)


@pytest.mark.skipif(hypothesis_runs.FULL, reason="REGTUI_FULL=1 explores at random")
def test_every_local_module_is_imported_before_the_first_draw() -> None:
    """Hypothesis draws constants from the project's modules loaded at the time: all
    of them are loaded up front, so test order cannot change the examples."""
    for name in ("regtui.tui.app", "regtui.cli.main", "regtui.demo", "bench.run"):
        assert name in sys.modules, name
