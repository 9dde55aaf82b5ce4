"""Shared machinery for the parser fuzz tests.

Every property test here checks the same contract of `inspect_path` (README.md,
"Who is trusted": an artifact never is): no exception escapes, the call is fast, memory
stays bounded whatever the file claims, and the Facts are JSON-serialisable and
small. Runs are reproducible by default and explore at random with ten times the
examples under REGTUI_FULL=1 (tests/support/hypothesis_runs.py).
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import struct
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from regtui.inspect import Facts, inspect_path, is_artifact_candidate
from tests.support.hypothesis_runs import examples

SAMPLES = Path(__file__).resolve().parents[3] / "sample_models"
RUNS = SAMPLES / "runs"
HOSTILE = SAMPLES / "hostile"

PEAK_LIMIT = 32 << 20  # tracemalloc peak allowed for one inspection
SECONDS_LIMIT = 2.0  # wall time allowed for one inspection (also the hypothesis deadline)
FACTS_JSON_LIMIT = 4 << 20  # a catalog row must stay small

# A warning that says a parser raised something it did not expect: that is a bug
# even though inspect_path's last-resort handler kept it from escaping.
_LAST_RESORT = "inspector failed:"

# Crashes already reported, each reproduced by a strict xfail in test_known_bugs.py.
# Tolerated here so that the broad fuzz tests keep guarding everything else; when a
# bug is fixed, its xfail turns into a failure and its pattern should go too.
KNOWN_CRASHES: list[re.Pattern[str]] = []


def fuzz_settings(count: int) -> settings:
    """Modest settings on top of the run's profile (derandomized unless REGTUI_FULL=1);
    the deadline is per example."""
    return settings(
        max_examples=examples(count),
        deadline=int(SECONDS_LIMIT * 1000),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@contextmanager
def workdir() -> Iterator[Path]:
    """A fresh folder per hypothesis example (function-scoped fixtures are not reset
    between examples, so tmp_path cannot be used)."""
    folder = Path(tempfile.mkdtemp(prefix="regtui-fuzz-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def sparse(path: Path, head: bytes, size: int) -> Path:
    """A file of `size` bytes that costs only `head` on disk (the rest is a hole)."""
    with path.open("wb") as fh:
        fh.write(head)
        fh.truncate(max(size, len(head)))
    return path


def facts_json(facts: Facts) -> str:
    # allow_nan=False: NaN/inf are not JSON and would not survive the catalog round trip
    return json.dumps(dataclasses.asdict(facts), allow_nan=False)


def check_facts(facts: Facts, *, allow_known: bool = True) -> None:
    """Properties every Facts must have, whatever the input. `allow_known=False`
    also fails on the crashes listed in KNOWN_CRASHES (for their reproducers)."""
    assert isinstance(facts, Facts)
    crashed = [
        w
        for w in facts.warnings
        if w.startswith(_LAST_RESORT)
        and not (allow_known and any(k.match(w) for k in KNOWN_CRASHES))
    ]
    assert not crashed, f"a parser raised past its own error handling: {crashed}"
    text = facts_json(facts)
    assert len(text) < FACTS_JSON_LIMIT, f"facts are {len(text)} bytes of JSON"
    assert len(facts.warnings) <= 51
    if facts.damage is not None:  # one bounded line, and never "proven complete" too
        assert facts.damage and "\n" not in facts.damage and len(facts.damage) <= 700
        assert not facts.complete, "damaged bytes reported complete"


def inspect_checked(path: Path, root: Path | None = None, peak: int = PEAK_LIMIT) -> Facts:
    """inspect_path under a clock and tracemalloc, with every property asserted."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        facts = inspect_path(path, root=root)
    finally:
        elapsed = time.perf_counter() - start
        used = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert used < peak, f"tracemalloc peak {used >> 20} MiB inspecting {path.name}"
    # tracemalloc slows Python code several times over, so this bound is loose
    assert elapsed < SECONDS_LIMIT * 3, f"{elapsed:.2f}s inspecting {path.name}"
    check_facts(facts)
    return facts


def expect_only(call: Callable[[], Any], *allowed: type[BaseException]) -> Any:
    """Run a low-level parser entry point: it may raise only its documented errors."""
    try:
        return call()
    except allowed:
        return None


# ----------------------------------------------------------------- strategies

# Lengths and counts a hostile header likes to claim.
HOSTILE_INTS = st.sampled_from(
    [0, 1, 2, 7, 8, 255, 256, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
     1 << 32, 1 << 40, (1 << 60), (1 << 63) - 1, 1 << 63, (1 << 64) - 1]
)  # fmt: skip
U64 = st.one_of(HOSTILE_INTS, st.integers(0, (1 << 64) - 1))
U32 = st.one_of(
    st.sampled_from([0, 1, 2, 8, 255, 0x7FFFFFFF, 0xFFFFFFFF]), st.integers(0, 0xFFFFFFFF)
)

NASTY_TEXT = st.sampled_from(
    ["", "[@click=app.quit]", "[red]x", "[", "\x1b[31m", "\x1b]0;t\x07", "\x9b2J", "\u202e",
     "\u2066", "\x00", "é" * 3, "../../etc/passwd", "/abs", "a" * 5000]
)  # fmt: skip
TEXT = st.one_of(NASTY_TEXT, st.text(max_size=40))

# JSON-like values, including the shapes parsers mis-handle (wrong types, nesting).
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(1 << 70), 1 << 70),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(TEXT, inner, max_size=5)),
    max_leaves=20,
)


def pack(fmt: str, value: int) -> bytes:
    """struct.pack with the value wrapped to the field width (hostile ints overflow)."""
    bits = struct.calcsize(fmt) * 8
    value %= 1 << bits
    if fmt[-1].islower() and value >= 1 << (bits - 1):
        value -= 1 << bits
    return struct.pack(fmt, value)


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, max_ops: int = 4) -> bytes:
    """`seed` with a few mutations: byte flips, truncation, inserted or deleted runs,
    spliced copies of itself and length fields overwritten with hostile integers.
    Positions favour the first 512 bytes, where headers live."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, max_ops))):
        if not data:
            data += draw(st.binary(min_size=1, max_size=16))
            continue
        n = len(data)
        pos = draw(st.one_of(st.integers(0, min(511, n - 1)), st.integers(0, n - 1)))
        op = draw(st.sampled_from(["flip", "set", "cut", "insert", "delete", "splice", "int"]))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[pos] = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF]))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "splice":
            src = draw(st.integers(0, n - 1))
            data[pos:pos] = data[src : src + draw(st.integers(1, 256))]
        else:
            fmt = draw(st.sampled_from(["<I", "<Q", ">I", ">q", "<i"]))
            raw = pack(fmt, draw(HOSTILE_INTS))
            data[pos : pos + len(raw)] = raw
    return bytes(data)


def sample_files(*suffixes: str) -> list[Path]:
    """Real sample artifacts (and hostile ones) with the given suffixes, sorted."""
    found = [
        p
        for base in (RUNS, HOSTILE)
        for p in base.rglob("*")
        if p.is_file()
        and not p.is_symlink()
        and p.suffix in suffixes
        and (base == HOSTILE or is_artifact_candidate(p))  # no sidecars, tokenizers
    ]
    return sorted(found)


def seed_bytes(*suffixes: str) -> list[tuple[str, bytes]]:
    """(name, bytes) of distinct sample files, cheapest first."""
    seen: set[bytes] = set()
    out = []
    for p in sorted(sample_files(*suffixes), key=lambda p: p.stat().st_size):
        data = p.read_bytes()
        if data not in seen and len(data) < 200_000:
            seen.add(data)
            out.append((p.name, data))
    return out


def assert_no_escape_in(text: str) -> None:
    assert not re.search("[\x1b\x80-\x9f\u202a-\u202e\u2066-\u2069]", text)
