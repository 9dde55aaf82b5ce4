"""Training logs a run keeps beside its checkpoints, and what a checkpoint's name says.

Lightning's CSVLogger `metrics.csv` (a row per logging call, with `epoch` and
`step` columns), a Keras History saved as `history.json` (metric -> list of
per-epoch values) and the Keras CSVLogger's `training.log` (a row per epoch).
A checkpoint whose epoch/step is known gets the values logged for that epoch;
otherwise (and for Keras, always) the run's summary: the last value of each
column and the best of each `val_*`.

Logs are untrusted and may be huge: only the last MAX_LOG_BYTES are read, lines
longer than MAX_LINE_BYTES and files with more than MAX_COLUMNS columns are
skipped with a warning, and NaN/inf cells are dropped.
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from regtui.catalog.diff import higher_is_better
from regtui.inspect.bounds import MAX_DICT, BadContent, clip, is_finite_number, load_json, open_file

LIGHTNING_CSV = "metrics.csv"
KERAS_HISTORY = "history.json"
KERAS_CSV = "training.log"
RUN_LOGS = (LIGHTNING_CSV, KERAS_HISTORY, KERAS_CSV)

MAX_LOG_BYTES = 1 << 20  # the tail of a log that is read
# Rows looked at: the last MAX_ROWS, fewer for wide logs so that at most MAX_CELLS
# cells are (a long Lightning run logs a row per 50 steps: 10,000 rows is 500,000 steps).
MAX_ROWS = 10_000
MAX_CELLS = 100_000
MAX_LINE_BYTES = 64 << 10
MAX_COLUMNS = 1_000
MAX_HISTORY_BYTES = 4 << 20
MAX_HISTORY_VALUES = 100_000  # per-epoch values looked at in all, over every metric
BEST_PREFIX = "best_"

# `epoch=2-step=30-val_loss=0.7062`: Lightning's default checkpoint names, and any
# name built from `{name}=value` parts the same way.
_NAME_VALUE = re.compile(
    r"(?:^|(?<=[-_ .]))([A-Za-z][\w./]{0,99}?)=([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?=$|[-_ ])"
)
_MAX_NAME_VALUES = 20


@dataclass(frozen=True)
class Position:
    """Where in training an artifact was written, as far as anything says."""

    epoch: int | None = None
    step: int | None = None

    @property
    def known(self) -> bool:
        return self.epoch is not None or self.step is not None


UNKNOWN = Position()


def name_values(name: str) -> dict[str, float]:
    """The `key=number` parts of a file name (without its extension)."""
    out: dict[str, float] = {}
    for m in _NAME_VALUE.finditer(name[:1000]):
        value = float(m.group(2))
        if math.isfinite(value) and len(out) < _MAX_NAME_VALUES:
            out[m.group(1)] = value
    return out


def position_from(values: dict[str, Any]) -> Position:
    """The epoch/step among `values` (whole numbers only)."""

    def whole(*keys: str) -> int | None:
        for key in keys:
            v = values.get(key)
            if is_finite_number(v) and float(v).is_integer() and v >= 0:
                return int(v)
        return None

    return Position(whole("epoch"), whole("step", "global_step"))


def lightning_counters(top: dict[str, Any]) -> dict[str, Any]:
    """{"lightning": {version, epoch, global_step}} from the top-level dict of a
    Lightning checkpoint's data.pkl (read by the pickle scanner, never loaded), so
    that a checkpoint whose name carries nothing (`last.ckpt`) still has its step."""
    version = top.get("pytorch-lightning_version")
    if not isinstance(version, str):
        return {}
    out: dict[str, Any] = {"version": version}
    for key in ("epoch", "global_step"):
        if isinstance(top.get(key), int) and not isinstance(top[key], bool):
            out[key] = top[key]
    return {"lightning": out}


# ---------------------------------------------------------------- CSV logs


def read_tail(path: Path, cap: int = MAX_LOG_BYTES) -> tuple[str, list[str], bool]:
    """The header line, the whole lines of the last `cap` bytes after it, and
    whether lines before those were left unread."""
    with open_file(path) as fh:
        header = fh.readline(MAX_LINE_BYTES + 1)
        if len(header) > MAX_LINE_BYTES:
            raise BadContent(f"{path.name}: header line over {MAX_LINE_BYTES >> 10} KiB: not read")
        start = fh.tell()
        end = fh.seek(0, os.SEEK_END)
        skipped = end - start > cap
        fh.seek(max(start, end - cap))
        body = fh.read(cap)
    lines = body.decode("utf-8", "replace").split("\n")
    if skipped:
        lines = lines[1:]  # the first one is cut
    if lines and not lines[-1]:
        lines.pop()  # the file's final newline
    return header.decode("utf-8", "replace").rstrip("\r\n"), lines, skipped


@dataclass
class Table:
    """A bounded CSV log: column names and its last rows of cells (strings)."""

    columns: list[str]
    rows: list[list[str]]
    warnings: list[str]

    def column(self, name: str) -> int | None:
        return self.columns.index(name) if name in self.columns else None

    def cells(self, i: int) -> Iterator[str]:
        """Column `i`, top to bottom ("" where a row is short)."""
        return (r[i] if i < len(r) else "" for r in self.rows)


def read_table(path: Path, delimiter: str = ",") -> Table:
    header_text, lines, skipped = read_tail(path)
    header = next(csv.reader([header_text], delimiter=delimiter), [])
    if len(header) > MAX_COLUMNS:
        raise BadContent(f"{path.name} has {len(header)} columns (limit {MAX_COLUMNS}): not read")
    warnings: list[str] = []
    rows_kept = min(MAX_ROWS, MAX_CELLS // max(len(header), 1))
    if len(lines) > rows_kept:
        lines = lines[-rows_kept:]
        skipped = True
    if max(map(len, lines), default=0) > MAX_LINE_BYTES:
        warnings.append(f"{path.name}: lines over {MAX_LINE_BYTES >> 10} KiB skipped")
        lines = [ln for ln in lines if len(ln) <= MAX_LINE_BYTES]
    if skipped:
        warnings.append(f"{path.name} is long: only its last part was read")
    try:
        rows = list(csv.reader(lines, delimiter=delimiter))  # cells past the header: never read
    except csv.Error as exc:
        raise BadContent(f"{path.name} is not valid CSV: {clip(str(exc), 200)}") from None
    return Table([clip(c.strip(), 200) for c in header], rows, warnings)


def number(cell: str) -> float | None:
    """A finite number from a CSV cell, or None (empty, text, NaN, inf)."""
    if not cell or len(cell) > 64:
        return None
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _last_values(table: Table) -> dict[str, float]:
    out: dict[str, float] = {}
    for i, name in enumerate(table.columns[:MAX_DICT]):
        if not name:
            continue
        for row in reversed(table.rows):
            v = number(row[i]) if i < len(row) else None
            if v is not None:
                out[name] = v
                break
    return out


def best_values(series: Iterable[tuple[str, Iterable[float | None]]]) -> dict[str, float]:
    """`best_val_x` for each `val_x` series: its minimum or maximum by the metric's name."""
    out: dict[str, float] = {}
    for name, values in series:
        if not name.startswith("val") or len(out) >= MAX_DICT:
            continue
        finite = [v for v in values if v is not None]
        if finite:
            best = max(finite) if higher_is_better(name) else min(finite)
            out[BEST_PREFIX + name] = best
    return out


def table_summary(table: Table) -> dict[str, float]:
    """The last value of each column and the best of each `val_*` column."""
    best = best_values(
        (name, (number(c) for c in table.cells(i) if c))
        for i, name in enumerate(table.columns[:MAX_DICT])
        if name.startswith("val")
    )
    return {**_last_values(table), **best}


def rows_at(table: Table, at: Position) -> dict[str, float] | None:
    """The values logged at `at`: every row of its epoch (and, when the step is
    known, not after it), later rows winning; None when no row matches."""
    e_col, s_col = table.column("epoch"), table.column("step")
    key, want = (e_col, at.epoch) if at.epoch is not None else (s_col, at.step)
    if key is None or want is None:
        return None
    hits: dict[str, bool] = {}  # a column's few distinct cells, each parsed once
    matched: list[list[str]] = []
    for row in table.rows:
        cell = row[key] if key < len(row) else ""
        hit = hits.get(cell)
        if hit is None:
            hit = hits[cell] = number(cell) == want
        if not hit:
            continue
        if at.epoch is not None and at.step is not None and s_col is not None:
            step = number(row[s_col]) if s_col < len(row) else None
            if step is not None and step > at.step:
                continue
        matched.append(row)
    if not matched:
        return None
    out: dict[str, float] = {}
    for row in matched:
        for i, name in enumerate(table.columns[: min(MAX_DICT, len(row))]):
            v = number(row[i]) if name else None
            if v is not None:
                out[name] = v
    return out


def lightning_metrics(path: Path, at: Position) -> tuple[dict[str, float], bool, list[str]]:
    """(values, whether they are the checkpoint's own row, warnings) from metrics.csv."""
    table = read_table(path)
    own = rows_at(table, at)
    if own is not None:
        return own, True, table.warnings
    return table_summary(table), False, table.warnings


def keras_csv_metrics(path: Path) -> tuple[dict[str, float], list[str]]:
    """The Keras CSVLogger's file (a row per epoch; its separator is `,` unless set)."""
    table = read_table(path)
    if "epoch" not in table.columns:
        raise BadContent(f"{path.name} has no epoch column: not a Keras CSVLogger file")
    return table_summary(table), table.warnings


def keras_history_metrics(path: Path) -> dict[str, float]:
    """A Keras History dict (metric -> per-epoch values): last value, best of `val_*`."""
    data = load_json(path, MAX_HISTORY_BYTES)
    if not isinstance(data, dict):
        raise BadContent(f"{path.name} is not a Keras history (a mapping of lists)")
    series: list[tuple[str, list[float | None]]] = []
    budget = MAX_HISTORY_VALUES
    for key, values in list(data.items())[:MAX_DICT]:
        if not isinstance(values, list) or budget <= 0:
            continue
        tail = values[-budget:]
        budget -= len(tail)
        series.append(
            (clip(str(key), 200), [float(v) if is_finite_number(v) else None for v in tail])
        )
    last = {
        name: next(v for v in reversed(vals) if v is not None)
        for name, vals in series
        if any(v is not None for v in vals)
    }
    return {**last, **best_values(series)}
