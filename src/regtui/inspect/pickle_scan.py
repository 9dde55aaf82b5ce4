"""What a pickle would import, found by walking its opcodes: it is never loaded.

A symbolic machine follows the unpickler's stack, marks and memo exactly enough to
know every string on the stack, so each global is named as `find_class` would
receive it: GLOBAL/INST operands decoded as the C unpickler decodes them,
STACK_GLOBAL from the two strings below it (through PUT/GET/MEMOIZE), EXT codes
and operands it cannot know counted as unnamed imports. Each name is judged as an
exact (module, qualname) pair after pickle's own Python 2 name mapping
(`pickle_allow`). Nothing is capped silently: a pickle beyond a limit (opcodes,
distinct imports, memo size) stops the scan with `over_limit` set, and the caller
treats it as unsafe and refuses it. Opcode meanings come from stdlib `pickletools`.

Three modules: `pickle_args` reads each opcode's argument (a huge or lying length
is skipped, never read), `pickle_machine` is the symbolic unpickler, and this one
walks a file's pickles with it and says what they would import.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import IO, Any

from regtui.inspect.bounds import Damaged, Refused, clip
from regtui.inspect.pickle_allow import is_safe_global, reloads, severity
from regtui.inspect.pickle_args import Prefixed, Stream
from regtui.inspect.pickle_machine import (
    MAX_GLOBALS,
    MAX_OPS,
    G,
    Machine,
    OverLimit,
    PickleScan,
)

__all__ = [
    "MAX_GLOBALS",
    "MAX_OPS",
    "PickleScan",
    "add_plain_reading",
    "describe",
    "is_safe_global",
    "raise_if_over_limit",
    "raise_if_truncated",
    "scan_pickle",
]

MAX_PICKLES = 64  # pickles in a row in one file (pickle.dump called again and again)
MAX_TOP_ITEMS = 100


def scan_pickle(
    fh: IO[bytes],
    *,
    seekable: bool = True,
    on_persid: Callable[[Any], None] | None = None,
    sequence: bool = True,
    max_pickles: int | None = None,
    joblib: bool = True,
) -> PickleScan:
    """Walk the pickle(s) in `fh`; never raises for bad content (see `.error`,
    `.truncated`, `.over_limit`). With `sequence`, every pickle up to the end of the
    data is walked (a loader may call load() again), over MAX_PICKLES is over the
    limit; `max_pickles` instead stops after exactly that many, before data that
    only looks like another pickle (legacy torch files put raw storages after five)."""
    scan = PickleScan()
    stream = Stream(fh, seekable)
    limit = max_pickles if max_pickles is not None else MAX_PICKLES

    def persid(pid: Any) -> None:
        if (
            isinstance(pid, tuple)
            and len(pid) >= 5
            and pid[0] == "storage"
            and len(scan.storages) < 1_000_000
        ):
            kind = pid[1].name if isinstance(pid[1], G) else "?"
            numel = pid[4] if isinstance(pid[4], int) else 0
            scan.storages[str(pid[2])] = (kind, numel)
        if on_persid is not None:
            on_persid(pid)

    machine = Machine(stream, scan, persid, joblib)
    try:
        while True:
            value = machine.run()
            scan.end = machine.s.pos
            if scan.pickles == 0:
                scan.first_value = value if isinstance(value, int | str) else None
                scan.top = _plain_items(value)
            scan.pickles += 1
            if not sequence or scan.pickles == max_pickles:
                break
            nxt = fh.read(1)
            if not nxt:
                break
            if scan.pickles >= limit:
                raise OverLimit(f"over {limit} pickles in a row")
            if seekable:
                fh.seek(-1, 1)
            else:
                stream = Prefixed(fh, nxt, stream.pos)
                machine.s = stream
        scan.complete = True
    except OverLimit as exc:
        scan.over_limit = f"{exc}: the rest was not scanned"
        scan.error = scan.over_limit
    except EOFError as exc:
        scan.truncated = True
        scan.error = clip(str(exc), 300)
    except (ValueError, IndexError, KeyError, TypeError, struct.error) as exc:
        # UnicodeDecodeError included: the unpickler refuses what does not decode
        scan.error = clip(f"malformed pickle: {exc}", 300)
    except RecursionError:
        scan.error = "malformed pickle: nested too deeply"
    return scan


def _plain_items(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    return {
        clip(k, 200): clip(v) if isinstance(v, str) else v
        for k, v in list(value.items())[:MAX_TOP_ITEMS]
        if isinstance(k, str) and (v is None or isinstance(v, bool | int | float | str))
    }


def add_plain_reading(scan: PickleScan, reopen: Callable[[], Any]) -> None:
    """A joblib file read by plain pickle.load runs its array bytes as opcodes: the
    imports found that way, before the data stops making sense, count as well."""
    if not scan.joblib_arrays:
        return
    with reopen() as fh:
        plain = scan_pickle(fh, seekable=False, joblib=False)
    for name in plain.unsafe_names:
        if not name.startswith("<"):
            scan.unsafe_names.setdefault(f"{name} (if read by pickle.load)", None)
            scan.globals.setdefault(name, 1)


def raise_if_truncated(scan: PickleScan, what: str = "pickle") -> None:
    """Damaged if the data ended before a STOP opcode."""
    if scan.truncated:
        raise Damaged(f"{what} ends before its STOP opcode: truncated ({scan.error})")


def raise_if_over_limit(scan: PickleScan, what: str = "pickle") -> None:
    """Refused if a limit stopped the scan: what follows could import anything."""
    if scan.over_limit:
        raise Refused(f"{what} too large to scan whole ({scan.over_limit}): treated as unsafe")


def framework_from_globals(names: list[str]) -> str | None:
    """The library a pickled object belongs to, from the first distinctive import."""
    for prefix, framework in (
        ("torch.", "torch"),
        ("xgboost.", "xgboost"),
        ("lightgbm.", "lightgbm"),
        ("catboost.", "catboost"),
        ("sklearn.", "sklearn"),
        ("pandas.", "pandas"),
        ("numpy.", "numpy"),
    ):
        if any(n.startswith(prefix) for n in names):
            return framework
    return None


def describe(scan: PickleScan) -> tuple[dict[str, Any], list[str]]:
    """Metadata and warnings for a scanned pickle (every pickle gets a warning).
    `unsafe_imports` lists every import outside the allow-list, with a `<…>` entry
    for each kind of import that cannot be named; `pickle_unsafe` says loading it
    may run code (that, or a scan that could not finish)."""
    names = list(scan.globals)
    unsafe = sorted(scan.unsafe_names, key=_severity)  # stable: known-dangerous first
    named = [n for n in unsafe if not n.startswith("<")]
    meta: dict[str, Any] = {
        "pickle_protocol": scan.protocol,
        "pickle_opcodes": scan.opcodes,
        "imports": names,
    }
    if scan.error and not scan.truncated:  # not seen to the end: anything may follow
        unsafe.insert(0, "<pickle scan incomplete>")
    if unsafe:
        meta["unsafe_imports"] = unsafe
        meta["unsafe_import_count"] = len(unsafe)
    if scan.dangerous:
        meta["pickle_unsafe"] = True
    shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
    warnings = [
        f"pickle-based: loading it would import {shown}"
        if names
        else "pickle-based: loading it imports nothing (plain data)"
    ]
    if named:
        listed = [_with_role(n) for n in named[:20]]
        warnings.append(
            "imports outside the allow-list (would run on load): "
            + ", ".join(listed)
            + (f" and {len(named) - 20} more" if len(named) > 20 else "")
        )
    if scan.unresolved:
        warnings.append(
            f"{scan.unresolved} import(s) computed at load time could not be named: treat as unsafe"
        )
    if scan.ext_used:
        warnings.append(
            "uses the copyreg extension registry: imports cannot be named: treat as unsafe"
        )
    if scan.error and not scan.truncated:  # truncation is damage, reported as such
        warnings.append(f"pickle scan incomplete ({scan.error}): treat as unsafe")
    return meta, warnings


def _severity(name: str) -> int:
    if name.startswith("<"):
        return 0
    module, _, qualname = name.rpartition(".")
    return severity(module, qualname)


def _with_role(name: str) -> str:
    module, _, qualname = name.rpartition(".")
    if reloads(module, qualname):
        return f"{name} (loads another pickle or runs code)"
    return name
