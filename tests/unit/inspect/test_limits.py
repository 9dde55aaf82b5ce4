"""Every parser stops at a named limit while it parses (issue 12, item 6).

The crafted files of bench/hostile.py (one per parser: JSON of empty lists in a
.keras, a safetensors header and an XGBoost model; UBJSON of nulls; a zip of
empty entries; ONNX and SavedModel protobufs of empty fields; GGUF nested arrays
and sparse tensor infos; YAML sidecars and an MLmodel) are built at two scales
past a lowered limit. No stopwatch: the work is counted (Python calls made while
inspecting, and tracemalloc's peak), and must stop growing with the input once
the limit is passed, with the limit named in a warning or the refusal.
"""

from __future__ import annotations

import sys
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

import pytest
from bench.hostile import BUILDERS
from hypothesis import given, settings
from hypothesis import strategies as st

from regtui.inspect import Facts, inspect_path
from tests.unit.fuzz.support import fuzz_settings, workdir


@dataclass(frozen=True)
class Case:
    builder: str
    limit: tuple[str, str, int]  # module, constant, lowered value
    small: int  # scales: past the lowered limit, and ten times further
    big: int
    says: str  # the words naming the limit
    held: int = 2 << 20  # memory a parser may hold beyond the file's bytes (inflated entries)


_JSON = ("regtui.inspect.limits", "MAX_JSON_CONTAINERS", 1_000)
_YAML = ("regtui.inspect.limits", "MAX_YAML_EVENTS", 200)
CASES = [
    Case("keras config of empty lists", _JSON, 2_000, 200_000, "JSON objects/arrays"),
    Case("safetensors header of nested lists", _JSON, 2_000, 200_000, "JSON objects/arrays"),
    Case("XGBoost JSON of empty lists", _JSON, 2_000, 200_000, "JSON objects/arrays"),
    Case(
        "XGBoost UBJ of nulls",
        ("regtui.inspect.ubjson", "MAX_VALUES", 1_000),
        2_000,
        20_000,
        "UBJSON values",
    ),
    Case(
        "zip of empty entries",
        ("regtui.inspect.zipcheck", "MAX_ENTRIES", 1_000),
        2_000,
        20_000,
        "entries",
    ),
    Case(
        "pt2 of many weight configs",
        ("regtui.inspect.pt2", "MAX_JSON_TOTAL", 3 << 20),
        6,
        60,
        "JSON bytes parsed",
        held=8 << 20,
    ),
    Case(
        "ONNX of empty nodes",
        ("regtui.inspect.protobuf_wire", "MAX_FIELDS", 1_000),
        2_000,
        20_000,
        "protobuf fields",
    ),
    Case(
        "ONNX of long initializer names",
        ("regtui.inspect.protobuf_wire", "MAX_FIELDS", 1_000),
        700,
        7_000,
        "protobuf fields",
    ),
    Case(
        "saved_model.pb of tiny fields",
        ("regtui.inspect.protobuf_wire", "MAX_FIELDS", 1_000),
        2_000,
        20_000,
        "protobuf fields",
    ),
    Case(
        "GGUF of nested arrays",
        ("regtui.inspect.gguf", "MAX_ITEMS", 1_000),
        2_000,
        20_000,
        "GGUF values",
    ),
    Case(
        "sparse GGUF of tensor infos",
        ("regtui.inspect.gguf", "MAX_ITEMS", 1_000),
        500,
        5_000,
        "GGUF values and tensor infos",
    ),
    Case("YAML sidecar of sequences", _YAML, 400, 4_000, "YAML nodes"),
    Case("MLmodel of many items", _YAML, 400, 4_000, "YAML nodes"),
]
IDS = [c.builder for c in CASES]


@dataclass
class Work:
    calls: int
    peak: int  # tracemalloc peak, bytes
    size: int  # bytes written by the builder
    facts: Facts

    @property
    def said(self) -> str:
        return " ".join(self.facts.warnings) + " " + (self.facts.refused or "")


def _measure(case: Case, scale: int) -> Work:
    with workdir() as d:
        target = BUILDERS[case.builder](d, scale)
        size = sum(p.stat().st_blocks * 512 for p in d.rglob("*") if p.is_file())
        calls = 0

        def count(frame: FrameType, event: str, arg: Any) -> None:
            nonlocal calls
            if event == "call":
                calls += 1

        tracemalloc.start()
        sys.setprofile(count)
        try:
            facts = inspect_path(target)
        finally:
            sys.setprofile(None)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    return Work(calls, peak, size, facts)


@contextmanager
def lowered(case: Case) -> Iterator[None]:
    module, name, value = case.limit
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(f"{module}.{name}", value)
        yield


def _flat(small: Work, big: Work, held: int) -> None:
    """Ten times the input past the limit costs about the same work, and memory
    no more than the file's own bytes twice over (a parser may hold what it read)."""
    assert big.calls <= 1.5 * small.calls + 2_000, (small.calls, big.calls)
    assert big.peak <= 2 * big.size + held, (big.peak, big.size)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_hostile_file_stops_at_its_named_limit(case: Case) -> None:
    with lowered(case):
        small = _measure(case, case.small)
        big = _measure(case, case.big)
    for work in (small, big):
        assert case.says in work.said and "limit" in work.said, work.said
        assert not any(w.startswith("inspector failed:") for w in work.facts.warnings)
    _flat(small, big, case.held)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(fuzz_settings(4), deadline=None)  # work is counted, not timed
@given(times=st.integers(2, 30))
def test_work_past_a_limit_does_not_grow_with_the_input(case: Case, times: int) -> None:
    """Any scale past the limit: the limit is named and the work stays that of
    twice the limit (generated scales, one builder per parser)."""
    scale = case.small * times // 2
    with lowered(case):
        base = _measure(case, case.small)
        work = _measure(case, scale)
    assert case.says in work.said, (scale, work.said)
    _flat(base, work, case.held)


def test_the_real_limits_are_what_the_bench_row_measures() -> None:
    """The bench row's full scales pass every real limit (so it measures the stop,
    not a file small enough to parse whole)."""
    from bench.hostile import FULL_SCALE

    from regtui.inspect import gguf, limits, protobuf_wire, pt2, ubjson, zipcheck

    assert set(FULL_SCALE) == set(BUILDERS)
    assert FULL_SCALE["XGBoost UBJ of nulls"] > ubjson.MAX_VALUES
    assert FULL_SCALE["ONNX of empty nodes"] > protobuf_wire.MAX_FIELDS
    assert FULL_SCALE["saved_model.pb of tiny fields"] > protobuf_wire.MAX_FIELDS
    assert FULL_SCALE["ONNX of long initializer names"] * 3 > protobuf_wire.MAX_FIELDS
    assert FULL_SCALE["GGUF of nested arrays"] > gguf.MAX_ITEMS
    assert FULL_SCALE["sparse GGUF of tensor infos"] * 8 > gguf.MAX_ITEMS
    assert FULL_SCALE["zip of empty entries"] > zipcheck.MAX_ENTRIES
    assert FULL_SCALE["pt2 of many weight configs"] << 20 > pt2.MAX_JSON_TOTAL
    assert FULL_SCALE["keras config of empty lists"] > limits.MAX_JSON_CONTAINERS
