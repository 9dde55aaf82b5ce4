"""One audit event whole: when, who, what, why, every value before and after, its hashes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import ClassVar

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from regtui.catalog.hooks import Attempt
from regtui.catalog.records import AuditEvent, ChainCheck
from regtui.errors import RegtuiError
from regtui.tui.audit_change import full_value, origin, parts
from regtui.tui.safe import clean, text
from regtui.tui.widgets.footer import QuietFooter

ACTION_STYLES = {
    "approved": "green",
    "rejected": "red",
    "promoted": "bold green",
    "rolled_back": "bold yellow",
}


def event_time(e: AuditEvent) -> str:
    at = e.at.astimezone(UTC) if e.at.tzinfo else e.at
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")


def chain_note(e: AuditEvent, check: ChainCheck | None) -> Text | None:
    """What the last chain check says about this event (None: not checked yet)."""
    if check is None:
        return None
    if check.ok:
        return Text("✓ in the verified chain", "green")
    bad = check.first_bad or 0
    if e.seq == bad:
        return Text(f"✗ the chain breaks here: {clean(check.problem or 'mismatch', 300)}", "red")
    if e.seq > bad:
        return Text(f"✗ after the break at event {bad}: not verified", "red")
    return Text(f"✓ before the break at event {bad}", "green")


def _grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=8)
    table.add_column(overflow="fold", ratio=1)
    return table


def _change(e: AuditEvent) -> RenderableType:
    """Each field before and after, whole and wrapped; unchanged fields dimmed."""
    fields = parts(e)
    if not fields:
        return Text("nothing recorded", "dim")
    table = _grid()
    for p in fields:
        name = text(p.key if p.key is not None else "value", limit=200)
        sides = Table.grid(padding=(0, 1))
        sides.add_column(style="dim", no_wrap=True)
        sides.add_column(overflow="fold", ratio=1)
        if not p.changed:
            sides.add_row("same", Text(full_value(p.after), "dim"))
        elif not p.had_before:
            sides.add_row("new", Text(full_value(p.after), "green"))
        elif not p.has_after:
            sides.add_row("removed", Text(full_value(p.before), "red"))
        else:
            sides.add_row("before", Text(full_value(p.before), "red"))
            sides.add_row("after", Text(full_value(p.after), "green"))
        table.add_row(name, sides)
    return table


def hook_lines(attempts: Sequence[Attempt]) -> Text | None:
    """Each hook's latest attempt at this event: `deploy ✓ 200 in 0.12 s` (None: none)."""
    latest: dict[str, Attempt] = {}
    for a in attempts:
        latest[a.hook] = a
    if not latest:
        return None
    out = Text()
    for name, a in latest.items():
        status = "no answer" if a.status is None else str(a.status)
        line = Text(clean(name, 64) + " ")
        line.append("✓" if a.ok else "✗", "green" if a.ok else "red")
        line.append(f" {status} in {a.duration:.2f} s")
        if a.attempt > 1:
            line.append(f" (attempt {a.attempt}{'' if a.final or a.ok else ', retrying'})", "dim")
        elif not a.ok and not a.final:
            line.append(" (retrying)", "dim")
        if out:
            out.append("\n")
        out.append_text(line)
    return out


def event_view(
    e: AuditEvent, check: ChainCheck | None = None, attempts: Sequence[Attempt] = ()
) -> RenderableType:
    """The event as a Rich renderable: every cell a Text, never markup."""
    table = _grid()
    table.add_row("time", Text(event_time(e)))
    table.add_row("actor", text(e.actor, limit=500))
    table.add_row("action", text(e.action, ACTION_STYLES.get(e.action, ""), 200))
    table.add_row("target", text(e.target, limit=2000, one_line=False))
    if e.model is not None and e.model != e.target:
        table.add_row("model", text(e.model, limit=2000))
    reason = Text(clean(e.reason, 100_000, one_line=False), "italic") if e.reason else None
    table.add_row("reason", reason or Text("none given", "dim"))
    came_from = origin(e)
    if came_from:
        table.add_row("origin", Text(came_from, "yellow"))
    table.add_row("", "")
    table.add_row("change", _change(e))
    table.add_row("", "")
    table.add_row("hash", Text(e.hash))
    table.add_row("previous", Text(e.prev_hash))
    note = chain_note(e, check)
    if note is not None:
        table.add_row("chain", note)
    delivered = hook_lines(attempts)
    if delivered is not None:
        table.add_row("hooks", delivered)
    return table


class AuditEventScreen(ModalScreen[None]):
    """Shows `events[index]`; n and p step to the next (older) and previous (newer)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "close", "Close", id="audit_event.close", tooltip="Back to the audit log"
        ),
        Binding(
            "n",
            "step(1)",
            "Next (older)",
            id="audit_event.next",
            tooltip="The event below this one in the log",
        ),
        Binding(
            "p",
            "step(-1)",
            "Previous (newer)",
            id="audit_event.previous",
            tooltip="The event above this one in the log",
        ),
    ]

    def __init__(
        self, events: list[AuditEvent], index: int, check: ChainCheck | None = None
    ) -> None:
        super().__init__(classes="audit-event-screen")
        self.events = events
        self.index = index
        self.check = check

    @property
    def event(self) -> AuditEvent:
        return self.events[self.index]

    def compose(self) -> ComposeResult:
        with Vertical(id="audit-event", classes="dialog"):
            yield Label(self._title(), id="audit-event-title", classes="dialog-title")
            with VerticalScroll(id="audit-event-body"):
                yield Static(self._view(), id="audit-event-view")
        yield QuietFooter()

    def _view(self) -> RenderableType:
        """The event, with its hooks' deliveries (an indexed read of one seq's attempts)."""
        catalog = getattr(self.app, "catalog", None)
        try:
            attempts = catalog.hook_attempts(seq=self.event.seq) if catalog else []
        except RegtuiError:
            attempts = []
        return event_view(self.event, self.check, attempts)

    def on_mount(self) -> None:
        self.query_one("#audit-event-body", VerticalScroll).focus()

    def _title(self) -> Text:
        e = self.event
        title = Text(f"event {e.seq} · ")
        title.append(clean(e.action, 64), ACTION_STYLES.get(e.action, ""))
        title.append(" · " + clean(e.target, 200))
        title.append(f"   ({self.index + 1} of {len(self.events)})", "dim")
        return title

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "step" and parameters:
            step = parameters[0]
            if isinstance(step, int) and not 0 <= self.index + step < len(self.events):
                return None  # shown dimmed at either end of the log
        return True

    def action_step(self, step: int) -> None:
        if not 0 <= self.index + step < len(self.events):
            return
        self.index += step
        self.query_one("#audit-event-title", Label).update(self._title())
        self.query_one("#audit-event-view", Static).update(self._view())
        self.query_one("#audit-event-body", VerticalScroll).scroll_home(animate=False)
        self.refresh_bindings()

    def action_close(self) -> None:
        self.dismiss(None)
