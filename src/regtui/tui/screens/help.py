"""Help: the keys in force on the screen below, and the packaged guide."""

from __future__ import annotations

from importlib import resources
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Markdown, Static


def guide() -> str:
    return resources.files("regtui.tui").joinpath("help.md").read_text(encoding="utf-8")


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,question_mark,f1", "dismiss", "Close", id="help.close", tooltip="Close help"
        ),
    ]

    def __init__(self, bindings: list[tuple[str, ActiveBinding]], key_display: dict[str, str]):
        super().__init__()
        self.bindings_in_force = bindings
        self.key_display = key_display

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body", classes="dialog wide"):
            yield Label("Keys on this screen", classes="dialog-title")
            yield Static(self._keys(), id="help-keys")
            yield Markdown(guide(), id="help-guide", open_links=False)

    def _keys(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True, width=10)
        table.add_column(no_wrap=True, width=18)
        table.add_column()
        seen: set[str] = set()
        # regtui's own keys first: where Textual binds the same action too (ctrl+q
        # quits), the key the footer shows is the one listed.
        ordered = sorted(self.bindings_in_force, key=lambda ka: ka[1].binding.id is None)
        for key, active in ordered:
            b = active.binding
            if not b.description or (b.action, b.description) in seen:
                continue
            if b.id is None and b.action != "app.command_palette" and not b.tooltip:
                continue
            seen.add((b.action, b.description))  # type: ignore[arg-type]
            style = "" if active.enabled else "dim"
            table.add_row(
                Text(self.key_display.get(key, key), style=style),
                Text(b.description, style=style),
                Text(b.tooltip or "", style="dim"),
            )
        return table

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
