"""One version: facts, metrics, params, tags, lineage, warnings, stage history, card."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Header, Label, Markdown, Static

from regtui.catalog.diff import flatten
from regtui.catalog.records import ModelInfo, StageMove, VersionInfo
from regtui.errors import RegtuiError
from regtui.tui.columns import DAMAGE_MARK
from regtui.tui.safe import block, content, human_size, number, short_time, text, value_str
from regtui.tui.screens.actions import VersionActions
from regtui.tui.screens.change_keys import change_keys
from regtui.tui.widgets.facts import kv_table
from regtui.tui.widgets.footer import QuietFooter

CARD_KEYS = ("model_card", "card", "readme", "description")


@dataclass
class VersionLoaded(Message):
    version: VersionInfo | None
    model: ModelInfo | None
    history: list[StageMove]
    error: str | None = None


def model_card(v: VersionInfo) -> str | None:
    for key in CARD_KEYS:
        value = v.metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


LATE_MARK = "◷"


def late(v: VersionInfo, kind: str, key: str, shown: str) -> str:
    """A value logged after registration, marked with when it arrived."""
    at = v.logged.get(f"{kind}.{key}")
    if not at:
        return shown
    return f"{shown}  {LATE_MARK} logged {str(at)[:16].replace('T', ' ')}"


def dataset_rows(v: VersionInfo) -> list[tuple[str, Any]]:
    """One row per dataset: its context (or kind), and what identifies it."""
    from regtui.catalog.datasets import label

    rows = []
    for ds in v.datasets:
        shown = label({k: x for k, x in ds.items() if k != "context"})
        if ds.get("size_bytes") is not None:
            shown += f"  {human_size(int(ds['size_bytes']))}"
        if ds.get("source") and ds["source"] != "given":
            shown += f"  (from {ds['source']})"
        rows.append((str(ds.get("context") or ds.get("kind") or "dataset"), shown))
    return rows


class VersionScreen(VersionActions):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="version.back", tooltip="Back"),
        Binding(
            "d",
            "diff",
            "Diff",
            id="catalog.diff",
            tooltip="Diff against production (or the previous version)",
        ),
        *change_keys(version_edit_key="e", model_edit_key="E"),
    ]

    def __init__(self, ref: str) -> None:
        super().__init__(classes="version-screen")
        self.ref = ref
        self.version: VersionInfo | None = None
        self.model: ModelInfo | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="▤")
        with VerticalScroll(id="version-body"):
            yield Static(content(f"loading {self.ref}…"), id="version-title", markup=False)
            yield Label("Description", classes="section-title", id="description-title")
            yield Static(id="version-description", markup=False)
            yield Label("Facts", classes="section-title")
            yield Static(id="facts", markup=False)
            yield Label("Metrics", classes="section-title")
            yield Static(id="metrics", markup=False)
            yield Label("Params", classes="section-title")
            yield Static(id="params", markup=False)
            yield Label("Datasets", classes="section-title")
            yield Static(id="datasets", markup=False)
            yield Label("Tags", classes="section-title")
            yield Static(id="tags", markup=False)
            yield Label("Lineage", classes="section-title")
            yield Static(id="lineage", markup=False)
            yield Label("Warnings", classes="section-title")
            yield Static(id="warnings", markup=False)
            yield Label("Stage history", classes="section-title")
            yield Static(id="history", markup=False)
            yield Label("Model card / description", classes="section-title")
            yield Markdown("", id="card", open_links=False)
        yield QuietFooter()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="version", exit_on_error=False)
    def load(self) -> None:
        cat = self.rapp.catalog
        try:
            v = cat.get(self.ref)
            m = cat.model(v.model)
            history = cat.stage_history(v.model)
        except RegtuiError as exc:
            self.post_message(VersionLoaded(None, None, [], str(exc)))
            return
        self.post_message(VersionLoaded(v, m, history))

    @on(VersionLoaded)
    def loaded(self, message: VersionLoaded) -> None:
        if message.error or message.version is None:
            self.query_one("#version-title", Static).update(content(message.error or "not found"))
            return
        v, m = message.version, message.model
        self.version, self.model = v, m
        self.ref = v.ref
        title = Text()
        title.append(v.ref, "bold")
        status_style = {"approved": "green", "rejected": "red"}.get(v.approval.status, "yellow")
        title.append(f"  {v.approval.status}", status_style)
        if v.stages:
            title.append("  in " + ", ".join(v.stages), "bold green")
        if v.archived:
            title.append("  archived", "dim")
        if v.artifact_state != "ok":
            title.append(f"  artifact {v.artifact_state}", "bold red")
        if v.damage:
            title.append(f"  {DAMAGE_MARK} damaged: never approved or shipped", "bold red")
        self.query_one("#version-title", Static).update(title)
        approval = v.approval.status
        if v.approval.by:
            approval += f" by {v.approval.by} at {short_time(v.approval.at)}"
            if v.approval.reason:
                approval += f": {v.approval.reason}"
        facts: list[tuple[str, Any]] = [
            ("path", v.path),
            ("sha256", v.sha256),
            ("size", f"{human_size(v.size_bytes)} ({v.size_bytes:,} bytes)"),
            ("format", v.format),
            ("framework", v.framework or "—"),
            ("created", f"{short_time(v.created_at)} by {v.created_by}"),
            ("approval", approval),
            ("stages", ", ".join(v.stages) or "—"),
            ("artifact", v.artifact_state),
        ]
        if v.damage:  # artifact text: shown as plain text, never markup
            facts.insert(0, ("damaged", text(v.damage, "bold red", 2000)))
        self.query_one("#facts", Static).update(kv_table(facts))
        described = self.query_one("#version-description", Static)
        described.update(content(v.description or ""))  # a person's text: literal, never markup
        for widget in (described, self.query_one("#description-title", Label)):
            widget.display = bool(v.description)
        self._section(
            "#metrics",
            [(k, late(v, "metrics", k, number(x))) for k, x in sorted(v.metrics.items())],
        )
        self._section(
            "#params",
            [(k, late(v, "params", k, value_str(x))) for k, x in sorted(flatten(v.params).items())],
        )
        self._section("#datasets", dataset_rows(v))
        self._section("#tags", sorted(v.tags.items()))
        meta = {k: x for k, x in v.metadata.items() if k not in CARD_KEYS and x not in ({}, [])}
        lineage = sorted(flatten(v.lineage).items()) if v.lineage else []
        extra = [(f"metadata.{k}", x) for k, x in sorted(flatten(meta).items())] if meta else []
        self._section("#lineage", lineage + extra[:200])
        warn = self.query_one("#warnings", Static)
        if v.warnings:
            out = Text()
            for w in v.warnings:
                out.append("⚠ ", "yellow")
                out.append_text(text(w, limit=2000, one_line=True))
                out.append("\n")
            warn.update(out)
        else:
            warn.update(content("none"))
        hist = self.query_one("#history", Static)
        if message.history:
            lines = Text()
            for mv in reversed(message.history[-50:]):
                frm = f"v{mv.from_version}" if mv.from_version is not None else "—"
                to = f"v{mv.to_version}" if mv.to_version is not None else "—"
                lines.append(f"{short_time(mv.at)}  ")
                lines.append_text(text(mv.stage, "bold", 64))
                lines.append(f"  {frm} → {to}  {mv.action} by ")
                lines.append_text(text(mv.by, limit=64))
                if mv.reason:
                    lines.append(": ")
                    lines.append_text(text(mv.reason, "italic", 300))
                lines.append("\n")
            hist.update(lines)
        else:
            hist.update(content("no stage moves yet"))
        card = model_card(v)
        parts = []
        if m is not None and m.description.strip():
            parts.append(block(m.description))
        if card:
            parts.append(block(card))
        self.query_one("#card", Markdown).update(
            "\n\n---\n\n".join(parts) if parts else "*No description or model card.*"
        )
        self.refresh_bindings()

    def _section(self, selector: str, rows: list[tuple[str, Any]]) -> None:
        widget = self.query_one(selector, Static)
        if not rows:
            widget.update(content("none"))
            return
        widget.update(kv_table([(k, value_str(x)) for k, x in rows]))

    @on(Markdown.LinkClicked)
    def link_clicked(self, event: Markdown.LinkClicked) -> None:
        # Links in a model card are untrusted: show them, never open them.
        self.notify(f"Link (not opened): {block(event.href)[:300]}", markup=False)

    def catalog_changed(self) -> None:
        self.load()

    def current_version(self) -> VersionInfo | None:
        return self.version

    def current_model(self) -> ModelInfo | None:
        return self.model
