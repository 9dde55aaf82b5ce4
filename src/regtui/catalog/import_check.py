"""Checks an export before import loads it: the catalog it describes must be one
the service could have built. Every field of every row is held to the rule the
service applies when it writes that field (register, log, review, promote, the
policy), the rows must fit together (gapless numbers, stages pointing at
versions of their own model, each version's approval the last decision on it,
each stage where its last move put it), and every stage the export's policy
protects must hold a version that policy would let in. The first problem is
reported as one line naming the row and field; nothing is imported."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from regtui.catalog.datasets import MAX_DATASETS, MAX_REF
from regtui.catalog.refs import check_model_name, check_stage_name
from regtui.catalog.service import MAX_REASON, check_key, clean_metrics
from regtui.catalog.stage_rules import APPROVAL_STATES, check_holder, policy_from_json
from regtui.catalog.store import copy_key
from regtui.errors import PolicyRefused, UsageError
from regtui.inspect.bounds import non_finite_at
from regtui.text import printable

# What the service writes, spelled once for the checks below.
ARTIFACT_STATES = ("ok", "changed", "missing")
DECISIONS = ("approved", "rejected")  # what approve/reject record
MOVE_ACTIONS = ("promote", "rollback", "demote")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# A format or framework is a name an inspector gives ("safetensors", "llama.cpp").
TOKEN = re.compile(r"[a-z0-9][a-z0-9._+-]{0,63}")
ACTION = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_ACTOR = 256
MAX_TEXT = 1 << 20  # a description, a target, a damage note: far past any real one
MAX_PATH = 4096
MAX_JSON_DEPTH = 64


class Bad(ValueError):
    """One field breaks its rule (the message says how)."""


def _bad(where: str, problem: str) -> UsageError:
    return UsageError(f"bad catalog export: {where}: {problem}; nothing was imported")


def _shown(value: Any) -> str:
    return printable(repr(value), 80, one_line=True)


# ------------------------------------------------------------------ field rules
# Each takes the value and returns it (possibly normalised) or raises Bad.

Rule = Callable[[Any], Any]


def _text(limit: int, *, one_line: bool = False, empty: bool = True) -> Rule:
    def rule(value: Any) -> Any:
        if not isinstance(value, str):
            raise Bad(f"{_shown(value)} is not text")
        if len(value) > limit:
            raise Bad(f"text of {len(value)} characters is longer than {limit}")
        if not empty and not value.strip():
            raise Bad("is empty")
        if "\x00" in value or (one_line and printable(value, limit, one_line=True) != value):
            raise Bad(f"{_shown(value)} holds control characters")
        return value

    return rule


def _optional(rule: Rule) -> Rule:
    return lambda value: None if value is None else rule(value)


def _usage(check: Callable[[str], str]) -> Rule:
    """A service check raising UsageError, as a field rule."""

    def rule(value: Any) -> Any:
        try:
            return check(value if isinstance(value, str) else "")
        except UsageError as exc:
            raise Bad(str(exc)) from None

    return rule


def _pattern(regex: re.Pattern[str], what: str) -> Rule:
    def rule(value: Any) -> Any:
        if not isinstance(value, str) or not regex.fullmatch(value):
            raise Bad(f"{_shown(value)} is not {what}")
        return value

    return rule


def _one_of(choices: tuple[str, ...]) -> Rule:
    def rule(value: Any) -> Any:
        if value not in choices:
            raise Bad(f"{_shown(value)} is not one of " + ", ".join(choices))
        return value

    return rule


def _int(low: int, high: int = (1 << 63) - 1) -> Rule:
    def rule(value: Any) -> Any:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise Bad(f"{_shown(value)} is not a whole number from {low} to {high}")
        return value

    return rule


def _bool(value: Any) -> Any:
    if not isinstance(value, bool):
        raise Bad(f"{_shown(value)} is not true or false")
    return value


def _time(value: Any) -> Any:
    if not isinstance(value, str) or len(value) > 40:
        raise Bad(f"{_shown(value)} is not an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Bad(f"{_shown(value)} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise Bad(f"{_shown(value)} has no time zone (exports write UTC times with a Z)")
    return value


def _path(value: Any) -> Any:
    """An artifact path as register stores it: absolute and normalised."""
    _text(MAX_PATH)(value)
    parts = value.split("/")
    if not value.startswith("/") or any(p in (".", "..") for p in parts[1:]):
        raise Bad(f"{_shown(value)} is not an absolute, normalised path")
    return value


def _finite_json(value: Any, depth: int = 0) -> Any:
    """JSON as the service stores it: finite numbers only (JSON has no Infinity)."""
    if depth > MAX_JSON_DEPTH:
        raise Bad(f"nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, float) and not math.isfinite(value):
        raise Bad(f"{value!r} is not a finite number")
    if isinstance(value, dict):
        for k, x in value.items():
            if not isinstance(k, str):
                raise Bad(f"key {_shown(k)} is not text")
            _finite_json(x, depth + 1)
    elif isinstance(value, list):
        for x in value:
            _finite_json(x, depth + 1)
    elif value is not None and not isinstance(value, str | int | float | bool):
        raise Bad(f"{_shown(value)} is not a JSON value")
    return value


def _object(value: Any) -> Any:
    if not isinstance(value, dict):
        raise Bad(f"{_shown(value)} is not an object")
    return _finite_json(value)


def _metrics(value: Any) -> Any:
    _object(value)
    for k in value:
        _usage(lambda key: check_key(key, "metric"))(k)
    try:
        return clean_metrics(value, given=False)
    except UsageError as exc:
        raise Bad(str(exc)) from None


def _params(value: Any) -> Any:
    _object(value)
    for k in value:
        _usage(lambda key: check_key(key, "param"))(k)
    return value


def _tags(value: Any) -> Any:
    """Tags as the service stores them: text to text."""
    _object(value)
    for k, x in value.items():
        _text(MAX_TEXT)(k)
        _text(MAX_TEXT)(x)
    return value


def _warnings(value: Any) -> Any:
    if not isinstance(value, list):
        raise Bad(f"{_shown(value)} is not a list")
    for w in value:
        _text(MAX_TEXT)(w)
    return value


def _datasets(value: Any) -> Any:
    if not isinstance(value, list) or len(value) > MAX_DATASETS:
        raise Bad(f"is not a list of at most {MAX_DATASETS} dataset identities")
    for ds in value:
        _object(ds)
        _text(32, one_line=True, empty=False)(ds.get("kind"))
        for x in ds.values():
            if isinstance(x, str):
                _text(MAX_REF)(x)
        if "sha256" in ds:
            _pattern(SHA256_HEX, "a sha256 in lowercase hex")(ds["sha256"])
        if "size_bytes" in ds:
            _int(0)(ds["size_bytes"])
    return value


def _logged(value: Any) -> Any:
    _object(value)
    for k, x in value.items():
        if not k.startswith(("metrics.", "params.")):
            raise Bad(f"{_shown(k)} is not metrics.NAME or params.NAME")
        _time(x)
    return value


def _settle(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Bad(f"{_shown(value)} is not a number of seconds")
    if not math.isfinite(value) or value < 0:
        raise Bad(f"{value!r} is not a finite, non-negative number of seconds")
    return value


_actor = _text(MAX_ACTOR, one_line=True, empty=False)
_reason = _optional(_text(MAX_REASON))
_sha = _pattern(SHA256_HEX, "a sha256 in lowercase hex")
_model = _usage(check_model_name)
_stage = _usage(check_stage_name)


def _version_ref(value: Any) -> Any:
    """[model, number] (or none); that the version exists is checked with the rows."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise Bad(f"{_shown(value)} is not [model, number]")
    _model(value[0])
    _int(1)(value[1])
    return value


# Every field of every row kind, with its rule. A row must have exactly these
# fields (OPTIONAL ones may be missing: exports made before they existed).
FIELDS: dict[str, dict[str, Rule]] = {
    "models": {
        "name": _model,
        "description": _text(MAX_TEXT),
        "tags": _tags,
        "created_at": _time,
        "created_by": _actor,
    },
    "versions": {
        "model": _model,
        "number": _int(1),
        "path": _path,
        "sha256": _sha,
        "size_bytes": _int(0),
        "format": _pattern(TOKEN, "a format name"),
        "framework": _optional(_pattern(TOKEN, "a framework name")),
        "metrics": _metrics,
        "params": _params,
        "tags": _tags,
        "meta": _object,
        "lineage": _object,
        "warnings": _warnings,
        "created_at": _time,
        "created_by": _actor,
        "approval_status": _one_of(APPROVAL_STATES),
        "approval_by": _optional(_actor),
        "approval_at": _optional(_time),
        "approval_reason": _reason,
        "archived": _bool,
        "artifact_state": _one_of(ARTIFACT_STATES),
        "stored_path": _optional(_text(MAX_PATH)),  # checked with its sha256 below
        "damage": _optional(_text(MAX_TEXT)),
        "datasets": _optional(_datasets),
        "logged": _optional(_logged),
    },
    "stages": {
        "model": _model,
        "name": _stage,
        "revision": _int(0),
        "updated_at": _time,
        "updated_by": _actor,
        "version": _optional(_version_ref),
    },
    "stage_moves": {
        "model": _model,
        "stage": _stage,
        "action": _one_of(MOVE_ACTIONS),
        "at": _time,
        "by": _actor,
        "reason": _reason,
        "from_version": _optional(_version_ref),
        "to_version": _optional(_version_ref),
    },
    "approvals": {
        "status": _one_of(DECISIONS),
        "by": _actor,
        "at": _time,
        "reason": _reason,
        "version": _optional(_version_ref),
    },
    "watch_roots": {
        "path": _path,
        "model": _optional(_model),
        "settle_seconds": _settle,
        "created_at": _time,
        "created_by": _actor,
    },
    "audit": {
        "seq": _int(1),
        "at": _time,
        "actor": _actor,
        "action": _pattern(ACTION, "an event action"),
        "model": _optional(_text(128)),
        "target": _text(MAX_TEXT),
        "before": _finite_json,
        "after": _finite_json,
        "reason": _reason,
        "prev_hash": _sha,
        "hash": _sha,
    },
}
# Fields an older export may lack (added by later migrations).
OPTIONAL = {"versions": {"datasets", "logged"}}
TOP = {"format", "schema", *FIELDS, "settings"}


def _check_rows(data: dict[str, Any]) -> None:
    missing = sorted(TOP - set(data))
    extra = sorted(set(data) - TOP)
    if missing or extra:
        raise _bad("the file", f"missing {missing} / unknown {extra} sections")
    if not isinstance(data["settings"], dict):
        raise _bad("settings", "is not an object")
    for kind, fields in FIELDS.items():
        rows = data[kind]
        if not isinstance(rows, list):
            raise _bad(kind, "is not a list")
        optional = OPTIONAL.get(kind, set())
        for i, row in enumerate(rows):
            where = f"{kind}[{i}]"
            if not isinstance(row, dict):
                raise _bad(where, "is not an object")
            unknown = sorted(set(row) - set(fields))
            absent = sorted(set(fields) - set(row) - optional)
            if unknown or absent:
                shown = ", ".join(_shown(k) for k in unknown)
                raise _bad(where, f"unknown fields {shown}" if unknown else f"lacks {absent}")
            for name, rule in fields.items():
                if name in row:
                    try:
                        rule(row[name])
                    except Bad as exc:
                        raise _bad(f"{where}.{name}", str(exc)) from None
    for key, value in data["settings"].items():
        try:
            _text(64, one_line=True, empty=False)(key)
            _finite_json(value)
        except Bad as exc:
            raise _bad(f"settings.{_shown(key)}", str(exc)) from None


# ------------------------------------------------------------------ rows together


def check_export(data: dict[str, Any]) -> None:
    at = non_finite_at(data)
    if at is not None:  # JSON files may say NaN, Infinity or 1e999; the catalog holds none
        raise _bad(at[:200], "not a finite number")
    _check_rows(data)
    models = set()
    for i, m in enumerate(data["models"]):
        name = m["name"]
        if name in models:
            raise _bad(f"models[{i}]", f"model {name!r} appears twice")
        models.add(name)

    versions: dict[tuple[str, int], dict[str, Any]] = {}
    shas: set[tuple[str, str]] = set()
    for i, v in enumerate(data["versions"]):
        where = f"versions[{i}]"
        if v["model"] not in models:
            raise _bad(where, f"model {v['model']!r} is not in the export's models")
        key = (v["model"], v["number"])
        ref = f"{key[0]}:{key[1]}"
        if key in versions:
            raise _bad(where, f"{ref} appears twice")
        if (v["model"], v["sha256"]) in shas:
            raise _bad(where, f"{ref} has the same sha256 as another version of {v['model']}")
        shas.add((v["model"], v["sha256"]))
        _check_approval_fields(where, ref, v)
        if v["stored_path"] is not None:
            _check_stored_path(f"{where}.stored_path", v["stored_path"], v["sha256"])
        if v["approval_status"] == "approved" and v["damage"]:
            raise _bad(where, f"{ref} is approved but damaged ({_shown(v['damage'])})")
        versions[key] = v
    _check_gapless(versions)

    def version_of(where: str, model: str, r: Any) -> dict[str, Any] | None:
        if r is None:
            return None
        if not isinstance(r, list) or len(r) != 2 or r[0] != model:
            raise _bad(where, f"{_shown(r)} is not a version of {model!r}")
        if not isinstance(r[1], int) or (r[0], r[1]) not in versions:
            raise _bad(where, f"{_shown(r)} is not in the export's versions")
        return versions[(r[0], r[1])]

    policy = _policy(data["settings"].get("policy"))
    stages: dict[tuple[str, str], Any] = {}
    for i, s in enumerate(data["stages"]):
        where = f"stages[{i}]"
        if s["model"] not in models:
            raise _bad(where, f"model {s['model']!r} is not in the export's models")
        name = s["name"]
        if (s["model"], name) in stages:
            raise _bad(where, f"{s['model']}@{name} appears twice")
        v = version_of(where, s["model"], s["version"])
        stages[(s["model"], name)] = s["version"]
        if v is None:
            continue
        try:
            check_holder(
                policy,
                name,
                ref=f"{v['model']}:{v['number']}",
                archived=v["archived"],
                approval=v["approval_status"],
                damage=v["damage"],
            )
        except PolicyRefused as exc:
            raise PolicyRefused(
                exc.rule, f"{where} ({s['model']}@{name}): {exc.detail}; nothing was imported"
            ) from None
    last_move: dict[tuple[str, str], Any] = {}
    for i, m in enumerate(data["stage_moves"]):
        where = f"stage_moves[{i}]"
        if m["model"] not in models:
            raise _bad(where, f"model {m['model']!r} is not in the export's models")
        version_of(where, m["model"], m["from_version"])
        version_of(where, m["model"], m["to_version"])
        last_move[(m["model"], m["stage"])] = m["to_version"]
    for (model, stage), to in last_move.items():
        if (model, stage) not in stages or stages[(model, stage)] != to:
            raise _bad(
                f"stages ({model}@{stage})",
                f"its last move put {_shown(to)} there but the stage holds "
                f"{_shown(stages.get((model, stage)))}",
            )
    last_decision: dict[tuple[str, int], dict[str, Any]] = {}
    for i, a in enumerate(data["approvals"]):
        where = f"approvals[{i}]"
        r = a["version"]
        v = version_of(where, r[0] if isinstance(r, list) and r else "", r)
        if v is None:
            raise _bad(where, "names no version")
        last_decision[(v["model"], v["number"])] = a
    for key, v in versions.items():
        _check_last_decision(key, v, last_decision.get(key))
    roots = set()
    for i, w in enumerate(data["watch_roots"]):
        if w["path"] in roots:
            raise _bad(f"watch_roots[{i}]", f"{_shown(w['path'])} appears twice")
        roots.add(w["path"])
    for i, e in enumerate(data["audit"]):
        if e["seq"] != i + 1:
            raise _bad(
                f"audit[{i}].seq", f"events run 1, 2, 3 … in order; this one says {e['seq']}"
            )


def _check_approval_fields(where: str, ref: str, v: dict[str, Any]) -> None:
    """Pending: nobody decided. Approved/rejected: by whom and when, as review records."""
    decided = [v["approval_by"], v["approval_at"]]
    if v["approval_status"] == "pending" and (any(x is not None for x in decided)):
        raise _bad(f"{where}.approval_by", f"{ref} is pending but names a decision")
    if v["approval_status"] != "pending" and any(x is None for x in decided):
        raise _bad(f"{where}.approval_by", f"{ref} is {v['approval_status']} but names no decision")


def _check_stored_path(where: str, stored: str, sha256: str) -> None:
    """A kept copy's place is the store's key for these bytes (store.copy_key), or,
    in catalogs older than per-catalog stores, an absolute path ending in it."""
    name = stored.rsplit("/", 1)[-1]
    key = copy_key(sha256, name)
    if name in ("", ".", "..") or "\x00" in stored:
        raise _bad(where, f"{_shown(stored)} names no file")
    if stored != key and not (stored.endswith("/" + key) and _is_path(stored)):
        raise _bad(where, f"{_shown(stored)} is not the store's place for sha256 {sha256[:12]}…")


def _is_path(value: str) -> bool:
    try:
        _path(value)
    except Bad:
        return False
    return True


def _check_last_decision(key: tuple[str, int], v: dict[str, Any], a: Any) -> None:
    """The version row holds its latest approval decision (service._decide writes both)."""
    ref = f"{key[0]}:{key[1]}"
    status = v["approval_status"]
    if a is None:
        if status != "pending":
            raise _bad(f"versions ({ref})", f"is {status} but no approval decision records it")
        return
    said = (a["status"], a["by"], a["at"], a["reason"])
    held = (status, v["approval_by"], v["approval_at"], v["approval_reason"])
    if said[:2] != held[:2] or not _same_time(said[2], held[2]) or said[3] != held[3]:
        raise _bad(
            f"versions ({ref})",
            f"approval {_shown(held[:2])} is not its last decision {_shown(said[:2])}",
        )


def _same_time(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a == b
    return datetime.fromisoformat(a) == datetime.fromisoformat(b)


def _check_gapless(versions: dict[tuple[str, int], Any]) -> None:
    """Numbers run 1..n per model, as register hands them out."""
    top: dict[str, int] = {}
    count: dict[str, int] = {}
    for m, n in versions:
        top[m] = max(top.get(m, 0), n)
        count[m] = count.get(m, 0) + 1
    for m, n in top.items():
        if count[m] != n:
            gap = next(k for k in range(1, n + 1) if (m, k) not in versions)
            raise _bad("versions", f"{m} has version {n} but no version {gap}")


def _policy(value: Any) -> Any:
    if value is None:
        return policy_from_json(None)
    if not isinstance(value, dict) or set(value) - {"protected_stages", "distinct_approver"}:
        raise _bad("settings.policy", "is not {protected_stages, distinct_approver}")
    stages = value.get("protected_stages")
    if not isinstance(stages, list):
        raise _bad("settings.policy", "protected_stages is not a list of stage names")
    for stage in stages:
        try:
            _stage(stage)
        except Bad as exc:
            raise _bad("settings.policy", str(exc)) from None
    if not isinstance(value.get("distinct_approver", False), bool):
        raise _bad("settings.policy", "distinct_approver is not true or false")
    return policy_from_json(value)
