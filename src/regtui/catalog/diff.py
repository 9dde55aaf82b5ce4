"""Differences between two versions, as data both the CLI and the TUI render."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any

from regtui.catalog.clock import iso
from regtui.catalog.records import VersionInfo

# Names that mean "lower is better"; everything else is higher-is-better.
LOWER_IS_BETTER = re.compile(
    r"loss|error|err\b|_err|latency|time|mse|rmse|mae|mape|perplexity|ppl|wer|cer|brier|logloss",
    re.IGNORECASE,
)
MAX_FLAT_KEYS = 500


def higher_is_better(metric: str, overrides: dict[str, bool] | None = None) -> bool:
    """Direction of a metric: by user override, else by its name."""
    if overrides and metric in overrides:
        return overrides[metric]
    return LOWER_IS_BETTER.search(metric) is None


@dataclass(frozen=True)
class DiffRow:
    section: str  # version | metrics | params | datasets | tags | lineage | metadata
    key: str
    left: Any
    right: Any
    status: str  # same | added | removed | changed
    delta: float | None = None
    better: bool | None = None  # metrics only: is right better than left?
    # Metrics/params added after registration: when, on each side (ISO time).
    left_logged: str | None = None
    right_logged: str | None = None

    @property
    def differs(self) -> bool:
        return self.status != "same"

    def to_json(self) -> dict[str, Any]:
        out = {
            "section": self.section,
            "key": self.key,
            "left": self.left,
            "right": self.right,
            "status": self.status,
        }
        if self.section == "metrics":
            out["delta"] = self.delta
            out["better"] = self.better
        if self.left_logged or self.right_logged:
            out["logged"] = {"left": self.left_logged, "right": self.right_logged}
        return out


@dataclass(frozen=True)
class Diff:
    left: VersionInfo
    right: VersionInfo
    rows: tuple[DiffRow, ...]

    def changed(self) -> list[DiffRow]:
        return [r for r in self.rows if r.differs]

    def section(self, name: str) -> list[DiffRow]:
        return [r for r in self.rows if r.section == name]

    @property
    def same_data(self) -> bool | None:
        """Were both trained on the same datasets? None when neither names any."""
        rows = self.section("datasets")
        return None if not rows else not any(r.differs for r in rows)

    def data_note(self) -> str | None:
        """One line saying the two were trained on different data, else None."""
        if self.same_data is not False:
            return None
        rows = [r for r in self.section("datasets") if r.differs]
        if not self.left.datasets or not self.right.datasets:
            side = "left" if not self.left.datasets else "right"
            return f"different data: only one side records its datasets (none on the {side})"
        n = len(rows)
        return f"different data: {n} {'dataset differs' if n == 1 else 'datasets differ'}"

    def to_json(self) -> dict[str, Any]:
        return {
            "left": self.left.ref,
            "right": self.right.ref,
            "identical_content": self.left.sha256 == self.right.sha256,
            "same_data": self.same_data,
            "rows": [r.to_json() for r in self.rows],
        }


def flatten(value: Any, prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Nested dicts as dotted keys, bounded so a huge metadata blob stays a table."""
    out = {} if out is None else out
    if isinstance(value, dict) and not value and not prefix:
        return out  # nothing to show, not a row with an empty name
    if isinstance(value, dict) and value:
        for k, v in value.items():
            if len(out) >= MAX_FLAT_KEYS:
                break
            flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    else:
        out[prefix] = value
    return out


def _status(present_l: bool, present_r: bool, left: Any, right: Any) -> str:
    if not present_l:
        return "added"
    if not present_r:
        return "removed"
    return "same" if left == right else "changed"


def _rows(section: str, left: dict[str, Any], right: dict[str, Any]) -> list[DiffRow]:
    rows = []
    for key in sorted(set(left) | set(right)):
        lv, rv = left.get(key), right.get(key)
        rows.append(DiffRow(section, key, lv, rv, _status(key in left, key in right, lv, rv)))
    return rows


def _metric_rows(
    left: dict[str, float], right: dict[str, float], overrides: dict[str, bool] | None
) -> list[DiffRow]:
    rows = []
    for row in _rows("metrics", left, right):
        delta = better = None
        if row.status == "changed" and _is_num(row.left) and _is_num(row.right):
            delta = row.right - row.left
            up = higher_is_better(row.key, overrides)
            better = (delta > 0) == up if delta != 0 else None
        elif row.status == "same" and _is_num(row.left):
            delta = 0.0
        rows.append(DiffRow(row.section, row.key, row.left, row.right, row.status, delta, better))
    return rows


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _facts(v: VersionInfo) -> dict[str, Any]:
    return {
        "sha256": v.sha256,
        "size_bytes": v.size_bytes,
        "format": v.format,
        "framework": v.framework,
        "path": v.path,
        "created_at": iso(v.created_at),
        "created_by": v.created_by,
        "approval": v.approval.status,
        "stages": ", ".join(v.stages),
        "warnings": len(v.warnings),
        "artifact_state": v.artifact_state,
    }


def _dataset_values(v: VersionInfo) -> dict[str, Any]:
    """Each dataset (by path, URI or name) and what pins its content."""
    from regtui.catalog.datasets import key

    out: dict[str, Any] = {}
    for ds in v.datasets:
        pin = ds.get("sha256") or ds.get("version") or ds.get("digest") or ds.get("kind", "")
        out[key(ds)] = str(pin)
    return out


def _late(rows: list[DiffRow], left: VersionInfo, right: VersionInfo) -> list[DiffRow]:
    """Rows of values that were logged after registration carry when."""
    out = []
    for r in rows:
        at_l = left.logged.get(f"{r.section}.{r.key}")
        at_r = right.logged.get(f"{r.section}.{r.key}")
        out.append(replace(r, left_logged=at_l, right_logged=at_r) if at_l or at_r else r)
    return out


def diff_versions(
    left: VersionInfo, right: VersionInfo, directions: dict[str, bool] | None = None
) -> Diff:
    facts = _facts(left), _facts(right)
    if left.description or right.description:  # a row only where one was written
        for side, v in zip(facts, (left, right), strict=True):
            side["description"] = v.description
    rows = _rows("version", *facts)
    rows += _late(_metric_rows(left.metrics, right.metrics, directions), left, right)
    rows += _late(_rows("params", flatten(left.params), flatten(right.params)), left, right)
    rows += _rows("datasets", _dataset_values(left), _dataset_values(right))
    rows += _rows("tags", left.tags, right.tags)
    rows += _rows("lineage", flatten(left.lineage), flatten(right.lineage))
    rows += _rows("metadata", flatten(left.metadata), flatten(right.metadata))
    return Diff(left, right, tuple(rows))
