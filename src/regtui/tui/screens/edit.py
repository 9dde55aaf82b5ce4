"""Edit a model's description and tags (or a version's tags), with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from regtui.tui.safe import block, clean, content


@dataclass(frozen=True)
class Edits:
    """What the user changed: the tags to set and the keys to drop, not the whole set,
    so a tag someone else added while the dialog was open is kept (`Catalog.edit`
    merges them inside its write transaction)."""

    description: str | None
    set_tags: dict[str, str]
    unset_tags: tuple[str, ...]
    reason: str


def tag_changes(
    before: dict[str, str], after: dict[str, str]
) -> tuple[dict[str, str], tuple[str, ...]]:
    """The tags `after` sets (new or changed) and the keys of `before` it drops."""
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    return changed, tuple(k for k in before if k not in after)


def format_tags(tags: dict[str, str]) -> str:
    return ", ".join(f"{clean(k, 100)}={clean(v, 200)}" for k, v in sorted(tags.items()))


def parse_tags(text: str) -> dict[str, str]:
    """`team=growth, owner=ana` → dict; raises ValueError naming the bad part."""
    out: dict[str, str] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part or part.startswith("="):
            raise ValueError(f"tag {part!r} is not KEY=VALUE")
        key, value = part.split("=", 1)
        out[key.strip()] = value.strip()
    return out


class EditModal(ModalScreen[Edits | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="edit.cancel", tooltip="Change nothing"),
        Binding("ctrl+s", "save", "Save", id="edit.save", tooltip="Save the changes"),
    ]

    def __init__(self, title: str, description: str | None, tags: dict[str, str]) -> None:
        super().__init__()
        self.title_text = title
        self.description = description
        self.tags = tags

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog", classes="dialog wide"):
            yield Label(content(self.title_text, 300), classes="dialog-title", markup=False)
            if self.description is not None:
                yield Label("Description (Markdown)", classes="field-label")
                area = TextArea(block(self.description), id="description", soft_wrap=True)
                area.cursor_blink = not self.app.is_headless  # steady in tests and snapshots
                yield area
            yield Label("Tags (key=value, comma separated)", classes="field-label")
            yield Input(format_tags(self.tags), id="tags")
            yield Label("Reason (goes into the audit log)", classes="field-label")
            yield Input(placeholder="why?", id="reason", max_length=2000)
            yield Static("", id="edit-error", classes="inline-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        if self.description is not None:
            self.query_one("#description", TextArea).focus()
        else:
            self.query_one("#tags", Input).focus()

    def _error(self, message: str) -> None:
        self.query_one("#edit-error", Static).update(content(message, 500))

    @on(Input.Submitted, "#reason")
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        try:
            tags = parse_tags(self.query_one("#tags", Input).value)
        except ValueError as exc:
            self._error(str(exc))
            return
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self._error("A reason is required: type why, then press enter (escape cancels).")
            self.query_one("#reason", Input).focus()
            return
        description = None
        if self.description is not None:
            description = self.query_one("#description", TextArea).text
        self.dismiss(Edits(description, *tag_changes(self.tags, tags), reason))

    @on(Input.Submitted, "#tags")
    def next_field(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
