"""Metrics and params from the files training runs leave next to a model.

metrics.json|yaml, params.json|yaml, hparams.yaml, trainer_state.json (Hugging Face
Trainer), eval_results.json, all_results.json, the run logs of runlogs.py
(Lightning metrics.csv, Keras history.json and training.log), the values a file
name carries (`epoch=2-step=30-val_loss=0.71.ckpt`) and, for an MLflow model, its
run's metrics and params in a local mlruns store. Nested mappings are flattened
with dots; metrics keep only finite numbers.

Which value wins when several files name the same metric goes by how closely it
belongs to this artifact: a run's summary (last values, best of `val_*`) < what
the inspector read inside the artifact < the folder's result files < the values
the file name carries < the values logged at the artifact's own epoch/step.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regtui.inspect.bounds import (
    MAX_DICT,
    BadContent,
    bounded,
    is_finite_number,
    load_json,
    load_yaml,
)
from regtui.inspect.bundles import is_bundle_dir
from regtui.inspect.facts import Facts
from regtui.inspect.folder_names import kept, present
from regtui.inspect.mlruns import run_values
from regtui.inspect.runlogs import (
    KERAS_CSV,
    KERAS_HISTORY,
    LIGHTNING_CSV,
    UNKNOWN,
    Position,
    keras_csv_metrics,
    keras_history_metrics,
    lightning_metrics,
    name_values,
    position_from,
)

PARAM_FILES = ("hparams.yaml", "hparams.yml", "params.yaml", "params.yml", "params.json")
METRIC_FILES = (
    "all_results.json",
    "eval_results.json",
    "metrics.yaml",
    "metrics.yml",
    "metrics.json",
)
TRAINER_STATE = "trainer_state.json"
RUN_LOGS = (LIGHTNING_CSV, KERAS_HISTORY, KERAS_CSV)
# Every name read here: the watcher re-reads a folder's sidecars when one changes.
SIDECAR_FILES = (*PARAM_FILES, *METRIC_FILES, TRAINER_STATE, *RUN_LOGS)
# What marks a run folder above a checkpoint folder (Lightning keeps hparams.yaml
# and metrics.csv in version_N/, its checkpoints in version_N/checkpoints/).
_RUN_MARKERS = ("hparams.yaml", "hparams.yml", *RUN_LOGS)
MAX_RUN_LEVELS = 2  # folders above an artifact's own searched for its run folder
SIDECAR_CAP = 4 << 20
_POSITION_KEYS = ("epoch", "step")


def flatten(
    value: Any, prefix: str = "", out: dict[str, Any] | None = None, depth: int = 0
) -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}, bounded in keys and depth."""
    out = {} if out is None else out
    if isinstance(value, dict) and depth < 6:
        for k, v in value.items():
            if len(out) >= MAX_DICT:
                break
            flatten(v, f"{prefix}{k}." if depth < 5 else prefix, out, depth + 1)
        return out
    if prefix:
        out[prefix.rstrip(".")] = value
    return out


@dataclass
class Found:
    """Values read from sidecars, kept apart by how closely they belong to the
    artifact so that merging them (`merged`) lets the closest win."""

    summary: dict[str, float] = field(default_factory=dict)  # a run's last/best values
    folder: dict[str, float] = field(default_factory=dict)  # result files of the folder
    named: dict[str, float] = field(default_factory=dict)  # the file name's values
    own: dict[str, float] = field(default_factory=dict)  # logged at the artifact's step
    params: dict[str, Any] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)  # sidecar files read

    def copy(self) -> Found:
        return Found(
            dict(self.summary),
            dict(self.folder),
            dict(self.named),
            dict(self.own),
            dict(self.params),
            list(self.names),
        )

    def merged(self, inside: dict[str, float] | None = None) -> dict[str, float]:
        """All metrics, closest last; `inside` is what the artifact itself said."""
        return {**self.summary, **(inside or {}), **self.folder, **self.named, **self.own}


def _load(path: Path) -> Any:
    if path.suffix == ".json":
        return load_json(path, SIDECAR_CAP, sidecar=True)
    return load_yaml(path)


def _numbers(flat: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in flat.items() if is_finite_number(v)}


def _trainer_state(state: Any, found: Found) -> None:
    """A Trainer's state: the log_history entries at its global step are this
    checkpoint's own values; without an evaluation at that step, the latest
    earlier one stands in (as a folder-level value)."""
    if not isinstance(state, dict):
        raise BadContent(_NOT_A_MAPPING.format(TRAINER_STATE))
    for key in ("best_metric", "global_step", "epoch"):
        if is_finite_number(state.get(key)):
            found.own[key] = float(state[key])
    history = state.get("log_history")
    if not isinstance(history, list):
        return
    entries = [e for e in history[-10_000:] if isinstance(e, dict)]
    step = state.get("global_step")
    at_step = [e for e in entries if is_finite_number(step) and e.get("step") == step]
    for entry in at_step:
        found.own.update(_numbers({str(k): v for k, v in entry.items() if k != "step"}))
    if any(str(k).startswith("eval_") for e in at_step for k in e):
        return
    for entry in reversed(entries):
        evals = {str(k): v for k, v in entry.items() if str(k).startswith("eval_")}
        if evals:
            found.folder.update(_numbers(evals))
            break


def collect(folder: Path, found: Found, warnings: list[str], at: Position = UNKNOWN) -> None:
    """Read the sidecars in `folder` into `found`; `at` is the artifact's epoch/step."""
    for name, data in _loaded(folder, PARAM_FILES, warnings):
        if not isinstance(data, dict):
            warnings.append(_NOT_A_MAPPING.format(name))
            continue
        found.params.update({k: bounded(v) for k, v in flatten(data).items()})
        found.names.append(name)
    for name in present(os.fspath(folder), RUN_LOGS, warnings):
        try:
            _run_log(folder / name, found, warnings, at)
        except (BadContent, OSError) as exc:
            warnings.append(f"sidecar {name}: {exc}")
            continue
        found.names.append(name)
    for name, data in _loaded(folder, (*METRIC_FILES, TRAINER_STATE), warnings):
        try:
            if name == TRAINER_STATE:
                _trainer_state(data, found)
            elif isinstance(data, dict):
                found.folder.update(_numbers(flatten(data)))
            else:
                raise BadContent(_NOT_A_MAPPING.format(name))
        except BadContent as exc:
            warnings.append(str(exc))
            continue
        found.names.append(name)


def _run_log(path: Path, found: Found, warnings: list[str], at: Position) -> None:
    if path.name == LIGHTNING_CSV:
        values, own, notes = lightning_metrics(path, at)
        warnings.extend(notes)
        if own:
            found.own.update({k: v for k, v in values.items() if k not in _POSITION_KEYS})
        else:
            found.summary.update(values)
    elif path.name == KERAS_HISTORY:
        found.summary.update(keras_history_metrics(path))
    else:
        values, notes = keras_csv_metrics(path)
        warnings.extend(notes)
        found.summary.update(values)


def read_sidecars(
    folder: Path,
    metrics: dict[str, float],
    params: dict[str, Any],
    warnings: list[str],
    *,
    at: Position = UNKNOWN,
) -> list[str]:
    """Merge the sidecars in `folder` into metrics/params; returns the names read.
    `at` (epoch/step) picks a run log's rows for one checkpoint."""
    found = Found()
    collect(folder, found, warnings, at)
    metrics.update(found.merged())
    params.update(found.params)
    return found.names


_NOT_A_MAPPING = "sidecar {} is not a mapping: ignored"


def _loaded(folder: Path, names: tuple[str, ...], warnings: list[str]) -> Iterator[tuple[str, Any]]:
    """(name, content) for each of `names` present in `folder`; a file that cannot
    be read becomes a warning instead."""
    for name in present(os.fspath(folder), names, warnings):
        try:
            data = _load(folder / name)
        except (BadContent, OSError) as exc:
            warnings.append(f"sidecar {name}: {exc}")
            continue
        yield name, data


# ------------------------------------------------------------ one artifact


def run_folder(start: Path, root: Path | None) -> Path | None:
    """The run folder above `start` (an artifact's folder) that keeps the run's
    hparams and logs, when `start` keeps none itself: at most MAX_RUN_LEVELS up,
    never above `root`. String paths: this runs for every artifact of a scan."""
    here = os.fspath(start.absolute())
    if present(here, _RUN_MARKERS):
        return None
    stop = os.fspath(root.absolute()) if root is not None else None
    for _ in range(MAX_RUN_LEVELS):
        parent = os.path.dirname(here)
        if here == stop or parent == here:
            return None
        here = parent
        if stop is not None and here != stop and not here.startswith(stop.rstrip(os.sep) + os.sep):
            return None
        if present(here, _RUN_MARKERS):
            return Path(here)
    return None


def position_of(metadata: dict[str, Any], named: dict[str, float]) -> Position:
    """The epoch/step an artifact was written at: a Lightning checkpoint's own
    counters (read by its inspector), else what its name says (`named`, the
    values of name_values), else a Trainer checkpoint folder's step."""
    lightning = metadata.get("lightning")
    if isinstance(lightning, dict):
        own = position_from({"epoch": lightning.get("epoch"), "step": lightning.get("global_step")})
        if own.known:
            return own
    from_name = position_from(named)
    if from_name.known:
        return from_name
    return position_from({"step": metadata.get("checkpoint_step")})


def artifact_sidecars(
    path: Path,
    is_folder: bool,
    dirs: list[Path],
    *,
    root: Path | None = None,
    metadata: dict[str, Any] | None = None,
) -> tuple[Found, list[str]]:
    """Everything the files around one artifact say about it: the sidecars of
    `dirs` (its own folder last), of its run folder further up, the values its
    name carries and, for an MLflow model, its run's. Returns (found, warnings).

    `metadata` is what the inspector read inside the artifact (a Lightning
    checkpoint's epoch/step, an MLflow model's run_id); the watcher passes a
    version's stored metadata to re-read its sidecars when one changes."""
    metadata = metadata or {}
    named = name_values(path.name if is_folder else path.stem)
    # Most artifacts carry no position at all: say so without asking three ways.
    if named or "lightning" in metadata or "checkpoint_step" in metadata:
        at = position_of(metadata, named)
    else:
        at = UNKNOWN
    start = dirs[-1] if dirs else path.parent
    above = kept(("run folder", start, root), lambda: run_folder(start, root))
    folders = tuple(([above] if above is not None and above not in dirs else []) + dirs)
    # A scan reads a folder's sidecars once for all the artifacts it holds; only
    # run logs give each position its own values.
    logs = any(present(os.fspath(f), RUN_LOGS) for f in folders)
    key = ("sidecars", folders, at if logs else None)
    base, said = kept(key, lambda: _folders_found(folders, at))
    found, warnings = base.copy(), list(said)
    if not is_folder:
        found.named.update(named)
        if at.known:
            position = {"epoch": at.epoch, "step": at.step}
            found.named.update({k: float(v) for k, v in position.items() if v is not None})
    run_id = metadata.get("run_id")
    if isinstance(run_id, str) and is_folder:
        run = run_values(path, run_id, root, warnings)
        if run is not None:
            found.folder = {**run[0], **found.folder}
            found.params = {**run[1], **found.params}
            found.names.append("mlruns")
    return found, warnings


def _folders_found(folders: tuple[Path, ...], at: Position) -> tuple[Found, tuple[str, ...]]:
    found = Found()
    warnings: list[str] = []
    for folder in folders:
        collect(folder, found, warnings, at)
    return found, tuple(warnings)


def sidecar_dirs(path: Path, root: Path | None, folder: bool) -> list[Path]:
    """The folders whose sidecars describe `path`, its own last. A file's folder; a
    bundle's own sidecars, and its parent's when the parent is a run folder (not
    the root, not a bundle whose checkpoint this is)."""
    if not folder:
        return [path.parent]
    parent = path.parent
    dirs = []
    if (root is None or parent.resolve() != root.resolve()) and not is_bundle_dir(parent):
        dirs.append(parent)
    dirs.append(path)
    return dirs


def sidecars_for(
    path: Path,
    root: Path | None = None,
    metadata: dict[str, Any] | None = None,
    folder: bool | None = None,
) -> tuple[Found, list[str]]:
    """What `inspect_path` takes from sidecars for `path`: to read them again when
    one changes after the artifact was registered (pass the version's metadata).
    `folder`: whether `path` is a bundle folder, when the caller knows."""
    is_folder = path.is_dir() if folder is None else folder
    dirs = sidecar_dirs(path, root, is_folder)
    return artifact_sidecars(path, is_folder, dirs, root=root, metadata=metadata)


def add_sidecars(facts: Facts, path: Path, root: Path | None, folder: bool) -> None:
    """Merge the sidecars of `path` into the inspector's facts (sidecars win over
    what the artifact itself said, a run's summary does not)."""
    found, warnings = sidecars_for(path, root, facts.metadata, folder)
    facts.metrics = found.merged(facts.metrics)
    facts.params.update(found.params)
    facts.warnings.extend(warnings)
