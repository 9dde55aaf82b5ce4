"""The model list: names and version counts (and stages when wide enough), only
the models whose name holds what was typed into its filter box."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from regtui.catalog.records import ModelInfo
from regtui.tui.safe import clean, text

WIDE_SCREEN = 110  # the stylesheet's `-normal` breakpoint: the pane has room for stages


def stages_text(stages: dict[str, int | None], sep: str = " · ", arrow: str = "→v") -> str:
    return sep.join(f"{clean(s, 32)}{arrow}{n}" for s, n in stages.items() if n is not None)


def count_text(n: int) -> str:
    """A version count for the 5-cell column: exact below 100,000, then in thousands
    (the header and the status line give the exact figure)."""
    return str(n) if n < 100_000 else f"{n // 1000}k"


class ModelList(DataTable[Text]):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.name_filter = ""
        self._plan: tuple[int, int] | None = None

    def fit(self, screen_width: int) -> bool:
        """Columns for a screen `screen_width` wide (the pane's own width follows the
        stylesheet's breakpoints); True if they changed (the rows must be shown again)."""
        wide = screen_width >= WIDE_SCREEN
        # (name, stages) widths that fill the pane at each breakpoint (app.tcss)
        name_width, stages_width = (
            (20, 26) if screen_width >= 150 else ((16, 14) if wide else (14, 0))
        )
        plan = (name_width, stages_width)
        if plan == self._plan:
            return False
        self._plan = plan
        self.clear(columns=True)
        self.add_column(Text("model"), key="name", width=name_width)
        self.add_column(Text("vers", justify="right"), key="n", width=5)
        if stages_width:
            self.add_column(Text("stages"), key="stages", width=stages_width)
        return True

    def matching(self, models: list[ModelInfo]) -> list[ModelInfo]:
        typed = self.name_filter.casefold()
        return [m for m in models if typed in m.name.casefold()]

    def show(self, models: list[ModelInfo]) -> list[ModelInfo]:
        """Show the models that match the name filter (cells updated in place when the
        rows are the same ones); returns them."""
        shown = self.matching(models)
        with_stages = self._plan is not None and self._plan[1] > 0
        if [str(k.value) for k in self.rows] == [m.name for m in shown]:
            for m in shown:
                self.update_cell(m.name, "n", Text(count_text(m.versions), justify="right"))
                if with_stages:
                    self.update_cell(
                        m.name, "stages", text(stages_text(m.stages, " ", ":"), "green")
                    )
            return shown
        self.clear()
        for m in shown:
            cells = [text(m.name), Text(count_text(m.versions), justify="right")]
            if with_stages:
                cells.append(text(stages_text(m.stages, " ", ":"), "green"))
            self.add_row(*cells, key=m.name)
        return shown
