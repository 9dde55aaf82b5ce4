"""An MLflow model's run, where it sits beside the model in a local mlruns store.

`mlflow.<flavor>.log_model` into a file store writes the model folder under
`mlruns/<experiment>/<run_id>/artifacts/<name>/` (MLflow 2) or
`mlruns/<experiment>/models/<model_id>/artifacts/` (MLflow 3); the run keeps
`metrics/<name>` (one `timestamp value step` line per logged value; names with
`/` are subfolders) and `params/<name>` (the value as text) in
`mlruns/<experiment>/<run_id>/`. The model's MLmodel names its run_id.

Read bounded: the run folder is looked for a few levels up and never above the
watched root, at most MAX_DICT files each, the tail of each metric file.
"""

from __future__ import annotations

import math
import os
import re
import stat
from pathlib import Path
from typing import Any

from regtui.inspect.bounds import MAX_DICT, MAX_STR, clip, open_file

MAX_LEVELS = 4  # from the model folder up to the experiment folder (MLflow 3 layout)
MAX_DEPTH = 4  # folders inside metrics/ and params/ (names with `/`)
METRIC_TAIL = 16 << 10  # bytes read from the end of each metric file
_RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def find_run(model_dir: Path, run_id: str, root: Path | None) -> Path | None:
    """The run folder of `run_id` above `model_dir`, within `root`."""
    if not _RUN_ID.fullmatch(run_id):
        return None
    stop = root.absolute() if root is not None else None
    here = model_dir.absolute()
    for _ in range(MAX_LEVELS):
        if here.parent == here or here == stop:
            return None
        here = here.parent
        if stop is not None and not here.is_relative_to(stop):
            return None
        for run in (here, here / run_id):
            if run.name == run_id and _is_file(run / "meta.yaml") and _is_dir(run):
                return run
    return None


def run_values(
    model_dir: Path, run_id: str, root: Path | None, warnings: list[str]
) -> tuple[dict[str, float], dict[str, Any]] | None:
    """(metrics, params) of the model's run, or None when its run is not beside it."""
    run = find_run(model_dir, run_id, root)
    if run is None:
        return None
    metrics: dict[str, float] = {}
    params: dict[str, Any] = {}
    try:
        for name, path in _entries(run / "metrics"):
            value = latest_metric(path)
            if value is not None:
                metrics[name] = value
        for name, path in _entries(run / "params"):
            with open_file(path) as fh:
                params[name] = clip(fh.read(MAX_STR + 1).decode("utf-8", "replace"), MAX_STR)
    except OSError as exc:
        warnings.append(f"MLflow run {run_id}: cannot read: {exc.strerror or exc}")
    if len(metrics) >= MAX_DICT or len(params) >= MAX_DICT:
        warnings.append(f"MLflow run {run_id}: only the first {MAX_DICT} metrics/params read")
    return metrics, params


def latest_metric(path: Path) -> float | None:
    """The latest value of a metric file as MLflow defines it: highest step, then
    latest timestamp (a file is not in order: log_model re-logs earlier values)."""
    with open_file(path) as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - METRIC_TAIL))
        tail = fh.read(METRIC_TAIL)
    lines = tail.split(b"\n")
    if size > METRIC_TAIL:
        lines = lines[1:]  # cut
    best: tuple[int, int, float] | None = None
    for line in lines:
        parts = line.split()
        if len(parts) < 2 or len(line) > 200:
            continue
        try:
            ts, value = int(parts[0]), float(parts[1])
            step = int(parts[2]) if len(parts) > 2 else 0
        except ValueError:
            continue
        if math.isfinite(value) and (best is None or (step, ts) >= best[:2]):
            best = (step, ts, value)
    return None if best is None else best[2]


def _entries(folder: Path) -> list[tuple[str, Path]]:
    """(name, file) under `folder`, names joined with `/`; no symlinks, bounded."""
    out: list[tuple[str, Path]] = []
    stack: list[tuple[Path, str, int]] = [(folder, "", 0)]
    while stack and len(out) < MAX_DICT:
        here, prefix, depth = stack.pop()
        try:
            items = sorted(os.scandir(here), key=lambda e: e.name)[: MAX_DICT * 2]
        except OSError:
            continue
        for entry in items:
            name = prefix + entry.name
            if entry.is_symlink():
                continue
            if entry.is_dir() and depth < MAX_DEPTH:
                stack.append((Path(entry.path), name + "/", depth + 1))
            elif entry.is_file() and len(out) < MAX_DICT:
                out.append((clip(name, 200), Path(entry.path)))
    return out


def _is_file(p: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(p).st_mode)
    except OSError:
        return False


def _is_dir(p: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(p).st_mode)
    except OSError:
        return False
