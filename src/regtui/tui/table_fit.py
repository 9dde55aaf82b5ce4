"""Which columns of a DataTable fit a width, and how wide each is: no Textual.

Screens that list events or fields (the audit log, the diff) declare their
columns with a priority; at a narrow terminal the least important are dropped
or narrowed first, at a wide one the columns that `grow` take the spare room.
"""

from __future__ import annotations

from dataclasses import dataclass

# DataTable pads each cell by one cell on each side.
CELL_PADDING = 2


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    title: str
    width: int  # what it takes when there is room
    min_width: int  # the narrowest it still says something
    priority: int  # lower is kept first (and widened first)
    grow: int = 0  # its share of the room left when every column has its width


def fit_widths(specs: list[ColumnSpec], width: int) -> dict[str, int]:
    """Column key -> width for the columns that fit `width`, in the specs' order.

    The columns of the first priority are always shown (at their narrowest if need
    be); each other column, by priority, only while every column taken before it can
    have its width and it its narrowest (a less important column never squeezes a
    more important one). Then the columns are widened by priority (growing ones
    first) up to their width, and the room left is shared by the growing columns."""
    ranked = sorted(range(len(specs)), key=lambda i: specs[i].priority)
    first = specs[ranked[0]].priority if ranked else 0
    chosen: dict[int, int] = {}
    for i in ranked:
        if specs[i].priority != first:
            wanted = sum(specs[j].width + CELL_PADDING for j in chosen)
            if wanted + specs[i].min_width + CELL_PADDING > width:
                break
        chosen[i] = specs[i].min_width
    used = sum(w + CELL_PADDING for w in chosen.values())
    spare = width - used
    for i in sorted(chosen, key=lambda i: (specs[i].priority, -specs[i].grow)):
        if i in chosen and spare > 0:
            more = min(spare, specs[i].width - chosen[i])
            if more > 0:
                chosen[i] += more
                spare -= more
    weights = {i: specs[i].grow for i in chosen if specs[i].grow > 0}
    total = sum(weights.values())
    if spare > 0 and total:
        given = 0
        growing = sorted(weights)
        for n, i in enumerate(growing):
            share = spare - given if n == len(growing) - 1 else spare * weights[i] // total
            chosen[i] += share
            given += share
    return {specs[i].key: chosen[i] for i in sorted(chosen)}
