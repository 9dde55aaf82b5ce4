"""The modal that logs metrics onto a version after registration (an evaluation
that finished later), with the reason that goes into the audit log."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from regtui.errors import UsageError
from regtui.tui.safe import content

MAX_INPUT = 4000


@dataclass(frozen=True)
class Logged:
    metrics: dict[str, float]
    reason: str


def parse_metrics(typed: str) -> dict[str, float]:
    """`test_auc=0.91, latency_ms=12` (commas or spaces between pairs) as metrics;
    UsageError naming the pair that is not NAME=NUMBER."""
    from regtui.cli.values import metric

    out: dict[str, float] = {}
    for pair in (p for p in re.split(r"[,\s]+", typed.strip()) if p):
        name, eq, value = pair.partition("=")
        if not eq or not name or not value:
            raise UsageError(f"expected NAME=NUMBER, got {pair[:80]!r}")
        out[name] = metric(name, value)
    if not out:
        raise UsageError("type at least one NAME=NUMBER")
    return out


class LogMetricsModal(ModalScreen[Logged | None]):
    """Returns the metrics and the reason, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="log.cancel", tooltip="Change nothing"),
    ]

    def __init__(self, title: str, detail: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.detail = detail

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog", classes="dialog"):
            yield Label(content(self.title_text, 300), classes="dialog-title", markup=False)
            if self.detail:
                yield Static(content(self.detail, 2000), classes="dialog-detail", markup=False)
            yield Label("Metrics: NAME=NUMBER, several with commas", classes="field-label")
            yield Input(
                placeholder="test_auc=0.91, latency_ms=12", id="metrics", max_length=MAX_INPUT
            )
            yield Label("Reason (goes into the audit log)", classes="field-label")
            yield Input(placeholder="why?", id="reason", max_length=MAX_INPUT)
            yield Static("", id="log-error", classes="inline-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Log", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#metrics", Input).focus()

    @on(Input.Submitted, "#metrics")
    def next_field(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted, "#reason")
    @on(Button.Pressed, "#ok")
    def submit(self) -> None:
        error = self.query_one("#log-error", Static)
        try:
            metrics = parse_metrics(self.query_one("#metrics", Input).value)
        except UsageError as exc:
            error.update(content(str(exc), 300))
            self.query_one("#metrics", Input).focus()
            return
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            error.update("A reason is required: type why, then press enter (escape cancels).")
            self.query_one("#reason", Input).focus()
            return
        self.dismiss(Logged(metrics, reason))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
