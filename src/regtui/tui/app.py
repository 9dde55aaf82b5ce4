"""The regtui App and `make_app`, the one factory the CLI, the demo and the tests use.

The app holds the catalog, polls its change counter (so versions written by the
CLI, the watcher or another process appear without a restart), runs changes on
one worker group, and owns the watcher lifecycle. Screens live in `screens/`.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import Worker, WorkerState

from regtui.catalog.records import Policy, VersionInfo
from regtui.catalog.service import Catalog
from regtui.errors import PolicyRefused, RegtuiError, reason_for
from regtui.text import counted, elide_middle
from regtui.tui.chain_check import ChainCheck
from regtui.tui.commands import RegtuiCommands
from regtui.tui.messages import (
    CatalogChanged,
    ChangeApplied,
    ChangeRefused,
    HashingProgressed,
    VersionRegistered,
    WatchReported,
    WatchStateChanged,
)
from regtui.tui.safe import clean, short_time

POLL_SECONDS = 1.0
WATCH_LOG_LINES = 500
# The audit chain is re-checked after a change at most this often: a full pass
# (about 15 s of one core at 100k events, in its own process).
CHAIN_CHECK_SECONDS = 300.0
# Registrations within this long become one notice (a training run writes many files).
NOTICE_BURST_SECONDS = 1.0


class RegtuiApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "regtui"
    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {RegtuiCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"
    # Screen classes by terminal width: the stylesheet lets panes give way (`-narrow`).
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [
        (0, "-narrow"),
        (110, "-normal"),
        (150, "-wide"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "l",
            "audit",
            "Audit log",
            show=False,
            id="app.audit",
            tooltip="Every change: who, when, why; checks the hash chain",
        ),
        Binding(
            "w",
            "watch",
            "Watch",
            show=False,
            id="app.watch",
            tooltip="Watched folders and live registrations",
        ),
        Binding(
            "question_mark,f1",
            "help",
            "Help",
            id="app.help",
            tooltip="Keys and a short guide",
            key_display="?",
        ),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave regtui"),
    ]

    def __init__(
        self,
        catalog: Catalog,
        *,
        watch_dirs: list[Path] | None = None,
        read_only: bool | str = False,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        super().__init__()
        self.catalog = catalog
        # A string says why (shown in the header); True alone: opened read-only.
        self.read_only = bool(read_only or catalog.read_only)
        self.read_only_why = (
            read_only if isinstance(read_only, str) and read_only else "opened read-only"
        )
        self.watch_dirs = [Path(d) for d in (watch_dirs or [])]
        self.poll_seconds = poll_seconds
        self.policy = Policy()
        self.watching = False
        self.watch_detail = ""
        self.watch_log: deque[Text] = deque(maxlen=WATCH_LOG_LINES)
        self._counter: int | None = None
        self._watcher: Any = None
        self.chain_problem: str | None = None  # the audit chain does not verify
        self.chain_check = ChainCheck(catalog.url)
        self._chain_thread: Any = None
        self._chain_timer: Any = None
        self._chain_checked_at = -CHAIN_CHECK_SECONDS
        self._registered: list[VersionInfo] = []  # since the last notice (a burst)
        self._show_status()

    def _show_status(self) -> None:
        """The header's second part: who acts, what is watched, why nothing can change,
        and a broken audit chain (else only visible on the audit screen)."""
        # Most important first: at 80 columns the end may be cut.
        parts = [self.catalog.actor]
        if self.chain_problem:
            parts.append("⚠ AUDIT CHAIN BROKEN (l)")
        if self.read_only:
            parts.append(f"read-only ({self.read_only_why})")
        if self.watching:
            parts.append(f"watching {_folders(self.watch_dirs)}")
        self.sub_title = " · ".join(parts)

    @property
    def protected_stages(self) -> tuple[str, ...]:
        return self.policy.protected_stages

    # --------------------------------------------------------------- lifecycle

    def on_mount(self) -> None:
        from regtui.tui.screens.catalog import CatalogScreen

        self.push_screen(CatalogScreen())
        self._poll()
        if self.poll_seconds > 0:
            self.set_interval(self.poll_seconds, self._poll, name="poll")
        self._start_watcher()
        # Building the filter language's parser takes ~60 ms: do it once the first
        # screen is up rather than when the first filter is applied.
        self.set_timer(0.5, self._warm_filter_parser)
        self.set_timer(1.0, self._check_chain)
        # An edit that bypasses regtui changes no counter: look again now and then too.
        self.set_interval(CHAIN_CHECK_SECONDS, self._check_chain, name="chain-every")

    @work(thread=True, group="warm", exit_on_error=False)
    def _warm_filter_parser(self) -> None:
        from regtui.catalog.filter import compile_filter

        compile_filter("version = 1", self.catalog.dialect)

    def on_unmount(self) -> None:
        self.chain_check.stop()
        self._stop_watcher()

    # ---------------------------------------------------------------- refresh

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def _poll(self) -> None:
        """Notice changes by anyone (this app, the CLI, the watcher, other processes)."""
        counter = self.catalog.change_counter()
        if self._counter is None:
            self._counter = counter
            self.policy = self.catalog.policy()
            return
        if counter != self._counter:
            self._counter = counter
            self.policy = self.catalog.policy()
            self.post_message(CatalogChanged(counter))

    def _check_chain(self) -> None:
        """Check the chain in the background (a daemon thread waiting on a child
        process, not a worker: nothing in the app waits for it)."""
        import threading
        import time

        if self._chain_thread is not None and self._chain_thread.is_alive():
            return
        self._chain_checked_at = time.monotonic()

        def run() -> None:
            problem = self.chain_check.run()
            with contextlib.suppress(RuntimeError):  # the app closed meanwhile
                self.call_from_thread(self._chain_checked, problem)

        self._chain_thread = threading.Thread(target=run, name="chain-check", daemon=True)
        self._chain_thread.start()

    def _chain_checked(self, problem: str | None) -> None:
        if problem != self.chain_problem:
            self.chain_problem = problem
            self._show_status()
            if problem:
                self.notify(
                    clean(problem, 300) + " — l opens the audit log",
                    title="Audit chain broken",
                    severity="error",
                    markup=False,
                    timeout=15,
                )

    def _maybe_check_chain(self) -> None:
        import time

        if self._chain_timer is not None:
            return  # a check is already due
        wait = self._chain_checked_at + CHAIN_CHECK_SECONDS - time.monotonic()
        if wait <= 0:
            self._check_chain()
        else:

            def due() -> None:
                self._chain_timer = None
                self._check_chain()

            self._chain_timer = self.set_timer(wait, due, name="chain")

    def refresh_catalog(self) -> None:
        self._poll()

    @on(CatalogChanged)
    def catalog_changed(self) -> None:
        self._maybe_check_chain()
        for screen in self.screen_stack:
            handler = getattr(screen, "catalog_changed", None)
            if handler is not None:
                handler()

    # ----------------------------------------------------------------- changes

    def apply_change(self, summary: str, undo: str, change: Callable[[Catalog], Any]) -> None:
        """Run a change on a worker; the outcome comes back as a message."""
        if self.read_only:
            self.notify("The catalog is open read-only.", severity="warning", markup=False)
            return
        self._run_change(summary, undo, change)

    @work(thread=True, group="changes", exit_on_error=False)
    def _run_change(self, summary: str, undo: str, change: Callable[[Catalog], Any]) -> None:
        try:
            change(self.catalog)
        except PolicyRefused as exc:
            self.post_message(ChangeRefused(str(exc), exc.rule))
        except RegtuiError as exc:
            self.post_message(ChangeRefused(str(exc)))
        else:
            self.post_message(ChangeApplied(summary, undo))

    @on(ChangeApplied)
    def change_applied(self, message: ChangeApplied) -> None:
        note = message.summary + (f" ({message.undo})" if message.undo else "")
        self.notify(note, markup=False, timeout=5)
        self._poll()

    @on(ChangeRefused)
    def change_refused(self, message: ChangeRefused) -> None:
        self.report_refusal(message.summary, message.rule)

    def report_refusal(self, text: str, rule: str | None = None) -> None:
        """A change the catalog refused (or could not check), as a plain notice."""
        title = "Refused by policy" if rule else "Not done"
        self.notify(clean(text, 1000), title=title, severity="error", markup=False, timeout=10)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """One place where unexpected worker failures become a plain message."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, RegtuiError):
            text = str(error)
        else:
            text = f"internal error in {event.worker.name or 'a worker'}: {error!r}"
        self.notify(clean(text, 1000), title="Error", severity="error", markup=False, timeout=10)

    # ---------------------------------------------------------------- navigation

    def open_version(self, ref: str) -> None:
        from regtui.tui.screens.version import VersionScreen

        self.push_screen(VersionScreen(ref))

    def goto_version(self, ref: str) -> None:
        """Select the version's model in the catalog, then open the version (palette)."""
        from regtui.catalog.refs import parse_ref

        self.jump_to_model(parse_ref(ref).model)
        self.open_version(ref)

    def open_diff(self, left: str, right: str) -> None:
        from regtui.tui.screens.diff import DiffScreen

        self.push_screen(DiffScreen(left, right))

    def known_models(self) -> list[Any]:
        """Models the catalog screen already loaded (no database call)."""
        from regtui.tui.screens.catalog import CatalogScreen

        for screen in self.screen_stack:
            if isinstance(screen, CatalogScreen):
                return list(screen.models.values())
        return []

    def jump_to_model(self, name: str) -> None:
        from regtui.tui.screens.catalog import CatalogScreen

        while len(self.screen_stack) > 2 and not isinstance(self.screen, CatalogScreen):
            self.pop_screen()
        if isinstance(self.screen, CatalogScreen):
            self.screen.jump_to_model(name)

    def action_audit(self) -> None:
        from regtui.tui.screens.audit import AuditScreen

        if not isinstance(self.screen, AuditScreen):
            self.push_screen(AuditScreen())

    def action_watch(self) -> None:
        from regtui.tui.screens.watch import WatchScreen

        if not isinstance(self.screen, WatchScreen):
            self.push_screen(WatchScreen())

    def action_help(self) -> None:
        from regtui.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        active = list(self.screen.active_bindings.items())
        display = {key: self.get_key_display(a.binding) for key, a in active}
        self.push_screen(HelpScreen(active, display))

    # ------------------------------------------------------------------ watcher

    def _start_watcher(self) -> None:
        if not self.watch_dirs:
            self.watch_detail = (
                "not watching: start the app with `regtui watch DIR…` to watch folders"
            )
            return
        try:
            from regtui.tui import watching
        except ImportError:  # pragma: no cover - the module ships with the TUI
            self.watch_detail = "not watching: the watcher is not available in this build"
            return
        try:
            self._watcher = watching.start(self, self.catalog, self.watch_dirs)
        except Exception as exc:
            self.watch_detail = f"not watching: {clean(str(exc), 300)}"
            self._watcher = None

    def _stop_watcher(self) -> None:
        if self._watcher is not None:
            with contextlib.suppress(Exception):
                self._watcher.stop()
            self._watcher = None

    def _watch_screen(self) -> Any:
        from regtui.tui.screens.watch import WatchScreen

        for screen in self.screen_stack:
            if isinstance(screen, WatchScreen):
                return screen
        return None

    def _add_watch_line(self, line: Text) -> None:
        self.watch_log.append(line)
        screen = self._watch_screen()
        if screen is not None:
            screen.add_line(line)

    @on(VersionRegistered)
    def version_registered(self, message: VersionRegistered) -> None:
        v = message.version
        line = Text(f"{short_time(v.created_at)}  ")
        line.append("registered " if message.created else "already had ", "green")
        line.append(v.ref, "bold")
        line.append(f"  {clean(v.format, 40)}  {clean(v.path, 300)}", "dim")
        self._add_watch_line(line)
        self._poll()
        if message.created:
            if not self._registered:
                self.set_timer(NOTICE_BURST_SECONDS, self._notify_registered)
            self._registered.append(v)

    def _notify_registered(self) -> None:
        """One notice per burst of registrations: a run that writes twenty checkpoints
        gets one line, not twenty toasts."""
        burst, self._registered = self._registered, []
        if not burst:
            return
        if len(burst) == 1:
            v = burst[0]
            note = f"Registered {v.ref} ({clean(v.format, 40)})."
        else:
            refs = ", ".join(v.ref for v in burst[:3])
            more = f" and {len(burst) - 3} more" if len(burst) > 3 else ""
            note = f"Registered {counted(len(burst), 'version')}: {refs}{more}."
        self.notify(note + " w shows the watch log.", title="Watcher", markup=False, timeout=6)

    @on(WatchReported)
    def watch_reported(self, message: WatchReported) -> None:
        style = "red" if message.outcome in ("error", "refused") else "yellow"
        line = Text(f"{message.outcome} ", style)
        line.append(clean(message.path, 300))
        if message.detail:  # a refusal's detail begins with the path just shown
            line.append(f"  {clean(reason_for(message.path, message.detail), 500)}", "dim")
        self._add_watch_line(line)

    @on(HashingProgressed)
    def hashing_progressed(self, message: HashingProgressed) -> None:
        screen = self._watch_screen()
        if screen is not None:
            screen.progress(message.path, message.done, message.total)

    @on(WatchStateChanged)
    def watch_state_changed(self, message: WatchStateChanged) -> None:
        self.watching = message.watching
        self.watch_detail = message.detail
        self._show_status()
        screen = self._watch_screen()
        if screen is not None:
            screen.show_state()


def _folders(dirs: list[Path]) -> str:
    if len(dirs) == 1:  # cut in the middle: the folder's own name is at the end
        return elide_middle(clean(str(dirs[0]), 500), 50)
    return f"{len(dirs)} folders"


def make_app(
    catalog: Catalog, *, watch_dirs: list[Path] | None = None, read_only: bool | str = False
) -> RegtuiApp:
    """The app on `catalog`: used by `regtui`, `regtui demo`, `regtui watch` and the tests.
    `read_only` may say why (the header shows it)."""
    return RegtuiApp(catalog, watch_dirs=watch_dirs, read_only=read_only)
