"""Metrics and params from the files training runs leave next to a model.

metrics.json|yaml, params.json|yaml, hparams.yaml, trainer_state.json (Hugging Face
Trainer), eval_results.json, all_results.json. Nested mappings are flattened with
dots; metrics keep only finite numbers.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
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

PARAM_FILES = ("hparams.yaml", "hparams.yml", "params.yaml", "params.yml", "params.json")
METRIC_FILES = (
    "all_results.json",
    "eval_results.json",
    "metrics.yaml",
    "metrics.yml",
    "metrics.json",
)
SIDECAR_CAP = 4 << 20


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


def _load(path: Path) -> Any:
    if path.suffix == ".json":
        return load_json(path, SIDECAR_CAP)
    return load_yaml(path)


def _numbers(flat: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in flat.items() if is_finite_number(v)}


def _trainer_state(state: Any) -> dict[str, float]:
    if not isinstance(state, dict):
        return {}
    out: dict[str, float] = {}
    for key in ("best_metric", "global_step", "epoch"):
        if is_finite_number(state.get(key)):
            out[key] = float(state[key])
    history = state.get("log_history")
    if isinstance(history, list):
        for entry in reversed(history[-10_000:]):
            if isinstance(entry, dict) and any(str(k).startswith("eval_") for k in entry):
                out.update(
                    {
                        str(k): float(v)
                        for k, v in entry.items()
                        if str(k).startswith("eval_") and is_finite_number(v)
                    }
                )
                break
    return out


def _present(folder: str, names: tuple[str, ...]) -> list[str]:
    """Which of `names` are regular files in `folder` (symlinks are not followed).

    One lstat each, looked up afresh on every call: a sidecar written after the
    first artifact of a folder was registered still counts for the next one (no
    listing cache, which would hang on the folder's coarse mtime). An absent
    name, the common case, costs one failed lstat."""
    out = []
    prefix = os.path.join(folder, "")
    for name in names:
        try:
            st = os.lstat(prefix + name)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            out.append(name)
    return out


def read_sidecars(
    folder: Path, metrics: dict[str, float], params: dict[str, Any], warnings: list[str]
) -> list[str]:
    """Merge the sidecars in `folder` into metrics/params; returns the names read."""
    found: list[str] = []
    for name, data in _loaded(folder, PARAM_FILES, warnings):
        if not isinstance(data, dict):
            warnings.append(_NOT_A_MAPPING.format(name))
            continue
        params.update({k: bounded(v) for k, v in flatten(data).items()})
        found.append(name)
    for name, data in _loaded(folder, (*METRIC_FILES, "trainer_state.json"), warnings):
        if name == "trainer_state.json":
            metrics.update(_trainer_state(data))
        elif isinstance(data, dict):
            metrics.update(_numbers(flatten(data)))
        else:
            warnings.append(_NOT_A_MAPPING.format(name))
            continue
        found.append(name)
    return found


_NOT_A_MAPPING = "sidecar {} is not a mapping: ignored"


def _loaded(folder: Path, names: tuple[str, ...], warnings: list[str]) -> Iterator[tuple[str, Any]]:
    """(name, content) for each of `names` present in `folder`; a file that cannot
    be read becomes a warning instead."""
    for name in _present(os.fspath(folder), names):
        try:
            data = _load(folder / name)
        except (BadContent, OSError) as exc:
            warnings.append(f"sidecar {name}: {exc}")
            continue
        yield name, data
