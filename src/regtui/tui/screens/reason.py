"""The modal that asks why: every change is recorded in the audit log with it."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from regtui.tui.safe import content

MAX_REASON = 2000


class ReasonModal(ModalScreen[str | None]):
    """Returns the reason typed, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="reason.cancel", tooltip="Change nothing"),
    ]

    def __init__(self, title: str, detail: str = "", *, action_label: str = "Apply") -> None:
        super().__init__()
        self.title_text = title
        self.detail = detail
        self.action_label = action_label

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog", classes="dialog"):
            yield Label(content(self.title_text, 300), classes="dialog-title", markup=False)
            if self.detail:
                yield Static(content(self.detail, 2000), classes="dialog-detail", markup=False)
            yield Label("Reason (goes into the audit log)", classes="field-label")
            yield Input(placeholder="why?", id="reason", max_length=MAX_REASON)
            yield Static("", id="reason-error", classes="inline-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.action_label, variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted, "#reason")
    @on(Button.Pressed, "#ok")
    def submit(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self.query_one("#reason-error", Static).update(
                "A reason is required: type why, then press enter (escape cancels)."
            )
            return
        self.dismiss(reason)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
