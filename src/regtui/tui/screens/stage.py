"""Choose a stage: an existing one (with what it holds now) or a new name."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from regtui.catalog.refs import check_stage_name
from regtui.errors import UsageError
from regtui.tui.safe import clean, content


class StageChooser(ModalScreen[str | None]):
    """Returns the chosen stage name, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="stage.cancel", tooltip="Choose nothing"),
    ]

    def __init__(
        self,
        title: str,
        stages: dict[str, int | None],
        protected: tuple[str, ...] = ("production",),
        *,
        only_existing: bool = False,
        suggested: tuple[str, ...] = ("production", "staging"),
    ) -> None:
        super().__init__()
        self.title_text = title
        self.only_existing = only_existing
        self.protected = protected
        names = [s for s, v in stages.items() if v is not None] if only_existing else list(stages)
        if not only_existing:
            names += [s for s in (*protected, *suggested) if s not in names]
        self.names = list(dict.fromkeys(names))
        self.stages = stages

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog", classes="dialog"):
            yield Label(content(self.title_text, 300), classes="dialog-title", markup=False)
            options = []
            for name in self.names:
                held = self.stages.get(name)
                notes = []
                notes.append(f"now v{held}" if held is not None else "empty")
                if name in self.protected:
                    notes.append("protected: approved versions only")
                label = Content(clean(name, 64)).stylize("bold") + Content(
                    "  (" + ", ".join(notes) + ")"
                ).stylize("dim")
                options.append(Option(label, id=name))
            yield OptionList(*options, id="stages")
            if not self.only_existing:
                yield Label("…or a new stage name", classes="field-label")
                yield Input(placeholder="e.g. canary", id="new-stage", max_length=64)
                yield Static("", id="stage-error", classes="inline-error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#stages", OptionList).focus()

    @on(OptionList.OptionSelected, "#stages")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    @on(Input.Submitted, "#new-stage")
    def typed(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        try:
            check_stage_name(name)
        except UsageError as exc:
            self.query_one("#stage-error", Static).update(content(str(exc), 300))
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)
