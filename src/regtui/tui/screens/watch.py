"""The watch panel: watched roots, live registrations, hashing progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Label, ProgressBar, RichLog, Static

from regtui.tui.safe import clean, content, human_size
from regtui.tui.widgets.footer import QuietFooter

if TYPE_CHECKING:
    from regtui.tui.app import RegtuiApp


@dataclass
class RootsLoaded(Message):
    roots: list[tuple[str, str | None, float]]


class WatchScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="watch.back", tooltip="Back"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="watch-screen")

    @property
    def rapp(self) -> RegtuiApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header(icon="▤")
        yield Static(id="watch-state", markup=False)
        yield Label("Watched roots", classes="section-title")
        yield Static(content("loading…"), id="roots", markup=False)
        yield Label("Hashing", classes="section-title")
        yield Static(content("idle"), id="hash-file", markup=False)
        yield ProgressBar(total=100, show_eta=False, id="hash-progress")
        yield Label("Activity", classes="section-title")
        yield RichLog(id="watch-log", markup=False, wrap=False, max_lines=1000)
        yield QuietFooter()

    def on_mount(self) -> None:
        self.show_state()
        log = self.query_one(RichLog)
        for line in self.rapp.watch_log:
            log.write(line)
        if not self.rapp.watch_log:
            log.write(Text("nothing yet", style="dim"))
        self.query_one("#hash-progress").display = False
        self.load_roots()

    def show_state(self) -> None:
        state = self.query_one("#watch-state", Static)
        state.remove_class("watching", "not-watching")
        if self.rapp.watching:
            state.update(content("● watching: new model files are registered as they finish"))
            state.add_class("watching")
        else:
            detail = self.rapp.watch_detail or "not watching"
            state.update(content(f"○ {detail}"))
            state.add_class("not-watching")

    @work(thread=True, exclusive=True, group="roots", exit_on_error=False)
    def load_roots(self) -> None:
        roots = [(r.path, r.model, r.settle_seconds) for r in self.rapp.catalog.watch_roots()]
        known = {r[0] for r in roots}
        for d in self.rapp.watch_dirs:
            if str(d) not in known:
                roots.append((str(d), None, 2.0))
        self.post_message(RootsLoaded(roots))

    @on(RootsLoaded)
    def roots_loaded(self, message: RootsLoaded) -> None:
        widget = self.query_one("#roots", Static)
        if not message.roots:
            widget.update(
                content(
                    "No watched roots. Start one with `regtui watch DIR` "
                    "(or `regtui scan DIR` for a single pass)."
                )
            )
            return
        out = Text()
        for path, model, settle in message.roots:
            out.append("  ")
            out.append(clean(path, 300), "bold")
            out.append(
                f"  model: {clean(model, 128) if model else 'first folder under the root'}"
                f" · settle {settle:g}s\n",
                "dim",
            )
        widget.update(out)

    def add_line(self, line: Text) -> None:
        self.query_one(RichLog).write(line)

    def progress(self, path: str, done: int, total: int) -> None:
        bar = self.query_one("#hash-progress", ProgressBar)
        label = self.query_one("#hash-file", Static)
        if total <= 0 or done >= total:
            bar.display = False
            label.update(content("idle"))
            return
        bar.display = True
        bar.update(total=total, progress=done)
        label.update(content(f"{clean(path, 200)}  {human_size(done)} of {human_size(total)}"))

    def catalog_changed(self) -> None:
        self.load_roots()
