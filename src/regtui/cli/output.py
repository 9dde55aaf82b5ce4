"""Rendering for the CLI: `emit` writes a command's answer as JSON or as text.
Every artifact-provided string goes through `safe`, so escape sequences print as
visible escapes and are never acted on."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from regtui.catalog.diff import Diff
from regtui.catalog.records import (
    ArtifactCheck,
    AuditEvent,
    ChainCheck,
    ModelInfo,
    ScanItem,
    StageMove,
    VersionInfo,
    iso,
)
from regtui.text import counted, elide_middle, elide_pair, human_size, json_text, printable

if TYPE_CHECKING:
    from regtui.catalog.audit_replay import StateCheck
    from regtui.from_mlflow.importer import Outcome

CELL_LIMIT = 60
MAX_PATH_SHOWN = 10_000
DAMAGE_CONSEQUENCE = "it can never be approved or reach a protected stage"


class JsonText(str):
    """JSON already encoded (`versions --json` splices stored rows): written as is."""


def emit(
    args: argparse.Namespace, data: Callable[[], Any], text: str | Callable[[], object]
) -> None:
    """A command's answer: `data()` as JSON under --json, else `text` (one line,
    or a function that prints it). Only the form asked for is built."""
    if getattr(args, "json", False):
        value = data()
        encoded = value if isinstance(value, JsonText) else json_text(value, indent=2)
        sys.stdout.write(encoded + "\n")
    elif callable(text):
        text()
    else:
        print(text)


def safe(value: object, limit: int = 10_000) -> str:
    return printable("" if value is None else value, limit, one_line=True)


def human(value: Any) -> str:
    """A value from the catalog as a person reads it, never a Python repr: lists
    as `a, b`, mappings as `k=v, k2=v2`, nested ones in parentheses, booleans as
    true/false, nothing as `-`. Not yet made safe: pass the result to `safe`."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_nested(v)}" for k, v in value.items()) or "(empty)"
    if isinstance(value, list | tuple):
        if not value:
            return "(none)"
        joiner = "; " if any(isinstance(v, Mapping | list | tuple) for v in value) else ", "
        return joiner.join(_nested(v) for v in value)
    return str(value)


def _nested(value: Any) -> str:
    """A value inside a list or mapping: a container in parentheses, so where it
    ends stays visible."""
    text = human(value)
    return f"({text})" if isinstance(value, Mapping | list | tuple) and value else text


def ref(v: VersionInfo) -> str:
    return safe(v.ref)  # as a ref is typed: a name holding ':' or '@' is quoted


def short_time(v: Any, *, seconds: bool = False) -> str:
    """A time as every table shows it (`2026-03-01 09:00`, UTC), to the second for
    one version's detail; --json keeps the full ISO text."""
    text = v if isinstance(v, str) else iso(v) or ""  # ISO text as stored, or a datetime
    return text[: 19 if seconds else 16].replace("T", " ")


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], limit: int | None = CELL_LIMIT
) -> None:
    """Rows under headers in aligned columns; each cell made safe and cut at `limit`
    (None: the cells are safe and cut already)."""
    cells = [[c if limit is None else safe(c, limit) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    out = sys.stdout
    out.write("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip() + "\n")
    for row in cells:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


def print_path(path: Path, end: bytes = b"\n") -> None:
    """A path as `resolve` prints it: to a terminal with control characters shown
    as escapes (a file name can hold an escape sequence); to a pipe or file as its
    exact bytes (even a name that is not UTF-8) ended by `end` (NUL for `-0`,
    xargs -0), for the program reading it."""
    out = sys.stdout
    if out.isatty():
        out.write(printable(str(path), MAX_PATH_SHOWN, one_line=True) + "\n")
        return
    out.flush()
    out.buffer.write(os.fsencode(path) + end)


def print_models(models: Sequence[ModelInfo]) -> None:
    if not models:
        print("no models yet: register one with 'regtui register PATH --model NAME'")
        return
    table(
        ["MODEL", "VERSIONS", "LATEST", "STAGES", "DESCRIPTION"],
        [
            [
                m.name,
                str(m.versions),
                str(m.latest or "-"),
                ", ".join(f"{s}={n if n is not None else '-'}" for s, n in m.stages.items()),
                m.description.splitlines()[0] if m.description else "",
            ]
            for m in models
        ],
    )


def headline_metrics(v: VersionInfo, n: int = 3) -> str:
    return " ".join(f"{k}={v.metrics[k]:.4g}" for k in sorted(v.metrics)[:n])


def print_versions(versions: Sequence[VersionInfo]) -> None:
    if not versions:
        print("no versions match")
        return
    table(
        ["VER", "CREATED", "FORMAT", "SIZE", "APPROVAL", "STAGES", "METRICS", "WARN"],
        [
            [
                str(v.version),
                short_time(v.created_at),
                v.format,
                human_size(v.size_bytes),
                v.approval.status
                + (" (archived)" if v.archived else "")
                + (" DAMAGED" if v.damage else ""),
                ", ".join(v.stages),
                headline_metrics(v),
                str(len(v.warnings)) if v.warnings else "",
            ]
            for v in versions
        ],
    )


def _section(title: str, items: dict[str, Any]) -> None:
    if not items:
        return
    print(f"{title}:")
    width = min(max(len(safe(k, 40)) for k in items), 40)
    for k in sorted(items):
        value = items[k]
        print(
            f"  {safe(k, 40).ljust(width)}  {safe(value if isinstance(value, str) else human(value), 300)}"
        )


DESCRIPTION_LINES = 12  # a version's description in `show`; --json has the rest


def print_version(v: VersionInfo, history: Sequence[StageMove] = ()) -> None:
    print(
        f"{ref(v)}  {safe(v.format)}{' / ' + safe(v.framework) if v.framework else ''}  "
        f"{human_size(v.size_bytes)}"
    )
    print(f"  path      {safe(v.path)}")
    print(f"  sha256    {safe(v.sha256)}")
    print(f"  created   {short_time(v.created_at, seconds=True)} by {safe(v.created_by)}")
    if v.description:
        lines = v.description.splitlines() or [""]
        print("description:")
        for line in lines[:DESCRIPTION_LINES]:
            print(f"  {safe(line, 300)}")
        if len(lines) > DESCRIPTION_LINES:
            print(f"  … {len(lines) - DESCRIPTION_LINES} more lines (--json shows all)")
    approval = v.approval
    line = f"  approval  {safe(approval.status)}"
    if approval.by:
        line += f" by {safe(approval.by)} at {short_time(approval.at, seconds=True)}"
    if approval.reason:
        line += f": {safe(approval.reason, 200)}"
    print(line)
    print(f"  stages    {safe(', '.join(v.stages)) or '-'}")
    if v.damage:
        print(f"  damaged   {safe(v.damage, 600)}")
        print(f"            {DAMAGE_CONSEQUENCE}")
    if v.archived:
        print("  archived")
    if v.artifact_state != "ok":
        print(f"  artifact  {safe(v.artifact_state)} since registration")
    _section("metrics", _late_marked(v, "metrics", v.metrics))
    _section("params", _late_marked(v, "params", v.params))
    print_datasets(v)
    _section("tags", v.tags)
    from regtui.catalog.diff import flatten

    _section("lineage", flatten(v.lineage))
    _section("metadata", flatten(v.metadata))
    _print_warning_lines(v)
    moves = [m for m in history if v.version in (m.to_version, m.from_version)]
    if moves:
        print("stage history:")
        for m in moves:
            print("  " + move_line(m))


def _late_marked(v: VersionInfo, kind: str, items: dict[str, Any]) -> dict[str, Any]:
    """Values logged after registration, marked with when: `0.91  (logged 2026-…)`."""
    if not v.logged:
        return items
    out: dict[str, Any] = {}
    for k, x in items.items():
        at = v.logged.get(f"{kind}.{k}")
        out[k] = f"{_fmt(x)}  (logged {short_time(at)})" if at else x
    return out


def print_datasets(v: VersionInfo) -> None:
    from regtui.catalog.datasets import label

    if not v.datasets:
        return
    print("datasets:")
    for ds in v.datasets:
        line = f"  {safe(label(ds), 300)}"
        if ds.get("size_bytes") is not None:
            line += f"  {human_size(int(ds['size_bytes']))}"
        if ds.get("source") and ds.get("source") != "given":
            line += f"  (from {safe(ds['source'], 40)})"
        print(line)


def changes(changed: dict[str, Any]) -> str:
    """What a log or merge changed, on one line: `metrics auc=0.91, params lr=0.01`."""
    parts = []
    for kind in ("metrics", "params"):
        if changed.get(kind):
            pairs = ", ".join(f"{safe(k, 60)}={_fmt(x)}" for k, x in changed[kind].items())
            parts.append(f"{kind} {pairs}")
    if changed.get("datasets"):
        parts.append(counted(len(changed["datasets"]), "dataset"))
    return "; ".join(parts)


def hash_progress(what: str, threshold: int = 256 << 20) -> Any:
    """A progress callback printing to stderr while something large is hashed."""
    state = {"shown": -1}

    def step(done: int, total: int) -> None:
        if total < threshold:
            return
        tenth = done * 10 // max(total, 1)
        if tenth != state["shown"]:
            state["shown"] = tenth
            end = "\n" if done >= total else ""
            sys.stderr.write(f"\rhashing {what}: {tenth * 10}% of {human_size(total)}{end}")
            sys.stderr.flush()

    return step


def print_warnings(v: VersionInfo) -> None:
    """What a registration should tell: damage first, then the warnings."""
    if v.damage:
        print(f"damaged: {safe(v.damage, 600)}: {DAMAGE_CONSEQUENCE}")
    _print_warning_lines(v)


def _print_warning_lines(v: VersionInfo) -> None:
    for w in v.warnings:
        print(f"warning: {safe(w, 500)}")


def move_line(m: StageMove) -> str:
    src = f"v{m.from_version}" if m.from_version is not None else "nothing"
    dst = f"v{m.to_version}" if m.to_version is not None else "nothing"
    text = (
        f"{short_time(m.at)}  {safe(m.model)}@{m.stage}: {src} -> {dst}  ({m.action} by "
        f"{safe(m.by)})"
    )
    if m.reason:
        text += f"  {safe(m.reason, 120)}"
    return text


def _fmt(value: Any, limit: int = CELL_LIMIT) -> str:
    return safe(human(value), limit)


DIFF_WIDTH = 100  # when the terminal's width is unknown (a pipe with no COLUMNS)
MIN_VALUE = 12


def print_diff(diff: Diff, show_all: bool = False) -> None:
    """The rows that differ (all with `show_all`), fitted to the terminal's width:
    two long values are cut where they differ (text.elide_pair), so two paths or
    hashes that part near their end still show where."""
    left, right = safe(diff.left.ref), safe(diff.right.ref)
    rows = diff.rows if show_all else diff.changed()
    if not rows:
        print(f"{left} and {right} do not differ")
        return
    marks = {"same": " ", "added": "+", "removed": "-", "changed": "~"}
    # a narrow terminal gives the values the room: long field names are cut in the middle
    field_width = 40 if _width() >= 140 else max(14, _width() // 5)
    cells = []
    for r in rows:
        note = ""
        if r.section == "metrics" and r.delta is not None and r.status == "changed":
            note = f"{r.delta:+.6g}" + {True: " better", False: " worse", None: ""}[r.better]
        lv, rv = _fmt(r.left, MAX_PATH_SHOWN), _fmt(r.right, MAX_PATH_SHOWN)
        if r.left_logged:
            lv += f" (logged {short_time(r.left_logged)})"
        if r.right_logged:
            rv += f" (logged {short_time(r.right_logged)})"
        cells.append(
            [marks[r.status], safe(r.section), elide_middle(safe(r.key), field_width), lv, rv, note]
        )
    fixed = [max(len(h), *(len(c[i]) for c in cells)) for i, h in ((1, "SECTION"), (2, "FIELD"))]
    change = max(len("CHANGE"), *(len(c[5]) for c in cells))
    # six columns, five gaps of two: what is left goes to the two values, half each
    room = _width() - (1 + sum(fixed) + change + 5 * 2)
    value = max(MIN_VALUE, room // 2)
    for c in cells:
        c[3], c[4] = elide_pair(c[3], c[4], value)
    headers = elide_pair(left, right, value)
    table(["", "SECTION", "FIELD", *headers, "CHANGE"], cells, limit=None)
    data_note = diff.data_note()
    if data_note:
        print(data_note)


def _width() -> int:
    """The terminal's columns (COLUMNS first, as shutil reads it), else DIFF_WIDTH."""
    return shutil.get_terminal_size((DIFF_WIDTH, 24)).columns


CHANGE_WIDTH = 48  # an event's change in the audit table: what changed, cut where it differs


def print_events(events: Sequence[AuditEvent]) -> None:
    # One rendering of a change for the TUI's audit table and this one (plain text,
    # no Textual: tui/audit_change.py names only the fields that changed).
    if not events:
        print("no events")
        return
    table(EVENT_HEADERS, [event_cells(e) for e in events])


EVENT_HEADERS = ["SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "CHANGE", "REASON"]


def event_cells(e: AuditEvent) -> list[str]:
    """One event's cells as `audit` shows them (`audit --follow` prints them unaligned)."""
    from regtui.tui.audit_change import change_cell

    return [
        str(e.seq),
        short_time(e.at),
        e.actor,
        e.action,
        e.target,
        change_cell(e, CHANGE_WIDTH),
        e.reason or "",
    ]


def chain_line(check: ChainCheck) -> str:
    if check.ok:
        return f"audit chain verifies: {counted(check.events, 'event')}, head {check.head}"
    where = f"at event {check.first_bad}" if check.first_bad is not None else "at the head"
    return f"audit chain BROKEN {where}: {safe(check.problem, 2000)}"


def print_state(state: StateCheck) -> None:
    """Each table value the log disagrees with, one line each, then a summary."""
    for m in state.mismatches:
        print(
            f"MISMATCH  {safe(m.row, 200)}  {safe(m.field)}: log says {safe(repr(m.log_says), 300)}"
            f", table says {safe(repr(m.table_says), 300)}"
        )
    if state.ok:
        line = "catalog state matches the log"
    else:
        line = f"catalog state DISAGREES with the log in {counted(len(state.mismatches), 'value')}"
    if state.unverifiable:
        line += (
            f" ({counted(len(state.unverifiable), 'row')} older than what the log records: "
            "not checked)"
        )
    print(line)


def print_checks(checks: Sequence[ArtifactCheck]) -> None:
    bad = [c for c in checks if c.state != "ok"]
    for c in bad:
        print(f"{c.state:10}  {safe(c.ref)}  {safe(c.path)}  {safe(c.detail, 200)}")
    good, total = len(checks) - len(bad), len(checks)
    if total == 1:
        print("the artifact matches its hash" if good else "the artifact does not match its hash")
    else:
        print(f"{good} of {total} artifacts match their hash")


def print_scan_item(item: ScanItem) -> None:
    if item.outcome == "registered" and item.version is not None:
        v = item.version
        print(f"registered  {ref(v)}  {safe(item.path)}  {human_size(v.size_bytes)}  {v.format}")
        for w in v.warnings:
            print(f"  warning: {safe(w, 300)}")
    elif item.outcome in ("refused", "error"):
        print(f"{item.outcome:10}  {safe(item.path)}  {safe(_without_path(item), 300)}")
    elif item.outcome == "exists" and item.version is not None:
        v = item.version
        # the same path again is a re-scan (not news); other bytes' twins are named
        if os.path.abspath(item.path) != os.path.abspath(v.path):
            print(f"{'same bytes':10}  {safe(item.path)}  as {ref(v)} ({safe(v.path)})")


def _without_path(item: ScanItem) -> str:
    """The reason a scan gives for a path, without the path it already printed."""
    from regtui.errors import reason_for

    return reason_for(str(item.path), item.detail or "")


def print_scan_summary(items: Sequence[ScanItem]) -> None:
    counts: dict[str, int] = {}
    for i in items:
        counts[i.outcome] = counts.get(i.outcome, 0) + 1
    parts = [
        f"{counts.get('registered', 0)} registered",
        f"{counts.get('exists', 0)} already registered",
        f"{counts.get('refused', 0)} refused",
        counted(counts.get("error", 0), "error"),
    ]
    print("scan: " + ", ".join(parts))


def print_import(outcome: Outcome) -> None:
    """One line per change (what would change, with --dry-run), then the counts."""
    from regtui.catalog.refs import quote_model

    marks = {"problem": "!", "same-bytes": "=", "kept-here": "=", "skipped": "-"}
    for s in outcome.steps:
        where = safe(quote_model(s.model), 200)
        print(f"{marks.get(s.action, '+')} {s.action:<11} {where}: {safe(s.detail, 500)}")
    counts: dict[str, int] = {}
    for s in outcome.steps:
        counts[s.action] = counts.get(s.action, 0) + 1
    verb = "would import" if outcome.dry_run else "imported"
    print(
        f"{verb} {counted(counts.get('version', 0), 'version')}, "
        f"{counted(counts.get('stage', 0), 'stage move')}, "
        f"{counted(counts.get('model', 0), 'model edit')} from {safe(outcome.source, 300)}; "
        f"{outcome.already} already imported, {counted(counts.get('problem', 0), 'problem')}"
    )
