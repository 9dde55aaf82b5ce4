"""Limits on everything read from an artifact, and helpers that enforce them.

Artifacts are untrusted: every string, list, dict and document taken from one is
cut to a known size here, so a hostile file cannot make the catalog row (or the
inspector's memory) large.
"""

from __future__ import annotations

import functools
import io
import math
import os
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, BinaryIO, TypeGuard

from regtui import readlog
from regtui.hashing import kind_of, special_kind

MAX_STR = 1_000  # characters kept of one string from an artifact
MAX_LIST = 100  # items kept of one list
MAX_DICT = 200  # keys kept of one mapping
MAX_DEPTH = 8  # nesting kept
MAX_JSON_BYTES = 16 << 20  # a JSON sidecar/config read whole is at most this
MAX_YAML_BYTES = 256 << 10  # YAML sidecars are small, and PyYAML builds nodes slowly
MAX_WARNINGS = 50
MAX_INSPECT_SECONDS = 20.0  # one inspection's time budget (hashing has none: it streams)
MAX_WARNING_CHARS = 600


class Refused(Exception):
    """The artifact must not be registered; the message is the one-line reason."""


class BadContent(Exception):
    """The content is hostile or beyond a limit; the message is a warning for the version."""


class Damaged(BadContent):
    """The format shows the bytes incomplete or lying (truncated, a header claiming
    more than the file holds, not a model at all): the message is the one-line damage
    reason. A BadContent, so a caller that only tolerates bad content still does."""


def clip(text: str, limit: int = MAX_STR) -> str:
    """`text` cut to `limit` characters, with a marker saying how much was cut."""
    if len(text) <= limit or (len(text) <= limit + 40 and "…[truncated " in text[limit:]):
        return text  # short, or already cut (bounded() may see a value twice)
    return f"{text[:limit]}…[truncated {len(text) - limit} chars]"


def bounded(value: Any, depth: int = 0) -> Any:
    """A JSON-serialisable, size-bounded copy of `value` (bytes never kept)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        # Beyond 64 bits no real count lies; a hostile one could be too long to store.
        if value.bit_length() <= 63:
            return value
        return (
            float(value) if value.bit_length() < 1000 else f"<integer of {value.bit_length()} bits>"
        )
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return clip(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if depth >= MAX_DEPTH:
        return "…[nested too deep]"
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for i, (k, v) in enumerate(value.items()):
            if i >= MAX_DICT:
                out["…"] = f"[{len(value) - MAX_DICT} more keys]"
                break
            out[clip(str(k), 200)] = bounded(v, depth + 1)
        return out
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)[: MAX_LIST + 1]
        out_list = [bounded(v, depth + 1) for v in items[:MAX_LIST]]
        if len(value) > MAX_LIST:
            out_list.append(f"…[{len(value) - MAX_LIST} more]")
        return out_list
    return clip(str(value))


class NotRegular(BadContent):
    """A FIFO, socket or device where a file was expected: never read (a FIFO
    would block the reader until some writer came). `kind` names what it is."""

    def __init__(self, message: str, kind: str = "not a regular file") -> None:
        super().__init__(message)
        self.kind = kind


def open_file(path: Path, buffering: int = -1) -> BinaryIO:
    """`open_file(path)` that cannot block: opened non-blocking, then refused
    (NotRegular) unless fstat shows a regular file. OSError as open() raises it.

    Inside readlog.reading() (Catalog.prepare) every byte read is recorded, so
    the hash can prove it saw the same bytes (readlog)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        kind = special_kind(path)  # a socket cannot even be opened (ENXIO)
        if kind and kind != "a folder":
            raise NotRegular(
                f"{path.name}: is {kind}, not a regular file: not read", kind
            ) from None
        raise
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(21, "Is a directory", str(path))
        if not stat.S_ISREG(st.st_mode):
            raise NotRegular(
                f"{path.name}: is {kind_of(st.st_mode)}, not a regular file: not read",
                kind_of(st.st_mode),
            )
        log = readlog.current()
        limit = _deadline.get()
        if log is None and limit is None:
            return os.fdopen(fd, "rb", buffering)
        reads = log.opened(path, st) if log is not None else None
        raw = readlog.RecordingFile(fd, reads, limit.check if limit is not None else None)
    except BaseException:
        os.close(fd)
        raise
    if buffering == 0:
        return raw
    return io.BufferedReader(raw, buffering if buffering > 0 else io.DEFAULT_BUFFER_SIZE)


class Cancelled(BaseException):
    """The caller gave up (the watcher is stopping): unwinds an inspection through
    every `except Exception`, and is no verdict on the artifact."""


class Deadline:
    """A time budget for one inspection, checked on every read an inspector makes
    (open_file's descriptors) and by parsers' loops (check_deadline). Over it:
    Refused naming the limit; `cancel` set: Cancelled."""

    def __init__(self, seconds: float, cancel: threading.Event | None = None) -> None:
        self.seconds = seconds
        self.cancel = cancel
        self.end = time.monotonic() + seconds
        self.passed = False

    def check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled
        if self.passed or time.monotonic() > self.end:
            self.passed = True  # kept: an inspector that swallows the refusal cannot hide it
            raise Refused(self.reason())

    def reason(self) -> str:
        return (
            f"inspection passed its deadline of {self.seconds:g} s "
            "(limit MAX_INSPECT_SECONDS): not registered"
        )


_deadline: ContextVar[Deadline | None] = ContextVar("regtui_deadline", default=None)
_cancel: ContextVar[threading.Event | None] = ContextVar("regtui_cancel", default=None)


def check_deadline() -> None:
    """For parsers' loops: refuse (or stop) once the inspection's budget is spent."""
    limit = _deadline.get()
    if limit is not None:
        limit.check()


@contextmanager
def deadline(seconds: float | None = None) -> Iterator[Deadline]:
    """Give the inspection run inside a Deadline (MAX_INSPECT_SECONDS by default),
    cancelled by the event `cancelled_by` set for this thread, if any."""
    limit = Deadline(MAX_INSPECT_SECONDS if seconds is None else seconds, _cancel.get())
    token = _deadline.set(limit)
    try:
        yield limit
    finally:
        _deadline.reset(token)


@contextmanager
def cancelled_by(event: threading.Event) -> Iterator[None]:
    """Inspections in this thread stop (Cancelled) once `event` is set."""
    token = _cancel.set(event)
    try:
        yield
    finally:
        _cancel.reset(token)


def read_capped(path: Path, cap: int, what: str) -> bytes:
    """The whole file, or BadContent if it is larger than `cap` bytes."""
    with open_file(path) as fh:
        # Sized by the file, not the cap: read(n) allocates n bytes up front,
        # and a 16 MiB cap would cost every small sidecar 16 MiB.
        size = os.fstat(fh.fileno()).st_size
        data = fh.read(min(size, cap) + 1)
        if len(data) > size and len(data) <= cap:  # grew while read: take the rest, capped
            data += fh.read(cap + 1 - len(data))
    if len(data) > cap:
        raise BadContent(f"{what} {path.name} is larger than {cap >> 10} KiB: not read")
    return data


def load_json(path: Path, cap: int = MAX_JSON_BYTES, *, sidecar: bool = False) -> Any:
    """A JSON file read with a size cap, its elements counted before parsing
    (regtui.inspect.limits); BadContent on anything wrong."""
    from regtui.inspect.limits import loads_json  # limits builds on this module

    return loads_json(read_capped(path, cap, "JSON file"), path.name, sidecar=sidecar)


@functools.cache
def _no_alias_loader() -> Any:
    """SafeLoader that refuses anchors/aliases: they are how YAML bombs multiply.

    Built on first use: importing yaml compiles its resolver regexes (~25 ms),
    which every first registration paid although few artifacts have YAML sidecars."""
    import yaml

    class _NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise yaml.YAMLError("anchors/aliases are not accepted in artifact YAML")
            event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in the stubs
            if getattr(event, "anchor", None):
                raise yaml.YAMLError("anchors/aliases are not accepted in artifact YAML")
            return super().compose_node(parent, index)

    return _NoAliasLoader


def load_yaml_text(text: str, name: str) -> Any:
    """safe_load semantics (plain data only), without aliases, size-capped."""
    if len(text) > MAX_YAML_BYTES:
        raise BadContent(f"YAML {name} is larger than {MAX_YAML_BYTES >> 10} KiB: not read")
    import yaml

    from regtui.inspect.limits import check_yaml  # limits builds on this module

    check_yaml(text, name)  # events counted, aliases refused, before any node is built
    try:
        # libyaml builds nodes ~20x faster; check_yaml has refused aliases already.
        loader = yaml.CSafeLoader if yaml.__with_libyaml__ else _no_alias_loader()
        return yaml.load(text, Loader=loader)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise BadContent(f"{name} is not accepted YAML: {clip(str(exc), 200)}") from None


def load_yaml(path: Path) -> Any:
    data = read_capped(path, MAX_YAML_BYTES, "YAML file")
    return load_yaml_text(data.decode("utf-8", errors="replace"), path.name)


def is_finite_number(value: Any) -> TypeGuard[int | float]:
    """A number JSON, SQLite's REAL and PostgreSQL's double precision all hold:
    finite, and within float range (an int past it overflows every one of them)."""
    # a comparison, not math.isfinite: that overflows on ints beyond float range
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and -1e308 <= value <= 1e308
    )


def non_finite_at(value: Any, where: str = "", depth: int = 0) -> str | None:
    """Where in `value` (a dotted key path, "" for itself) a number is not
    `is_finite_number`, or None when every number in it is."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None
    if isinstance(value, int | float):
        return None if is_finite_number(value) else where
    if depth > 64:
        return where  # deeper than any honest value: refuse rather than recurse
    if isinstance(value, dict):
        items = ((f"{where}.{k}" if where else str(k), v) for k, v in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for at, v in items:
        found = non_finite_at(v, at, depth + 1)
        if found is not None:
            return found
    return None
