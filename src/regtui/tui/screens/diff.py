"""Two versions side by side: changed rows highlighted, metric deltas coloured.
The right-hand version is the one under review: the change keys act on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable, Header, Static

from regtui.catalog.diff import Diff, DiffRow
from regtui.catalog.records import ModelInfo, VersionInfo
from regtui.errors import RegtuiError
from regtui.text import elide_middle, elide_pair
from regtui.tui.safe import clean, content, text, value_str
from regtui.tui.screens.actions import VersionActions
from regtui.tui.screens.change_keys import change_keys
from regtui.tui.screens.diff_row import DiffRowScreen, delta_text
from regtui.tui.screens.version import LATE_MARK
from regtui.tui.table_fit import ColumnSpec, fit_widths
from regtui.tui.widgets.footer import QuietFooter

MARKS = {"same": " ", "changed": "~", "added": "+", "removed": "-"}
ROW_STYLES = {"same": "", "changed": "bold", "added": "bold green", "removed": "bold red"}
SCROLLBAR = 1  # #diff-table's vertical scrollbar (app.tcss)
DELTA = "Δ right − left"
# Every column stays (the delta says better or worse); the two sides share the room.
COLUMNS = [
    ColumnSpec("mark", "", 1, 1, 0),
    ColumnSpec("field", "field", 22, 12, 0),
    ColumnSpec("left", "left", 14, 14, 0, grow=1),
    ColumnSpec("right", "right", 14, 14, 0, grow=1),
    ColumnSpec("delta", DELTA, 16, 14, 0),
]


@dataclass
class DiffLoaded(Message):
    diff: Diff | None
    error: str | None = None
    model: ModelInfo | None = None


def late_mark(logged: str | None, width: int) -> str:
    """When a value logged after registration was logged, as room allows ('' if not late)."""
    if not logged:
        return ""
    full = f" {LATE_MARK} {logged[:16].replace('T', ' ')}"
    return full if len(full) <= width // 2 else f" {LATE_MARK}"


def value_cells(row: DiffRow, width: int) -> tuple[str, str]:
    """Both sides in `width` cells each: cut so that where they differ shows in both
    (two paths that differ near the end keep their ends), the late mark kept whole."""
    marks = late_mark(row.left_logged, width), late_mark(row.right_logged, width)
    room = max(1, width - max(len(m) for m in marks))
    left, right = (clean(value_str(v), 100_000) for v in (row.left, row.right))
    if row.status == "changed":
        left, right = elide_pair(left, right, room)
    else:
        left, right = elide_middle(left, room), elide_middle(right, room)
    return left + marks[0], right + marks[1]


class RowTable(DataTable[Text]):
    """The diff's rows; enter opens the one under the cursor whole."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "screen.open_row",
            "Open",
            id="diff.open",
            tooltip="Both values whole, uncut",
        ),
    ]


class DiffScreen(VersionActions):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="diff.back", tooltip="Back"),
        Binding(
            "t",
            "toggle_differing",
            "All/differing",
            id="diff.toggle",
            tooltip="Show every field, or only the fields that differ",
        ),
        Binding("s", "swap", "Swap sides", id="diff.swap", tooltip="Swap left and right"),
        # the right-hand version is the one reviewed; the head line names the keys (the
        # footer keeps its room at 80 columns for the diff's own)
        *change_keys(version_edit_key="e", model_edit_key="E", shown=()),
    ]

    def __init__(self, left: str, right: str) -> None:
        super().__init__(classes="diff-screen")
        self.left, self.right = left, right
        self.only_differing = False
        self.diff: Diff | None = None
        self.model: ModelInfo | None = None  # the right-hand version's model
        self.widths: dict[str, int] = {}
        self.shown: list[DiffRow] = []  # the rows the table holds, in order

    def compose(self) -> ComposeResult:
        yield Header(icon="▤")
        yield Static(
            content(f"comparing {self.left} with {self.right}…"), id="diff-head", markup=False
        )
        yield RowTable(id="diff-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="diff-summary", markup=False)
        yield QuietFooter()

    def on_mount(self) -> None:
        self._columns(self.size.width)
        self.load()

    def on_resize(self, event: Resize) -> None:
        if self._columns(event.size.width):
            self.render_diff()

    def _columns(self, width: int | None = None) -> bool:
        """Columns for `width` (None: the same width, new sides); True if rebuilt."""
        widths = fit_widths(COLUMNS, width - SCROLLBAR) if width is not None else self.widths
        if width is not None and widths == self.widths:
            return False
        self.widths = widths
        titles = {"left": self.left, "right": self.right}
        table = self.query_one(DataTable)
        table.clear(columns=True)
        for spec in COLUMNS:
            w = widths[spec.key]
            title = elide_middle(clean(titles.get(spec.key, spec.title), 500), w)
            table.add_column(Text(title), key=spec.key, width=w)
        return True

    @work(thread=True, exclusive=True, group="diff", exit_on_error=False)
    def load(self) -> None:
        try:
            diff = self.rapp.catalog.diff(self.left, self.right)
            model = self.rapp.catalog.model(diff.right.model)
        except RegtuiError as exc:
            self.post_message(DiffLoaded(None, str(exc)))
            return
        self.post_message(DiffLoaded(diff, model=model))

    @on(DiffLoaded)
    def loaded(self, message: DiffLoaded) -> None:
        if message.diff is None:
            self.query_one("#diff-head", Static).update(content(message.error or "no diff"))
            return
        self.diff = message.diff
        self.model = message.model
        self.render_diff()
        self.update_bindings()

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
            if side == "right" and not self.rapp.read_only:
                head.append("  ◂ a, x, p, A, L act on this one", "dim")
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
        self.shown = rows
        w = self.widths
        for i, row in enumerate(rows):
            style = ROW_STYLES.get(row.status, "")
            if row.status == "changed":
                style = "bold yellow"
            field = f"{row.section}.{row.key}" if row.section != "version" else row.key
            left, right = value_cells(row, w["left"])
            side_style = style if row.status != "same" else ""
            table.add_row(
                Text(MARKS.get(row.status, " "), style=style),
                text(elide_middle(clean(field, 2000), w["field"]), style),
                text(left, side_style, 100_000),
                text(right, side_style, 100_000),
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

    @on(DataTable.RowSelected, "#diff-table")
    def row_selected(self) -> None:
        self.action_open_row()

    def current_version(self) -> VersionInfo | None:
        return self.diff.right if self.diff is not None else None

    def current_model(self) -> ModelInfo | None:
        return self.model

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_row":
            return bool(self.shown)
        if action in ("toggle_differing", "swap"):
            return True
        return super().check_action(action, parameters)

    def action_open_row(self) -> None:
        """The field under the cursor with both values whole (n and p step)."""
        row = self.query_one(DataTable).cursor_row
        if 0 <= row < len(self.shown):
            self.app.push_screen(DiffRowScreen(self.shown, row, self.left, self.right))

    def action_toggle_differing(self) -> None:
        self.only_differing = not self.only_differing
        self.render_diff()

    def action_swap(self) -> None:
        self.left, self.right = self.right, self.left
        self._columns()
        self.load()

    def catalog_changed(self) -> None:
        self.load()
