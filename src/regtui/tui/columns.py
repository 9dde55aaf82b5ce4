"""Which columns of the version table fit a width: decisions as data, no Textual.

A `Column` says what a cell shows (`get`) and which component class colours it
(`style`); the widget only draws them. Columns are kept by priority (the number,
approval and stages are never dropped) and shown in a fixed order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len

from regtui.catalog.records import VersionInfo
from regtui.tui.plain import clean, fit, human_size, number, short_time

MAX_METRIC_COLUMNS = 4
DAMAGE_MARK = "✗"  # before the number of a damaged version (it can never ship)
MARK_WIDTH = 2  # "● " or "  " before the first column


@dataclass(frozen=True)
class Column:
    title: str
    width: int
    align: str  # "<" or ">"
    get: Callable[[VersionInfo], str]
    style: Callable[[VersionInfo], str] | None = None  # a component class name, or ""


def fit_columns(
    width: int, metric_names: list[str], total: int | None, *, with_model: bool = False
) -> list[Column]:
    """Columns that fit `width`, chosen by priority, shown in a fixed order;
    `with_model` (a search across models) adds the model's name first."""

    def approval_style(v: VersionInfo) -> str:
        status = v.approval.status
        return f"version-table--{status}" if status in ("approved", "rejected", "pending") else ""

    def flags(v: VersionInfo) -> str:
        out = ("⚠" + str(len(v.warnings))) if v.warnings else ""
        if v.archived:
            out += "A"
        if v.artifact_state != "ok":
            out += "!"
        return out

    # (priority: lower is kept first, position, column)
    candidates: list[tuple[int, int, Column]] = [
        # Wide enough for the highest number (and the damage mark): 100000 must not
        # show as "1000…". The mark sits in this column because it is never dropped.
        (
            0,
            0,
            Column(
                "#",
                max(5, len(str(total or 0)) + 1),
                ">",
                lambda v: (DAMAGE_MARK if v.damage else "") + str(v.version),
                lambda v: "version-table--damaged" if v.damage else "",
            ),
        ),
        (2, 1, Column("created", 16, "<", lambda v: short_time(v.created_at))),
        (5, 2, Column("format", 12, "<", lambda v: clean(v.format, 40))),
        (6, 3, Column("size", 8, ">", lambda v: human_size(v.size_bytes))),
        (0, 20, Column("approval", 8, "<", lambda v: v.approval.status, approval_style)),
        (
            0,
            21,
            Column(
                "stages",
                12,
                "<",
                lambda v: clean(", ".join(v.stages), 60),
                lambda v: "version-table--stage",
            ),
        ),
        (7, 22, Column("", 3, "<", flags, lambda v: "version-table--warning")),
    ]
    if with_model:
        # narrow enough that the first metric still fits beside it at 80 columns
        candidates.append((0, -1, Column("model", 14, "<", lambda v: clean(v.model, 128))))
    for i, name in enumerate(metric_names):
        w = min(max(len(name), 7), 12)
        candidates.append(
            (
                # the first metric before the time: at 80 columns it is what ranks them
                1 + min(i, 2),
                4 + i,
                Column(
                    clean(name, 40),
                    w,
                    ">",
                    _metric_cell(name),
                ),
            )
        )
    used = MARK_WIDTH
    chosen: list[tuple[int, Column]] = []
    for _prio, pos, col in sorted(candidates, key=lambda c: (c[0], c[1])):
        if used + col.width + 1 <= width or not chosen:
            used += col.width + 1
            chosen.append((pos, col))
    return [col for _pos, col in sorted(chosen, key=lambda c: c[0])]


def _metric_cell(name: str) -> Callable[[VersionInfo], str]:
    def get(v: VersionInfo) -> str:
        return number(v.metrics.get(name)) if name in v.metrics else ""

    return get


def headline_metrics(rows: list[VersionInfo]) -> list[str]:
    """The metrics most versions on the first page report, in name order."""
    counts: dict[str, int] = {}
    for v in rows:
        for k in v.metrics:
            counts[k] = counts.get(k, 0) + 1
    ranked = sorted(counts, key=lambda k: (-counts[k], k))[:MAX_METRIC_COLUMNS]
    return sorted(ranked)


def align(value: str, width: int, how: str) -> str:
    """`value` in `width` cells: cut with an ellipsis, padded on the left for ">"."""
    value = fit(value, width) if len(value) > width else value
    pad = max(width - cell_len(value), 0)
    return (" " * pad + value) if how == ">" else (value + " " * pad)


def header(columns: list[Column]) -> str:
    """The header line's text (before it is fitted to the widget's width)."""
    return " " * MARK_WIDTH + " ".join(align(c.title, c.width, c.align) for c in columns)
