"""What an audit event changed, as parts a table cell or a detail view shows: no Textual.

An event's `before`/`after` are JSON values: dicts of fields (an approval, a
stage's version, a description and tags) or whole values. A table cell shows
the fields that changed, each value cut with `elide_pair` so where before and
after differ stays visible; the detail view shows every value whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from regtui.catalog.hooks import READABLE
from regtui.catalog.records import AuditEvent
from regtui.text import elide_middle, elide_pair
from regtui.tui.plain import clean, value_str

ABSENT = "—"  # a field the change added (no before) or removed (no after)
NEWLINE = "↵"  # a line break inside a one-line cell
IMPORTED = "imported from "  # how catalog/audit.py names where an imported change came from
MIN_VALUE = 3  # what a value is given when nothing fits ("a…z")
MIN_USEFUL = 6  # a value cut narrower than this says little: better left out
MAX_CELL_PARTS = 12  # fields a table cell considers (the detail view shows all)


@dataclass(frozen=True)
class Part:
    key: str | None  # None: the event's whole value, not a field of it
    before: Any
    after: Any
    had_before: bool
    has_after: bool

    @property
    def changed(self) -> bool:
        return not (self.had_before and self.has_after and self.before == self.after)


def parts(e: AuditEvent) -> list[Part]:
    """The event's change field by field (a dict on either side), else as one part."""
    before = e.before if isinstance(e.before, dict) else None
    after = e.after if isinstance(e.after, dict) else None
    if (before is not None or e.before is None) and (after is not None or e.after is None):
        if before is None and after is None:
            return []
        b, a = before or {}, after or {}
        return [Part(str(k), b.get(k), a.get(k), k in b, k in a) for k in dict.fromkeys([*b, *a])]
    return [Part(None, e.before, e.after, e.before is not None, e.after is not None)]


def one_line(value: Any) -> str:
    """A value on one line for a cell: line breaks shown as ↵, controls visible."""
    if value is None:
        return "none"
    if value == "":
        return '""'
    return clean(value_str(value).replace("\n", NEWLINE), 100_000)


def change_cell(e: AuditEvent, width: int) -> str:
    """The fields that changed, in about `width` cells, each value cut where it agrees
    with the other side. Of the ways to fit (field names or not, the last fields left
    out as "+N more": an event records its most telling field first), the one that
    fits, then starves no value, then keeps most fields, then cuts fewest values."""
    hook = hook_config(e)
    if hook is not None:
        return hook_cell(e, hook, width)
    shown = ([p for p in parts(e) if p.changed] or parts(e))[:MAX_CELL_PARTS]
    if not shown:
        return ""
    texts = [(one_line(p.before), one_line(p.after)) for p in shown]
    names = [f"{clean(p.key, 60)}: " if p.key is not None else "" for p in shown]
    blank = [""] * len(shown)
    best: Fit | None = None
    for keep in range(len(shown), 0, -1):
        for labels in (names, blank):
            fit = _fit(shown[:keep], texts[:keep], labels[:keep], width, len(shown) - keep)
            best = fit if best is None or fit.rank < best.rank else best
        if best is not None and best.rank[:2] == (0, False):
            break  # it fits and starves nothing: leaving out more cannot do better
    assert best is not None
    return best.line()


def hook_config(e: AuditEvent) -> dict[str, Any] | None:
    """The hook configuration a `hook_added` (after) or `hook_removed` (before) records."""
    value = {"hook_added": e.after, "hook_removed": e.before}.get(e.action)
    return value if isinstance(value, dict) else None


def hook_cell(e: AuditEvent, config: dict[str, Any], width: int) -> str:
    """A hook as `hook list` puts it, `deploy: run on promoted,rolled_back model=churn:
    /srv/deploy.sh`: its name, kind and events whole while they fit, the command or URL
    cut in the middle; a removed one ends `→ —`."""
    events = config.get("events")
    names = (
        ",".join(READABLE.get(str(a), str(a)) for a in events)
        if isinstance(events, list)
        else value_str(events)
    )
    only = "".join(f" {k}={value_str(config[k])}" for k in ("model", "stage") if config.get(k))
    head = one_line(f"{value_str(config.get('name'))}: {value_str(config.get('kind'))} on ")
    head += one_line(names + only)
    what = one_line(config.get("target")) + (" (signed)" if config.get("secret") is True else "")
    gone = f" → {ABSENT}" if e.action == "hook_removed" else ""
    room = max(width - len(gone), 1)
    if len(head) + 2 + min(len(what), MIN_USEFUL) <= room:
        return f"{head}: {elide_middle(what, room - len(head) - 2)}{gone}"
    return (head if len(head) <= room else head[: room - 1] + "…") + gone


@dataclass(frozen=True)
class Fit:
    """One way to fit a cell, ranked before any text is cut (a cell is drawn per
    event, 2000 at a time): (overflow, starved, fields left out, values cut, unnamed)."""

    rank: tuple[int, bool, int, int, bool]
    shown: list[Part]
    texts: list[tuple[str, str]]
    labels: list[str]
    widths: list[int]
    more: str

    def line(self) -> str:
        out = []
        for p, label, (b, a), w in zip(
            self.shown, self.labels, self.texts, self.widths, strict=True
        ):
            if p.had_before and p.has_after:
                b, a = elide_pair(b, a, w)
                out.append(f"{label}{b} → {a}")
            elif p.has_after:
                out.append(label + elide_middle(a, w))
            else:
                out.append(f"{label}{elide_middle(b, w)} → {ABSENT}")
        return ", ".join(out) + self.more


def _fit(
    shown: list[Part], texts: list[tuple[str, str]], labels: list[str], width: int, dropped: int
) -> Fit:
    more = f", +{dropped} more" if dropped else ""
    sides = [2 if p.had_before and p.has_after else 1 for p in shown]
    arrows = sum(3 if p.had_before and p.has_after else 4 if p.had_before else 0 for p in shown)
    fixed = sum(map(len, labels)) + 2 * (len(shown) - 1) + arrows + len(more)
    needs = [
        max(len(b), len(a)) if n == 2 else len(a if p.has_after else b)
        for p, (b, a), n in zip(shown, texts, sides, strict=True)
    ]
    widths = share(list(zip(needs, sides, strict=True)), width - fixed)
    # a cut value is never longer than its width: this bounds the line's length
    length = fixed + sum(min(n, w) * s for n, w, s in zip(needs, widths, sides, strict=True))
    starved = any(w < min(n, MIN_USEFUL) for w, n in zip(widths, needs, strict=True))
    cuts = sum(w < n for w, n in zip(widths, needs, strict=True))
    rank = (max(0, length - width), starved, dropped, cuts, not any(labels))
    return Fit(rank, shown, texts, labels, widths, more)


def share(needs: list[tuple[int, int]], room: int) -> list[int]:
    """Widths for values needing `need` cells on `sides` sides, in `room` cells: the
    short get what they need, the long share the rest evenly (never below MIN_VALUE)."""
    out = [0] * len(needs)
    left = max(room, 0)
    sides = sum(s for _, s in needs)
    for i in sorted(range(len(needs)), key=lambda i: needs[i][0]):
        need, s = needs[i]
        fair = left // sides if sides else 0
        out[i] = max(MIN_VALUE, min(need, fair))
        left -= min(need, fair) * s
        sides -= s
    return out


def full_value(value: Any) -> str:
    """A value whole, for the detail view: text keeps its lines, JSON is indented."""
    if value is None:
        return "none"
    if isinstance(value, str):
        return clean(value, 1_000_000, one_line=False) if value else '""'
    if isinstance(value, dict | list):
        try:
            shown = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            shown = str(value)
        return clean(shown, 1_000_000, one_line=False)
    return clean(value_str(value), 1_000_000, one_line=False)


def origin(e: AuditEvent) -> str | None:
    """Where an imported change came from ("imported from MLflow …"), else None."""
    reason = e.reason or ""
    at = reason.find(IMPORTED)
    if at < 0:
        return None
    found = reason[at:]
    if at > 0 and reason[at - 1] == "(" and found.endswith(")"):
        found = found[:-1]
    return clean(found, 2000)
