"""The rule each field of a catalog export must meet: the rule the service applies
when it writes that field (register, log, review, promote, the policy). `FIELDS`
names every field of every row kind; `check_rows` holds each row to it. How the
rows fit together is import_check's."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from regtui.catalog.datasets import MAX_DATASETS, MAX_REF
from regtui.catalog.records import ApprovalStatus
from regtui.catalog.refs import check_model_name, check_stage_name
from regtui.catalog.service import MAX_REASON, check_key, clean_metrics
from regtui.catalog.stage_rules import APPROVAL_STATES, policy_from_json
from regtui.errors import UsageError
from regtui.text import printable

# What the service writes, spelled once for the checks below.
ARTIFACT_STATES = ("ok", "changed", "missing")
DECISIONS = (ApprovalStatus.APPROVED.value, ApprovalStatus.REJECTED.value)  # approve/reject
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


def bad(where: str, problem: str) -> UsageError:
    return UsageError(f"bad catalog export: {where}: {problem}; nothing was imported")


def shown(value: Any) -> str:
    return printable(repr(value), 80, one_line=True)


# ------------------------------------------------------------------ field rules
# Each takes the value and returns it (possibly normalised) or raises Bad.

Rule = Callable[[Any], Any]


def _text(limit: int, *, one_line: bool = False, empty: bool = True) -> Rule:
    def rule(value: Any) -> Any:
        if not isinstance(value, str):
            raise Bad(f"{shown(value)} is not text")
        if len(value) > limit:
            raise Bad(f"text of {len(value)} characters is longer than {limit}")
        if not empty and not value.strip():
            raise Bad("is empty")
        if "\x00" in value or (one_line and printable(value, limit, one_line=True) != value):
            raise Bad(f"{shown(value)} holds control characters")
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
            raise Bad(f"{shown(value)} is not {what}")
        return value

    return rule


def _one_of(choices: tuple[str, ...]) -> Rule:
    def rule(value: Any) -> Any:
        if value not in choices:
            raise Bad(f"{shown(value)} is not one of " + ", ".join(choices))
        return value

    return rule


def _int(low: int, high: int = (1 << 63) - 1) -> Rule:
    def rule(value: Any) -> Any:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise Bad(f"{shown(value)} is not a whole number from {low} to {high}")
        return value

    return rule


def _bool(value: Any) -> Any:
    if not isinstance(value, bool):
        raise Bad(f"{shown(value)} is not true or false")
    return value


def _time(value: Any) -> Any:
    if not isinstance(value, str) or len(value) > 40:
        raise Bad(f"{shown(value)} is not an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Bad(f"{shown(value)} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise Bad(f"{shown(value)} has no time zone (exports write UTC times with a Z)")
    return value


def _path(value: Any) -> Any:
    """An artifact path as register stores it: absolute and normalised."""
    _text(MAX_PATH)(value)
    parts = value.split("/")
    if not value.startswith("/") or any(p in (".", "..") for p in parts[1:]):
        raise Bad(f"{shown(value)} is not an absolute, normalised path")
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
                raise Bad(f"key {shown(k)} is not text")
            _finite_json(x, depth + 1)
    elif isinstance(value, list):
        for x in value:
            _finite_json(x, depth + 1)
    elif value is not None and not isinstance(value, str | int | float | bool):
        raise Bad(f"{shown(value)} is not a JSON value")
    return value


def _object(value: Any) -> Any:
    if not isinstance(value, dict):
        raise Bad(f"{shown(value)} is not an object")
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
        raise Bad(f"{shown(value)} is not a list")
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
            raise Bad(f"{shown(k)} is not metrics.NAME or params.NAME")
        _time(x)
    return value


def _settle(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Bad(f"{shown(value)} is not a number of seconds")
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
        raise Bad(f"{shown(value)} is not [model, number]")
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
        "description": _optional(_text(MAX_TEXT)),
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
OPTIONAL = {"versions": {"datasets", "logged", "description"}}
TOP = {"format", "schema", *FIELDS, "settings"}


def check_rows(data: dict[str, Any]) -> None:
    missing = sorted(TOP - set(data))
    extra = sorted(set(data) - TOP)
    if missing or extra:
        raise bad("the file", f"missing {missing} / unknown {extra} sections")
    if not isinstance(data["settings"], dict):
        raise bad("settings", "is not an object")
    for kind, fields in FIELDS.items():
        rows = data[kind]
        if not isinstance(rows, list):
            raise bad(kind, "is not a list")
        optional = OPTIONAL.get(kind, set())
        for i, row in enumerate(rows):
            where = f"{kind}[{i}]"
            if not isinstance(row, dict):
                raise bad(where, "is not an object")
            unknown = sorted(set(row) - set(fields))
            absent = sorted(set(fields) - set(row) - optional)
            if unknown or absent:
                listed = ", ".join(shown(k) for k in unknown)
                raise bad(where, f"unknown fields {listed}" if unknown else f"lacks {absent}")
            for name, rule in fields.items():
                if name in row:
                    try:
                        rule(row[name])
                    except Bad as exc:
                        raise bad(f"{where}.{name}", str(exc)) from None
    for key, value in data["settings"].items():
        try:
            _text(64, one_line=True, empty=False)(key)
            _finite_json(value)
        except Bad as exc:
            raise bad(f"settings.{shown(key)}", str(exc)) from None


def is_normalised_path(value: str) -> bool:
    """Whether `value` is an absolute, normalised path (as register stores one)."""
    try:
        _path(value)
    except Bad:
        return False
    return True


def policy_of(value: Any) -> Any:
    """The export's settings.policy as the policy its stages are checked against."""
    if value is None:
        return policy_from_json(None)
    if not isinstance(value, dict) or set(value) - {"protected_stages", "distinct_approver"}:
        raise bad("settings.policy", "is not {protected_stages, distinct_approver}")
    stages = value.get("protected_stages")
    if not isinstance(stages, list):
        raise bad("settings.policy", "protected_stages is not a list of stage names")
    for stage in stages:
        try:
            _stage(stage)
        except Bad as exc:
            raise bad("settings.policy", str(exc)) from None
    if not isinstance(value.get("distinct_approver", False), bool):
        raise bad("settings.policy", "distinct_approver is not true or false")
    return policy_from_json(value)
