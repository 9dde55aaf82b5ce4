"""Gradient-boosted tree models: XGBoost JSON/UBJ, LightGBM text, CatBoost (recognised)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from regtui.inspect.bounds import (
    MAX_JSON_BYTES,
    BadContent,
    Damaged,
    bounded,
    clip,
    open_file,
    read_capped,
)
from regtui.inspect.facts import Facts
from regtui.inspect.limits import OverLimit, check_json, decode_json
from regtui.inspect.ubjson import Skipped, UbjReader

HEAD = 1 << 20


def _xgb_summary(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("learner"), dict):
        raise BadContent("XGBoost model without a 'learner' object")
    learner = doc["learner"]
    meta: dict[str, Any] = {}
    version = doc.get("version")
    if isinstance(version, list):
        meta["xgboost_version"] = ".".join(str(x) for x in version[:3])
    obj = learner.get("objective")
    if isinstance(obj, dict):
        meta["objective"] = obj.get("name")
    lmp = learner.get("learner_model_param")
    if isinstance(lmp, dict):
        for k in ("num_feature", "num_class", "num_target", "base_score"):
            if k in lmp:
                meta[k] = _num(lmp[k])
    names = learner.get("feature_names")
    if isinstance(names, list | Skipped):
        meta["feature_names"] = names if isinstance(names, list) else f"[{names.count} names]"
    booster = learner.get("gradient_booster")
    if isinstance(booster, dict):
        meta["booster"] = booster.get("name")
        model = booster.get("model")
        if booster.get("name") == "dart" and isinstance(booster.get("gbtree"), dict):
            model = booster["gbtree"].get("model")
        if isinstance(model, dict):
            gp = model.get("gbtree_model_param")
            if isinstance(gp, dict) and "num_trees" in gp:
                meta["num_trees"] = _num(gp["num_trees"])
            trees = model.get("trees")
            if "num_trees" not in meta and isinstance(trees, list | Skipped):
                meta["num_trees"] = trees.count if isinstance(trees, Skipped) else len(trees)
    return meta


def _num(v: Any) -> Any:
    if isinstance(v, str):
        try:
            f = float(v)
            return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f
        except ValueError:
            return clip(v, 100)
    return v


def inspect_xgboost_json(path: Path, facts: Facts) -> None:
    facts.format = "xgboost-json"
    facts.framework = "xgboost"
    size = path.stat().st_size
    limit: OverLimit | None = None
    if size <= MAX_JSON_BYTES:
        data = read_capped(path, MAX_JSON_BYTES, "XGBoost JSON")
        try:
            check_json(data, "XGBoost JSON")
            doc = decode_json(data)
        except OverLimit as exc:
            limit = exc
        except (ValueError, RecursionError) as exc:
            # A whole model is one JSON document: a broken one is cut short or corrupt.
            raise Damaged(f"XGBoost JSON is not valid: {clip(str(exc), 200)}") from None
        else:
            facts.metadata.update(bounded(_xgb_summary(doc)))
            return
        del data
    # Too big to parse whole: the fields we want sit near the start and the end,
    # found there by bounded regex searches over 1 MiB each.
    with open_file(path) as fh:
        head = fh.read(HEAD).decode("utf-8", "replace")
        fh.seek(max(0, size - HEAD))
        tail = fh.read(HEAD).decode("utf-8", "replace")
    meta: dict[str, Any] = {}
    for key, pattern, text in (
        ("num_trees", r'"num_trees"\s*:\s*"(\d+)"', head),
        ("objective", r'"objective"\s*:\s*\{\s*"name"\s*:\s*"([^"]{1,200})"', tail),
        ("num_feature", r'"num_feature"\s*:\s*"(\d+)"', tail),
        ("num_class", r'"num_class"\s*:\s*"(\d+)"', tail),
    ):
        m = re.search(pattern, text)
        if m:
            meta[key] = _num(m.group(1))
    facts.metadata.update(meta)
    why = str(limit) if limit else f"over the {MAX_JSON_BYTES >> 20} MiB JSON parse limit"
    facts.warnings.append(
        f"XGBoost JSON of {size} bytes: {why}; facts read from its head and tail only"
    )


def inspect_xgboost_ubj(path: Path, facts: Facts) -> None:
    facts.format = "xgboost-ubj"
    facts.framework = "xgboost"
    size = path.stat().st_size
    with open_file(path, 1 << 16) as fh:
        doc = UbjReader(fh, size, keep_items=10_000).value()
    facts.metadata.update(bounded(_xgb_summary(doc)))


def inspect_lightgbm(path: Path, facts: Facts) -> None:
    facts.format = "lightgbm"
    facts.framework = "lightgbm"
    size = path.stat().st_size
    meta: dict[str, Any] = {}
    with open_file(path) as fh:
        for _ in range(64):  # header: key=value lines up to the first blank line
            line = fh.readline(4 << 20).decode("utf-8", "replace").rstrip("\n")
            if not line and meta:
                break
            key, sep, value = line.partition("=")
            if not sep:
                continue
            # Count, and keep only the first names: a line may hold millions.
            if key == "feature_names":
                meta["num_features"] = value.count(" ") + 1
                meta["feature_names"] = value.split(" ", 100)[:100]
            elif key == "tree_sizes":
                sizes = value.strip()
                meta["num_trees"] = sizes.count(" ") + 1 if sizes else 0
            elif key in (
                "version",
                "num_class",
                "num_tree_per_iteration",
                "max_feature_idx",
                "objective",
            ):
                meta[key] = _num(value)
        fh.seek(max(0, size - (1 << 18)))
        tail = fh.read().decode("utf-8", "replace")
    # Plain searches from the end: a regex over a tail of repeated markers is quadratic.
    end = tail.rfind("\nend of parameters")
    start = tail.rfind("\nparameters:\n", 0, end) if end >= 0 else -1
    if start >= 0:
        params: dict[str, Any] = {}
        block = tail[start + len("\nparameters:\n") : end]
        for pm in re.finditer(r"^\[([\w.]+): ?(.*)\]$", block, re.M):
            params[pm.group(1)] = _num(pm.group(2))
        meta["parameters_used"] = params
    if "num_trees" not in meta:
        meta["num_trees"] = None
        facts.warnings.append("LightGBM header has no tree_sizes line: tree count unknown")
    facts.metadata.update(bounded(meta))


def inspect_catboost(path: Path, facts: Facts) -> None:
    facts.format = "catboost"
    facts.framework = "catboost"
    facts.metadata["note"] = (
        "CatBoost .cbm recognised by its CBM1 signature; contents are not parsed"
    )


# Signatures (formats.FORMATS): `looks_like_*` decides alone; `may_be_*` is trusted
# only where the file's name allows the format (detect.sniff).


def looks_like_catboost(head: bytes, size: int) -> bool:
    return head.startswith(b"CBM1")


def looks_like_xgboost_json(head: bytes, size: int) -> bool:
    return re.sub(rb"\s+", b"", head.lstrip()[:200]).startswith(b'{"learner"')


# XGBoost's UBJSON: an object whose first key (keys are sorted) is "learner".
_UBJ_LEARNER = re.compile(rb"\{(?:[iU]\x07|I\x00\x07|l\x00{3}\x07|L\x00{7}\x07)learner")


def looks_like_xgboost_ubj(head: bytes, size: int) -> bool:
    return _UBJ_LEARNER.match(head) is not None


def looks_like_lightgbm(head: bytes, size: int) -> bool:
    return head.startswith(b"tree\n") and b"\nversion=" in head


def may_be_xgboost_binary(head: bytes, size: int) -> bool:
    return head.startswith(b"binf")
