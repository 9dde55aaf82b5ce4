"""One row of a diff whole: both values uncut and wrapped (a table cell cuts them)."""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from regtui.catalog.diff import DiffRow
from regtui.tui.audit_change import full_value
from regtui.tui.safe import clean, number, text
from regtui.tui.widgets.footer import QuietFooter

SIDE_STYLES = {"added": ("dim", "green"), "removed": ("red", "dim"), "changed": ("red", "green")}


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


def field_name(row: DiffRow) -> str:
    return row.key if row.section == "version" else f"{row.section}.{row.key}"


def row_view(row: DiffRow, left: str, right: str, delta: Text) -> RenderableType:
    """The row as a Rich renderable: every cell a Text, never markup."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=8)
    table.add_column(overflow="fold", ratio=1)
    table.add_row("field", text(field_name(row), limit=2000, one_line=False))
    table.add_row("status", Text(row.status))
    styles = SIDE_STYLES.get(row.status, ("", ""))
    for side, value, present, logged, style in (
        (left, row.left, row.status != "added", row.left_logged, styles[0]),
        (right, row.right, row.status != "removed", row.right_logged, styles[1]),
    ):
        table.add_row("", "")
        table.add_row(text(side, limit=500), Text(full_value(value) if present else "—", style))
        if logged:
            table.add_row("", Text(f"logged after registration, {clean(logged, 40)}", "dim"))
    if delta.plain:
        table.add_row("", "")
        table.add_row("delta", delta)
    return table


class DiffRowScreen(ModalScreen[None]):
    """Shows `rows[index]`; n and p step to the next and previous row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="diff_row.close", tooltip="Back to the diff"),
        Binding("n", "step(1)", "Next field", id="diff_row.next", tooltip="The row below"),
        Binding("p", "step(-1)", "Previous field", id="diff_row.previous", tooltip="The row above"),
    ]

    def __init__(self, rows: list[DiffRow], index: int, left: str, right: str) -> None:
        super().__init__(classes="diff-row-screen")
        self.rows, self.index = rows, index
        self.left, self.right = left, right

    @property
    def row(self) -> DiffRow:
        return self.rows[self.index]

    def compose(self) -> ComposeResult:
        with Vertical(id="diff-row", classes="dialog"):
            yield Label(self._title(), id="diff-row-title", classes="dialog-title")
            with VerticalScroll(id="diff-row-body"):
                yield Static(self._view(), id="diff-row-view")
        yield QuietFooter()

    def on_mount(self) -> None:
        self.query_one("#diff-row-body", VerticalScroll).focus()

    def _title(self) -> Text:
        title = Text(clean(field_name(self.row), 200))
        title.append(f"   ({self.index + 1} of {len(self.rows)})", "dim")
        return title

    def _view(self) -> RenderableType:
        return row_view(self.row, self.left, self.right, delta_text(self.row))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "step" and parameters:
            step = parameters[0]
            if isinstance(step, int) and not 0 <= self.index + step < len(self.rows):
                return None  # shown dimmed at either end
        return True

    def action_step(self, step: int) -> None:
        if not 0 <= self.index + step < len(self.rows):
            return
        self.index += step
        self.query_one("#diff-row-title", Label).update(self._title())
        self.query_one("#diff-row-view", Static).update(self._view())
        self.query_one("#diff-row-body", VerticalScroll).scroll_home(animate=False)
        self.refresh_bindings()

    def action_close(self) -> None:
        self.dismiss(None)
