"""A sparkline of one metric across a model's recent versions, with a caption."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Sparkline

from regtui.catalog.diff import higher_is_better
from regtui.text import counted
from regtui.tui.safe import clean, content, number


class Trend(Horizontal):
    """`metric`: oldest → newest, over the last N versions that report it."""

    def compose(self) -> ComposeResult:
        yield Label(id="trend-label", markup=False)
        yield Sparkline([], id="trend-line")

    def show(self, metric: str | None, values: list[float], window: int) -> None:
        label = self.query_one("#trend-label", Label)
        line = self.query_one("#trend-line", Sparkline)
        if metric is None or not values:
            label.update(content("no metrics to chart"))
            line.data = []
            line.display = False
            return
        line.display = True
        line.data = values
        arrow = "↑" if higher_is_better(metric) else "↓"
        caption = (
            f"{clean(metric, 24)} {arrow} · {counted(len(values), 'version')} · "
            f"{number(min(values))}–{number(max(values))} · latest {number(values[-1])}"
        )
        label.update(content(caption))
