"""Counts agree with their nouns wherever regtui prints one ("1 version", never
"1 versions")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regtui.catalog.records import ModelInfo
from regtui.text import counted
from regtui.tui.screens.catalog_head import model_head


@given(st.integers(min_value=0, max_value=10**9))
def test_counted_agrees(n: int) -> None:
    text = counted(n, "version")
    assert text.endswith(" version" if n == 1 else " versions")
    assert text.replace(",", "").startswith(str(n))


@pytest.mark.parametrize("n", [1, 2, 1000])
def test_the_model_head_counts_right(n: int) -> None:
    m = ModelInfo(
        id=1,
        name="m",
        description="",
        tags={},
        versions=n,
        stages={},
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
        created_by="alice",
    )
    shown = model_head(m, False, [], False).plain
    assert (
        ("1 version" in shown and "1 versions" not in shown)
        if n == 1
        else (f"{n:,} versions" in shown)
    )
