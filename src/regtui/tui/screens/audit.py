"""The audit log: every change, filterable, with the hash chain checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Header, Input, Static

from regtui.catalog.records import AuditEvent, ChainCheck
from regtui.errors import RegtuiError
from regtui.text import elide_middle
from regtui.tui.audit_change import change_cell
from regtui.tui.safe import clean, content, short_time, text
from regtui.tui.screens.audit_event import ACTION_STYLES, AuditEventScreen
from regtui.tui.table_fit import ColumnSpec, fit_widths
from regtui.tui.widgets.footer import QuietFooter

LIMIT = 2000
SCROLLBAR = 1  # #events' vertical scrollbar (app.tcss)

# By priority: what was done to what, what changed and why are never dropped; then
# when, who, and the sequence number (the event detail shows them all).
COLUMNS = [
    ColumnSpec("seq", "seq", 5, 5, 3),
    ColumnSpec("at", "time (UTC)", 16, 16, 1),
    ColumnSpec("actor", "actor", 10, 8, 2),
    ColumnSpec("action", "action", 13, 11, 0),
    ColumnSpec("target", "target", 22, 18, 0),
    ColumnSpec("change", "change", 30, 24, 0, grow=3),
    ColumnSpec("reason", "reason", 24, 16, 0, grow=2),
]


@dataclass
class EventsLoaded(Message):
    events: list[AuditEvent]
    error: str | None = None
    # The rows' cells, drawn on the worker for these column widths (fitting 2000
    # changes takes ~0.2 s, which the UI thread should not spend; a resize reloads).
    widths: dict[str, int] | None = None
    rows: list[list[Text]] | None = None


@dataclass
class ChainChecked(Message):
    check: ChainCheck | None
    error: str | None = None


class FilterInput(Input):
    """A filter box: escape clears it, and in an empty box leaves it for the table."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Clear filter", id="audit.clear", tooltip="Empty this box"),
        Binding(
            "escape",
            "leave",
            "Leave filter",
            id="audit.leave",
            tooltip="Back to the events (escape there leaves the log)",
        ),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Only one of the two escapes applies; the other passes the key on (and is not shown).
        if action == "clear":
            return bool(self.value)
        if action == "leave":
            return not self.value
        return super().check_action(action, parameters)

    def watch_value(self, value: str) -> None:
        self.refresh_bindings()

    def action_clear(self) -> None:
        self.value = ""

    def action_leave(self) -> None:
        self.screen.query_one("#events", DataTable).focus()


class EventTable(DataTable[Text]):
    """The events; enter opens the one under the cursor (and the footer says so)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "screen.open_event",
            "Open event",
            id="audit.open",
            tooltip="The whole event: before and after, reason, hashes",
        ),
    ]


def target_cell(value: str, width: int) -> Text:
    """A ref or stage cut inside the model's name: its `:N` or `@stage` stays whole."""
    shown = clean(value, 2000)
    at = max(shown.rfind("@"), shown.rfind(":"))
    suffix = shown[at:] if at > 0 else ""
    if len(shown) <= width or not suffix or len(suffix) > width - 4:
        return text(elide_middle(shown, width), limit=2000)
    return text(elide_middle(shown[:at], width - len(suffix)) + suffix, limit=2000)


def cells(e: AuditEvent, widths: dict[str, int]) -> list[Text]:
    """The event's row for these column widths (no widget touched: a worker calls it)."""
    w = widths
    make = {
        "seq": lambda: Text(str(e.seq), justify="right"),
        "at": lambda: Text(short_time(e.at)),
        "actor": lambda: text(e.actor, limit=64),
        "action": lambda: text(e.action, ACTION_STYLES.get(e.action, ""), 64),
        "target": lambda: target_cell(e.target, w["target"]),
        "change": lambda: text(change_cell(e, w["change"]), limit=100_000),
        "reason": lambda: text(e.reason or "", "italic", 500),
    }
    return [make[spec.key]() for spec in COLUMNS if spec.key in w]


class AuditScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="audit.back", tooltip="Back"),
        Binding(
            "f",
            "focus_filter",
            "Filter",
            id="audit.filter",
            tooltip="Filter by model, actor or action",
        ),
        Binding(
            "v",
            "verify",
            "Verify chain",
            id="audit.verify",
            tooltip="Re-check the hash chain of every event",
        ),
    ]

    def __init__(self, model: str | None = None) -> None:
        super().__init__(classes="audit-screen")
        self.initial_model = model
        self._timer: Timer | None = None
        self.events: list[AuditEvent] = []
        self.shown: list[int] = []  # the seq of each row, as the table holds them
        self.check: ChainCheck | None = None
        self.widths: dict[str, int] = {}  # the table's columns
        self.wanted: dict[str, int] = {}  # the columns the terminal's width asks for

    def compose(self) -> ComposeResult:
        yield Header(icon="▤")
        yield Static(content("checking the hash chain…"), id="chain", markup=False)
        with Horizontal(id="audit-filters"):
            yield FilterInput(self.initial_model or "", placeholder="model", id="f-model")
            yield FilterInput(placeholder="actor", id="f-actor")
            yield FilterInput(placeholder="action: approved…", id="f-action")
        yield EventTable(id="events", cursor_type="row", zebra_stripes=True)
        yield Static("", id="audit-status", markup=False)
        yield QuietFooter()

    def on_mount(self) -> None:
        self.wanted = fit_widths(COLUMNS, self.size.width - SCROLLBAR)
        self._columns(self.wanted)
        self.load()
        self.verify()
        self.query_one(DataTable).focus()

    def on_resize(self, event: Resize) -> None:
        """Columns for the new width come with the rows drawn for them (on a worker)."""
        wanted = fit_widths(COLUMNS, event.size.width - SCROLLBAR)
        if wanted != self.wanted:
            self.wanted = wanted
            self.load()

    def _columns(self, widths: dict[str, int]) -> None:
        """The table's columns at these widths (the least important gave way)."""
        self.widths = widths
        table = self.query_one(DataTable)
        table.clear(columns=True)
        for spec in COLUMNS:
            if spec.key in widths:
                table.add_column(Text(spec.title), key=spec.key, width=widths[spec.key])

    def _filters(self) -> tuple[str | None, str | None, str | None]:
        def val(sel: str) -> str | None:
            return self.query_one(sel, Input).value.strip() or None

        return val("#f-model"), val("#f-actor"), val("#f-action")

    @work(thread=True, exclusive=True, group="audit", exit_on_error=False)
    def load(self) -> None:
        model, actor, action = self._filters()
        try:
            events = self.app.catalog.audit_events(  # type: ignore[attr-defined]
                model, actor=actor, action=action, limit=LIMIT, newest_first=True
            )
        except RegtuiError as exc:
            self.post_message(EventsLoaded([], str(exc)))
            return
        widths = dict(self.wanted)
        rows = [cells(e, widths) for e in events]
        self.post_message(EventsLoaded(events, widths=widths, rows=rows))

    @work(thread=True, exclusive=True, group="audit-verify", exit_on_error=False)
    def verify(self) -> None:
        try:
            check = self.app.catalog.verify_audit()  # type: ignore[attr-defined]
        except RegtuiError as exc:
            self.post_message(ChainChecked(None, str(exc)))
            return
        self.post_message(ChainChecked(check))

    def _seq_at_cursor(self) -> int | None:
        row = self.query_one(DataTable).cursor_row
        return self.shown[row] if 0 <= row < len(self.shown) else None

    def _fill(self, rows: list[list[Text]], seq: int | None) -> None:
        """The rows again; the cursor stays on event `seq` (new events arrive above
        it), else on the top row."""
        table = self.query_one(DataTable)
        table.clear()
        for e, row in zip(self.events, rows, strict=True):
            table.add_row(*row, key=str(e.seq))
        self.shown = [e.seq for e in self.events]
        if seq in self.shown:
            table.move_cursor(row=self.shown.index(seq), animate=False)

    @on(EventsLoaded)
    def events_loaded(self, message: EventsLoaded) -> None:
        seq = self._seq_at_cursor()
        if message.widths is not None and message.widths != self.widths:
            self._columns(message.widths)
        self.events = message.events
        self._fill(message.rows or [], seq)
        model, actor, action = self._filters()
        shown = [f"{len(message.events):,} events, newest first"]
        if len(message.events) >= LIMIT:
            shown.append(f"only the newest {LIMIT:,}; filter to see older ones")
        for name, value in (("model", model), ("actor", actor), ("action", action)):
            if value:
                shown.append(f"{name} = {clean(value, 64)}")
        if message.error:
            shown.append(message.error)
        self.query_one("#audit-status", Static).update(content(" · ".join(shown)))

    @on(ChainChecked)
    def chain_checked(self, message: ChainChecked) -> None:
        chain = self.query_one("#chain", Static)
        chain.remove_class("chain-ok", "chain-bad")
        c = self.check = message.check
        if c is None:
            chain.update(content(f"✗ could not check the chain: {message.error}"))
            chain.add_class("chain-bad")
        elif c.ok:
            chain.update(
                content(f"✓ hash chain verifies: {c.events:,} events, head {c.head[:12]}…")
            )
            chain.add_class("chain-ok")
        else:
            chain.update(
                content(
                    f"✗ hash chain BROKEN at event {c.first_bad}: {c.problem or 'mismatch'} "
                    "(an event was edited or deleted)"
                )
            )
            chain.add_class("chain-bad")

    @on(Input.Changed)
    def filter_changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.25, self.load)

    @on(Input.Submitted)
    def filter_submitted(self) -> None:
        self.load()
        self.query_one(DataTable).focus()

    @on(DataTable.RowSelected, "#events")
    def row_selected(self) -> None:
        self.action_open_event()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_event":
            return bool(self.events)
        return True

    def action_open_event(self) -> None:
        """The event under the cursor, whole (n and p step through the rest)."""
        row = self.query_one(DataTable).cursor_row
        if 0 <= row < len(self.events):
            self.app.push_screen(AuditEventScreen(self.events, row, self.check))

    def action_focus_filter(self) -> None:
        self.query_one("#f-model", Input).focus()

    def action_verify(self) -> None:
        self.verify()

    def catalog_changed(self) -> None:
        self.load()
        self.verify()
