"""Work limits enforced while an artifact is parsed, not after.

A hostile file is cheap to write and can be expensive to read: a JSON text of
empty lists builds ~25x its size in objects, a protobuf of empty fields costs a
Python loop per field. Each parser here spends a `Budget` as it goes (or, for
JSON and YAML, which C code parses whole, passes a pre-scan that counts the
elements before anything is built), and stops with `OverLimit` -- a message
that names the limit -- once the work passes what any real model needs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from regtui.inspect.bounds import MAX_JSON_BYTES, BadContent, clip

# JSON parsed whole (sidecars, configs, headers; at most bounds.MAX_JSON_BYTES):
# counted before json.loads.
MAX_JSON_ITEMS = 1_000_000  # values (commas + containers): ~60 MB parsed at worst
MAX_JSON_CONTAINERS = 200_000  # objects and arrays: the costly values
MAX_JSON_DEPTH = 64
# Sidecars (metrics, params, trainer state) are read for a few numbers, beside
# every registration: tighter counts keep each within ~100 ms.
SIDECAR_JSON_CONTAINERS = 20_000
SIDECAR_JSON_ITEMS = 100_000
# YAML (sidecars, MLmodel, front matter) is small; its events are counted first.
MAX_YAML_EVENTS = 5_000  # real sidecars hold hundreds; PyYAML builds ~50k nodes a second
MAX_YAML_DEPTH = 64


class OverLimit(BadContent):
    """Parsing stopped at a named limit; the message names it."""


class Budget:
    """A count of units of work (fields, values, entries) that refuses to pass `limit`."""

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what
        self.used = 0

    def spend(self, n: int = 1) -> None:
        self.used += n
        if self.used > self.limit:
            raise OverLimit(f"{self.what}: over the limit of {self.limit}, not read further")


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# Decimal to int conversion is quadratic in the digits: 3,000 numbers of 4,000
# digits cost seconds. No count, size or offset needs more than 20 (decode_json).
MAX_JSON_DIGITS = 100
# Digits to "0", all else to "."; then a plain substring search finds a long run
# (a regex tried at every byte was ~100 ms per MB).
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= b <= 0x39 else 0x2E for b in range(256))
_EMPTY_PAIR = re.compile(rb"\[\]|\{\}")


def check_json(data: bytes, what: str, *, sidecar: bool = False) -> None:
    """OverLimit unless `data` is small and flat enough to hand to json.loads.

    Counts come from bytes.count (C speed, no objects built): commas inside
    strings inflate them, which only makes the check stricter. Depth is measured
    on the brackets alone, strings removed, by peeling the innermost pairs one
    level per (C-speed) pass. A `sidecar` gets the tighter SIDECAR_JSON_* counts."""
    max_containers = SIDECAR_JSON_CONTAINERS if sidecar else MAX_JSON_CONTAINERS
    max_items = SIDECAR_JSON_ITEMS if sidecar else MAX_JSON_ITEMS
    if len(data) > MAX_JSON_BYTES:
        raise OverLimit(
            f"{what}: {len(data)} bytes of JSON, over the {MAX_JSON_BYTES >> 20} MiB parse limit"
        )
    containers = data.count(b"[") + data.count(b"{")
    if containers > max_containers:
        raise OverLimit(f"{what}: over {max_containers} JSON objects/arrays (limit), not parsed")
    if containers + data.count(b",") > max_items:
        raise OverLimit(f"{what}: over {max_items} JSON values (limit), not parsed")
    if containers <= MAX_JSON_DEPTH:
        return  # cannot nest deeper than it has objects/arrays
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    for _ in range(MAX_JSON_DEPTH):
        peeled = _EMPTY_PAIR.sub(b"", brackets)
        if len(peeled) == len(brackets):
            return  # all peeled, or unbalanced: json.loads says where
        brackets = peeled
    if _EMPTY_PAIR.search(brackets):
        raise OverLimit(
            f"{what}: JSON nested deeper than {MAX_JSON_DEPTH} levels (limit), not parsed"
        )


def _capped_int(text: str) -> int | float:
    """An integer of at most MAX_JSON_DIGITS digits; a longer one is infinite (no
    count, size or offset is one), so it is never converted and a caller's
    finiteness test drops it."""
    if len(text) - text.startswith("-") <= MAX_JSON_DIGITS:
        return int(text)
    return float("-inf") if text.startswith("-") else float("inf")


def decode_json(data: bytes) -> Any:
    """json.loads, with integers past MAX_JSON_DIGITS read as infinite (ValueError
    and RecursionError as json.loads raises them). The hook costs a Python call
    per integer, so it is used only when a long run of digits is there."""
    if b"0" * (MAX_JSON_DIGITS + 1) in data.translate(_DIGITS_AS_ZERO):
        return json.loads(data, parse_int=_capped_int)
    return json.loads(data)


def loads_json(data: bytes, what: str, *, sidecar: bool = False) -> Any:
    """`decode_json` after `check_json`; BadContent for text that is not JSON."""
    check_json(data, what, sidecar=sidecar)
    try:
        return decode_json(data)
    except (ValueError, RecursionError) as exc:
        raise BadContent(f"{what} is not valid JSON: {clip(str(exc), 200)}") from None


def check_yaml(text: str, what: str) -> None:
    """OverLimit (or BadContent for aliases) unless the YAML's events stay within
    the limits: parsed to events only, so no node or object is built yet."""
    import yaml

    loader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    events = 0
    depth = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            events += 1
            if events > MAX_YAML_EVENTS:
                raise OverLimit(f"{what}: over {MAX_YAML_EVENTS} YAML nodes (limit), not read")
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise BadContent(f"{what}: anchors/aliases are not accepted in artifact YAML")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise OverLimit(
                        f"{what}: YAML nested deeper than {MAX_YAML_DEPTH} levels (limit), not read"
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        raise BadContent(f"{what} is not accepted YAML: {clip(str(exc), 200)}") from None
