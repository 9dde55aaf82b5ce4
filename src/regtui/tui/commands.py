"""The command palette (ctrl+p): jump to any model or version, run any action.

Commands are named `area: Action`; only those that apply on the current
screen are offered (the same `check_action` that greys out the footer)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.fuzzy import Matcher

from regtui.catalog.records import ModelInfo
from regtui.catalog.refs import Ref, check_model_name, parse_ref
from regtui.errors import RegtuiError
from regtui.text import counted
from regtui.tui.safe import text

if TYPE_CHECKING:
    from regtui.tui.app import RegtuiApp

# "NAME:3" or "NAME #3" typed into the palette opens that version (ASCII digits only)
REF = re.compile(r"^\s*(.+?)\s*[:#]\s*[vV]?([0-9]{1,9})\s*$")
VERSIONS_PER_MODEL = 20


class RegtuiCommands(Provider):
    async def startup(self) -> None:
        app: RegtuiApp = self.app  # type: ignore[assignment]
        self.models: list[ModelInfo] = app.known_models()
        self.recent: list[str] = []
        if not self.models:
            try:
                self.models = await asyncio.to_thread(app.catalog.models)
            except RegtuiError:
                return

        def recent() -> list[str]:
            out = []
            for m in self.models[:50]:
                out += [
                    v.ref
                    for v in app.catalog.versions(
                        m.name, newest_first=True, limit=VERSIONS_PER_MODEL
                    )
                ]
            return out

        try:
            self.recent = await asyncio.to_thread(recent)
        except RegtuiError:
            self.recent = []

    def offered_actions(self) -> list[tuple[str, Callable[[], object], str]]:
        app: RegtuiApp = self.app  # type: ignore[assignment]
        screen = self.screen
        out: list[tuple[str, Callable[[], object], str]] = []

        def offer(name: str, action: str, help_text: str, *params: object) -> None:
            base = action.split("(")[0]
            if hasattr(screen, f"action_{base}") and screen.check_action(base, params):
                out.append((name, partial(screen.run_action, action), help_text))

        offer("version: Open", "open", "Show every fact about the selected version")
        offer("version: Approve", "approve", "Approve the selected version (asks why)")
        offer("version: Reject", "reject", "Reject the selected version (asks why)")
        for stage in dict.fromkeys(("production", "staging", *app.protected_stages)):
            offer(
                f"version: Promote to {stage}",
                f"promote_to('{stage}')",
                f"Point {stage} at the selected version (asks why)",
                stage,
            )
        offer("version: Promote to a stage…", "promote", "Choose a stage, then why")
        offer("version: Mark for diff", "mark", "d then diffs marked against selected")
        offer(
            "version: Diff against production",
            "diff",
            "Compare with production (or the marked version)",
        )
        offer(
            "version: Edit description and tags",
            "edit_tags",
            "Edit this version's description and tags",
        )
        v = getattr(screen, "current_version", lambda: None)()
        archived = bool(v is not None and v.archived)
        offer(
            "version: Unarchive" if archived else "version: Archive",
            "archive",
            "Let it be promoted again (asks why)"
            if archived
            else "Keep it, but let it hold no stage (asks why)",
        )
        offer("version: Log metrics", "log_metrics", "Add metrics measured later (asks why)")
        offer("stage: Roll back", "rollback", "Move a stage back to the version before")
        offer("stage: Demote (empty a stage)", "demote", "Point a stage at no version (asks why)")
        offer("model: Edit description and tags", "edit", "Edit the selected model")
        offer("catalog: Filter versions", "filter", "Filter with the filter language")
        offer(
            "catalog: Find in all models",
            "find",
            "Filter the versions of every model: model:version rows",
        )
        offer("catalog: Next metric in sparkline", "next_metric", "Chart another metric")
        offer(
            "diff: Toggle all / differing fields",
            "toggle_differing",
            "Show all or only differing",
        )
        offer("diff: Swap sides", "swap", "Swap left and right")
        offer("diff: Open field", "open_row", "Both values of the selected field, uncut")
        offer("audit: Open event", "open_event", "The whole event: before, after, hashes")
        offer("audit: Filter", "focus_filter", "Filter by model, actor or action")
        offer("audit: Verify chain", "verify", "Re-check the hash chain of every event")
        out.append(("catalog: Audit log", app.action_audit, "Every change, and the chain check"))
        out.append(("catalog: Watch panel", app.action_watch, "Watched roots and activity"))
        out.append(("catalog: Refresh", app.refresh_catalog, "Read the catalog again"))
        out.append(("app: Help", app.action_help, "Keys and a short guide"))
        out.append(("app: Quit", app.action_quit, "Leave regtui"))
        return out

    def _jumps(self) -> list[tuple[str, Callable[[], object], str]]:
        app: RegtuiApp = self.app  # type: ignore[assignment]
        out: list[tuple[str, Callable[[], object], str]] = []
        for m in getattr(self, "models", []):
            out.append(
                (
                    f"model: {m.name}",
                    partial(app.jump_to_model, m.name),
                    counted(m.versions, "version"),
                )
            )
        for ref in getattr(self, "recent", []):
            out.append((f"version: {ref}", partial(app.goto_version, ref), "Open"))
        return out

    async def discover(self) -> Hits:
        for name, run, help_text in self.offered_actions():
            yield DiscoveryHit(text(name), run, help=help_text)
        for name, run, help_text in self._jumps()[:40]:
            yield DiscoveryHit(text(name), run, help=help_text)

    def _typed_ref(self, query: str) -> str:
        """`NAME:3` (or `"NAME":3`, `NAME #3`) typed into the palette, as a ref; else ''."""
        m = REF.match(query)
        if not m:
            return ""
        typed, number = m.group(1), int(m.group(2))
        try:
            if typed.startswith('"'):  # a quoted name, as regtui prints it
                return str(Ref(parse_ref(f"{typed}:{number}").model, number))
            return str(Ref(check_model_name(self._named(typed)), number))
        except RegtuiError:
            return ""

    def _named(self, typed: str) -> str:
        """The model a typed name means: itself, or the one model it names but for case."""
        names = [m.name for m in getattr(self, "models", [])]
        if typed in names:
            return typed
        folded = [n for n in names if n.casefold() == typed.casefold()]
        return folded[0] if len(folded) == 1 else typed

    async def search(self, query: str) -> Hits:
        app: RegtuiApp = self.app  # type: ignore[assignment]
        matcher = self.matcher(query)
        ref = self._typed_ref(query)
        if ref:
            # Labelled as the list labels versions, so one version reads one way.
            yield Hit(1.0, text(f"version: {ref}"), partial(app.goto_version, ref), help="Open")
        for name, run, help_text in self.offered_actions() + self._jumps():
            if ref and name == f"version: {ref}":
                continue  # offered above, first
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, _highlighted(matcher, name), run, text=name, help=help_text)


def _highlighted(matcher: Matcher, name: str) -> Text:
    """The hit with its matched letters marked. Textual's own highlight reads the
    name as markup, and a model may be named `[b]x` or `[@click=app.quit]`."""
    shown = text(name)
    if shown.plain == name:
        _, offsets = matcher.fuzzy_search.match(matcher.query, name)
        for offset in offsets:
            if not name[offset].isspace():
                shown.stylize("reverse", offset, offset + 1)
    return shown
