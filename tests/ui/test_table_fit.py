"""Columns chosen by priority: the important ones stay, nothing spills past the width."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from regtui.tui.table_fit import CELL_PADDING, ColumnSpec, fit_widths


@st.composite
def column_specs(draw: st.DrawFn) -> list[ColumnSpec]:
    n = draw(st.integers(1, 8))
    out = []
    for i in range(n):
        low = draw(st.integers(1, 30))
        out.append(
            ColumnSpec(
                key=f"c{i}",
                title=f"c{i}",
                width=low + draw(st.integers(0, 30)),
                min_width=low,
                priority=draw(st.integers(0, 4)),
                grow=draw(st.integers(0, 3)),
            )
        )
    return out


def used(widths: dict[str, int]) -> int:
    return sum(w + CELL_PADDING for w in widths.values())


@given(column_specs(), st.integers(0, 300))
def test_columns_fit_by_priority(specs: list[ColumnSpec], width: int) -> None:
    widths = fit_widths(specs, width)
    by_key = {s.key: s for s in specs}
    first = min(s.priority for s in specs)
    essential = [s for s in specs if s.priority == first]
    # the first priority always shows, and no column is narrower than it can be
    assert {s.key for s in essential} <= set(widths)
    assert all(widths[k] >= by_key[k].min_width for k in widths)
    # nothing spills past the width unless the essential columns alone cannot fit
    if sum(s.min_width + CELL_PADDING for s in essential) <= width:
        assert used(widths) <= width
    # a column is shown only if every more important one is
    for k in widths:
        assert all(s.key in widths for s in specs if s.priority < by_key[k].priority)
    # in the order declared
    assert list(widths) == [s.key for s in specs if s.key in widths]


@given(column_specs(), st.integers(0, 250), st.integers(1, 80))
def test_a_wider_table_never_loses_a_column(specs: list[ColumnSpec], width: int, more: int) -> None:
    assert set(fit_widths(specs, width)) <= set(fit_widths(specs, width + more))


@given(column_specs(), st.integers(0, 300))
def test_room_left_goes_to_the_growing_columns(specs: list[ColumnSpec], width: int) -> None:
    widths = fit_widths(specs, width)
    shown = [s for s in specs if s.key in widths]
    if any(s.grow for s in shown) and used({s.key: s.width for s in shown}) <= width:
        assert used(widths) == width
        assert all(widths[s.key] == s.width for s in shown if not s.grow)
