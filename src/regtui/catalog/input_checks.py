"""What a person or a script hands the catalog, checked where it enters: metric
and param names and values, tags, reasons. Each check raises UsageError with a
one-line message; an import (catalog.import_check) applies the same rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, overload

from regtui.errors import UsageError
from regtui.inspect.bounds import is_finite_number, non_finite_at

MAX_REASON = 2000
MAX_KEY = 200  # characters of a metric or param name


def refuse_nul(value: Any, what: str) -> None:
    """Refuse text holding a NUL anywhere in `value` (keys and strings, however
    nested). PostgreSQL stores no NUL in text or JSONB, and an export holding one
    is refused on import: a write SQLite alone would take must not be taken."""
    if isinstance(value, str):
        if "\x00" in value:
            raise UsageError(f"{what} holds a NUL character (\\x00), which no catalog stores")
    elif isinstance(value, Mapping):
        for k, v in value.items():
            refuse_nul(k, what)
            refuse_nul(v, what)
    elif isinstance(value, list | tuple):
        for v in value:
            refuse_nul(v, what)


def has_nul(value: Any) -> bool:
    """Whether a NUL is anywhere in `value` (keys and strings, however nested)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


def without_nul(value: Any) -> Any:
    """`value` with every NUL in its text shown as U+FFFD: for what an artifact or
    its sidecars said, which is recorded, not refused (see refuse_nul)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, Mapping):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(v) for v in value]
    return value


def check_key(key: Any, what: str) -> str:
    """A metric/param name: non-empty, at most MAX_KEY characters, no NUL (one-line error)."""
    name = str(key)
    refuse_nul(name, f"a {what} name")
    if not name.strip():
        raise UsageError(f"a {what} needs a non-empty name")
    if len(name) > MAX_KEY:
        raise UsageError(f"{what} name {name[:40]!r}… is longer than {MAX_KEY} characters")
    return name


def clean_metrics(metrics: dict[str, Any] | None, *, given: bool = True) -> dict[str, float]:
    """Metrics as finite numbers (bounds.is_finite_number). `given` (from a person,
    not a sidecar) also checks the names; an integer is kept exact."""
    out: dict[str, float] = {}
    for k, v in (metrics or {}).items():
        name = check_key(k, "metric") if given else str(k)
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise UsageError(f"metric {name[:80]!r} must be a number, got {str(v)[:80]!r}")
        if not is_finite_number(v):
            raise UsageError(f"metric {name[:80]!r} must be a finite number, got {_shown(v)}")
        out[name] = float(v) if isinstance(v, float) else v
    return out


def clean_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """Params as JSON values; every number in one, however nested, must be finite
    and within float range (JSON has no Infinity; filters compare them as floats)."""
    out: dict[str, Any] = {}
    for k, v in (params or {}).items():
        name = check_key(k, "param")
        at = non_finite_at(v)
        if at is not None:
            where = f"{name[:80]!r}" + (f" (at {at[:80]!r})" if at else "")
            raise UsageError(f"param {where} must hold finite numbers only, got {_shown(v, at)}")
        refuse_nul(v, f"param {name[:80]!r}")
        out[name] = v
    return out


def _shown(value: Any, at: str | None = "") -> str:
    """The offending number, briefly (an int past float range by its size)."""
    if at:
        return "a number out of range"
    if isinstance(value, int):
        return f"an integer of {value.bit_length()} bits"
    return repr(value)


def clean_tags(tags: Mapping[str, Any] | None) -> dict[str, str]:
    out = {str(k): str(v) for k, v in (tags or {}).items()}
    refuse_nul(out, "a tag")
    return out


def clean_description(description: str | None) -> str | None:
    if description is not None:
        refuse_nul(description, "a description")
    return description


@overload
def clean_reason(reason: str | None, required: Literal[True]) -> str: ...
@overload
def clean_reason(reason: str | None, required: bool = False) -> str | None: ...
def clean_reason(reason: str | None, required: bool = False) -> str | None:
    """A reason stripped (blank: None), at most MAX_REASON characters; `required`
    refuses a blank one."""
    if reason is not None:
        refuse_nul(reason, "a reason")
        reason = reason.strip()
    if required and not reason:
        raise UsageError("a reason is required for this action")
    if reason and len(reason) > MAX_REASON:
        raise UsageError(f"reason is longer than {MAX_REASON} characters")
    return reason or None
