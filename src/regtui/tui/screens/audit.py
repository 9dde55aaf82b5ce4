"""The audit log: every change, filterable, with the hash chain checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Header, Input, Static

from regtui.catalog.records import AuditEvent, ChainCheck
from regtui.errors import RegtuiError
from regtui.tui.safe import clean, content, short_time, text, value_str
from regtui.tui.widgets.footer import QuietFooter

LIMIT = 2000


@dataclass
class EventsLoaded(Message):
    events: list[AuditEvent]
    error: str | None = None


@dataclass
class ChainChecked(Message):
    check: ChainCheck | None
    error: str | None = None


def change_text(e: AuditEvent) -> str:
    if isinstance(e.before, dict) and isinstance(e.after, dict):
        keys = list(dict.fromkeys([*e.before, *e.after]))
        return ", ".join(
            f"{k}: {value_str(e.before.get(k))} → {value_str(e.after.get(k))}" for k in keys
        )
    if e.before is None and e.after is not None:
        return value_str(e.after)
    return f"{value_str(e.before)} → {value_str(e.after)}"


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

    def compose(self) -> ComposeResult:
        yield Header(icon="▤")
        yield Static(content("checking the hash chain…"), id="chain", markup=False)
        with Horizontal(id="audit-filters"):
            yield Input(self.initial_model or "", placeholder="model", id="f-model")
            yield Input(placeholder="actor", id="f-actor")
            yield Input(placeholder="action (approved, promoted, rolled_back…)", id="f-action")
        yield DataTable(id="events", cursor_type="row", zebra_stripes=True)
        yield Static("", id="audit-status", markup=False)
        yield QuietFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(Text("seq"), key="seq", width=5)
        table.add_column(Text("time (UTC)"), key="at", width=16)
        table.add_column(Text("actor"), key="actor", width=10)
        table.add_column(Text("action"), key="action", width=13)
        table.add_column(Text("target"), key="target", width=22)
        table.add_column(Text("change"), key="change", width=30)
        table.add_column(Text("reason"), key="reason", width=30)
        self.load()
        self.verify()
        table.focus()

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
        self.post_message(EventsLoaded(events))

    @work(thread=True, exclusive=True, group="audit-verify", exit_on_error=False)
    def verify(self) -> None:
        try:
            check = self.app.catalog.verify_audit()  # type: ignore[attr-defined]
        except RegtuiError as exc:
            self.post_message(ChainChecked(None, str(exc)))
            return
        self.post_message(ChainChecked(check))

    @on(EventsLoaded)
    def events_loaded(self, message: EventsLoaded) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for e in message.events:
            style = {
                "approved": "green",
                "rejected": "red",
                "promoted": "bold green",
                "rolled_back": "bold yellow",
            }.get(e.action, "")
            table.add_row(
                Text(str(e.seq), justify="right"),
                Text(short_time(e.at)),
                text(e.actor, limit=64),
                text(e.action, style, 64),
                text(e.target, limit=200),
                text(change_text(e), limit=300),
                text(e.reason or "", "italic", 500),
                key=str(e.seq),
            )
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
        c = message.check
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

    def action_focus_filter(self) -> None:
        self.query_one("#f-model", Input).focus()

    def action_verify(self) -> None:
        self.verify()

    def catalog_changed(self) -> None:
        self.load()
        self.verify()
