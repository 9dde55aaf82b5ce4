"""Two versions side by side: changed rows highlighted, metric deltas coloured."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from regtui.catalog.diff import Diff, DiffRow
from regtui.errors import RegtuiError
from regtui.tui.safe import clean, content, number, text, value_str
from regtui.tui.screens.version import LATE_MARK
from regtui.tui.widgets.footer import QuietFooter

MARKS = {"same": " ", "changed": "~", "added": "+", "removed": "-"}
ROW_STYLES = {"same": "", "changed": "bold", "added": "bold green", "removed": "bold red"}


@dataclass
class DiffLoaded(Message):
    diff: Diff | None
    error: str | None = None


def delta_text(row: DiffRow) -> Text:
    if row.section != "metrics" or row.delta is None:
        return Text("")
    if row.delta == 0:
        return Text("±0", style="dim")
    sign = "+" if row.delta > 0 else "−"
    label = f"{sign}{number(abs(row.delta))}"
    if row.better is True:
        return Text(label + " better", style="bold green")
    if row.better is False:
        return Text(label + " worse", style="bold red")
    return Text(label)


def late_value(value: object, logged: str | None) -> str:
    """A cell's value, marked with when it was logged if it came after registration."""
    shown = value_str(value)
    if not logged:
        return shown
    return f"{shown} {LATE_MARK} {logged[:16].replace('T', ' ')}"


class DiffScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="diff.back", tooltip="Back"),
        Binding(
            "t",
            "toggle",
            "All / differing",
            id="diff.toggle",
            tooltip="Show every field, or only the fields that differ",
        ),
        Binding("s", "swap", "Swap sides", id="diff.swap", tooltip="Swap left and right"),
    ]

    def __init__(self, left: str, right: str) -> None:
        super().__init__(classes="diff-screen")
        self.left, self.right = left, right
        self.only_differing = False
        self.diff: Diff | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="▤")
        yield Static(
            content(f"comparing {self.left} with {self.right}…"), id="diff-head", markup=False
        )
        yield DataTable(id="diff-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="diff-summary", markup=False)
        yield QuietFooter()

    def on_mount(self) -> None:
        self._columns()
        self.load()

    def _columns(self) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_column(Text(""), key="mark", width=1)
        table.add_column(Text("field"), key="field", width=28)
        table.add_column(Text(self.left), key="left", width=34)
        table.add_column(Text(self.right), key="right", width=34)
        table.add_column(Text("Δ right − left"), key="delta", width=18)

    @work(thread=True, exclusive=True, group="diff", exit_on_error=False)
    def load(self) -> None:
        try:
            diff = self.app.catalog.diff(self.left, self.right)  # type: ignore[attr-defined]
        except RegtuiError as exc:
            self.post_message(DiffLoaded(None, str(exc)))
            return
        self.post_message(DiffLoaded(diff))

    @on(DiffLoaded)
    def loaded(self, message: DiffLoaded) -> None:
        if message.diff is None:
            self.query_one("#diff-head", Static).update(content(message.error or "no diff"))
            return
        self.diff = message.diff
        self.render_diff()

    def render_diff(self) -> None:
        d = self.diff
        if d is None:
            return
        head = Text()
        for side, v in (("left ", d.left), ("right", d.right)):
            head.append(f"{side}  ", "dim")
            head.append(v.ref, "bold")
            head.append(f"  {v.approval.status}")
            if v.stages:
                head.append("  in " + clean(", ".join(v.stages), 80), "green")
            head.append("\n")
        head.append(
            "same content (identical sha256)"
            if d.left.sha256 == d.right.sha256
            else "different content",
            "italic",
        )
        data_note = d.data_note()
        if data_note:
            head.append(" · ")
            head.append(data_note, "bold yellow")
        elif d.same_data:
            head.append(" · same data", "italic")
        self.query_one("#diff-head", Static).update(head)
        table = self.query_one(DataTable)
        table.clear()
        rows = list(d.rows)
        if self.only_differing:
            rows = [r for r in rows if r.differs]
        for i, row in enumerate(rows):
            style = ROW_STYLES.get(row.status, "")
            if row.status == "changed":
                style = "bold yellow"
            table.add_row(
                Text(MARKS.get(row.status, " "), style=style),
                text(f"{row.section}.{row.key}" if row.section != "version" else row.key, style),
                text(late_value(row.left, row.left_logged), style if row.status != "same" else ""),
                text(
                    late_value(row.right, row.right_logged), style if row.status != "same" else ""
                ),
                delta_text(row),
                key=str(i),
            )
        metrics = d.section("metrics")
        better = sum(1 for r in metrics if r.better is True)
        worse = sum(1 for r in metrics if r.better is False)
        changed = len(d.changed())
        mode = "only differing fields" if self.only_differing else "all fields"
        summary = (
            f"{changed} of {len(d.rows)} fields differ · metrics: {better} better, {worse} worse"
            f" (right vs left) · showing {mode} (t toggles)"
        )
        self.query_one("#diff-summary", Static).update(content(summary))

    def action_toggle(self) -> None:
        self.only_differing = not self.only_differing
        self.render_diff()

    def action_swap(self) -> None:
        self.left, self.right = self.right, self.left
        self._columns()
        self.load()

    def catalog_changed(self) -> None:
        self.load()
