"""What the catalog screen says above the versions: the selected model (name, count,
stages, tags, the first line of its description), the search across all models, or
what to do when there is nothing yet."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.content import Content

from regtui.catalog.records import ModelInfo
from regtui.text import counted
from regtui.tui.safe import clean, content
from regtui.tui.widgets.model_list import stages_text


def model_head(
    m: ModelInfo | None, everywhere: bool, watch_dirs: list[Path], filtering: bool
) -> Text | Content:
    if everywhere:
        line = Text("All models", "bold")
        line.append("  versions of every model matching the filter (esc: back)", "dim")
        return line
    if m is None:
        return _nothing_yet(watch_dirs, filtering)
    line = Text()
    line.append(clean(m.name, 128), "bold")
    line.append("  " + counted(m.versions, "version"), "dim")
    stages = stages_text(m.stages)
    if stages:
        line.append("  " + stages, "green")
    if m.tags:
        line.append("  " + clean(", ".join(f"{k}={v}" for k, v in m.tags.items()), 200), "italic")
    desc = [x for x in (m.description or "").splitlines() if x.strip()]
    desc = [x for x in desc if not x.lstrip().startswith("#")] or desc
    if desc:
        line.append("\n")
        line.append(clean(desc[0], 200), "dim")
    return line


def _nothing_yet(watch_dirs: list[Path], filtering: bool) -> Content:
    if watch_dirs:
        where = ", ".join(str(d) for d in watch_dirs[:3]) + (" …" if len(watch_dirs) > 3 else "")
        return content(
            f"No models yet. Watching {where}: model files finished there are "
            "registered and appear here (w shows what the watcher sees)."
        )
    if filtering:
        return content("No model matches.")
    return content(
        "No models yet. Register one with `regtui register PATH --model NAME`, "
        "or watch a folder with `regtui watch DIR`."
    )
