"""The pickle scanner names every import exactly as pickle would make it, judges it as an
exact (module, qualname) pair, and hides nothing behind a cap.

The oracle (`pickle_forge.Recorder`) is the C unpickler with an inert find_class:
generated opcode programs run through it and through the scanner, and whatever
pickle would import must be named by the scanner or make it call the pickle unsafe."""

from __future__ import annotations

import gzip
import io
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.inspect import inspect_path, pickle_machine
from regtui.inspect import pickle_scan as ps
from regtui.inspect.pickle_allow import RELOADERS, is_allowed
from regtui.inspect.pickle_scan import scan_pickle
from tests.support.hypothesis_runs import examples
from tests.unit.inspect.pickle_forge import (
    DUP,
    EMPTY_TUPLE,
    MARK,
    POP,
    PROTO,
    REDUCE,
    STACK_GLOBAL,
    STOP,
    STRINGS,
    TUPLE,
    call,
    get,
    glob,
    imports_of,
    put,
    spellings,
)

# Pairs outside the allow-list, many of them under a package whose other names are allowed.
DANGEROUS = [
    ("posix", "system"),
    ("builtins", "exec"),
    ("builtins", "getattr"),
    ("numpy", "save"),  # writes a file; under an allowed package
    ("uuid", "_get_command_stdout"),  # runs a program
    ("torch.storage", "_load_from_bytes"),  # torch.load again
    ("pandas", "read_pickle"),
    ("numpy.core.multiarray", "os"),  # a re-export under an allowed module
    ("joblib.numpy_pickle", "NDArrayWrapper"),  # reads a side file
    ("builtins", "ēval"),  # non-ASCII: UTF-8 as GLOBAL decodes it
]
ALLOWED = [
    ("collections", "OrderedDict"),
    ("numpy", "dtype"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("sklearn.tree._tree", "Tree"),
]
SPELLINGS = list(spellings("m", "n"))


def _scan(data: bytes) -> ps.PickleScan:
    return scan_pickle(io.BytesIO(data))


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize(("module", "name"), DANGEROUS)
def test_every_spelling_of_a_dangerous_import_is_named(
    module: str, name: str, spelling: str
) -> None:
    data = spellings(module, name).get(spelling)
    if data is None:
        pytest.skip("a byte string cannot spell a non-ASCII name")
    seen, _ok = imports_of(data)
    scan = _scan(data)
    assert scan.dangerous
    if seen:  # the oracle: what pickle would import
        assert seen == [(module, name)]
        assert f"{module}.{name}" in scan.unsafe, (scan.globals, scan.error)
    else:  # pickle refuses the spelling (INST is ASCII only): so does the scanner
        assert scan.error and not scan.globals


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize(("module", "name"), ALLOWED)
def test_allowed_pairs_stay_allowed_in_every_spelling(
    module: str, name: str, spelling: str
) -> None:
    scan = _scan(spellings(module, name)[spelling])
    assert list(scan.globals) == [f"{module}.{name}"]
    assert not scan.dangerous, (scan.unsafe_names, scan.error)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("collections", "os"),
        ("numpy", "os"),
        ("torch.serialization", "os"),
        ("torch.serialization", "load"),
        ("pathlib", "os.system"),  # dotted (protocol 4 follows it)
        ("builtins", "dict.fromkeys"),
        ("numpy", "dtype.__init__"),
        ("collections", "OrderedDict.__init__.__globals__"),
        ("sklearn.tree._tree", "Tree.__reduce__"),
        ("numpy.testing._private.utils", "runstring"),
        ("sklearn.utils", "Parallel"),
        ("torch", "load"),
        ("torch._utils", "_rebuild_tensor_v2.__globals__"),
    ],
)
def test_reexports_and_dotted_paths_under_allowed_modules_are_not_allowed(
    module: str, name: str
) -> None:
    assert not is_allowed(module, name)
    for data in (spellings(module, name)["GLOBAL-p4"], spellings(module, name)["memo-BINPUT"]):
        assert f"{module}.{name}" in _scan(data).unsafe


@pytest.mark.parametrize(
    ("prelude", "module", "name", "safe"),
    [
        (b"", "__builtin__", "set", True),  # protocol 0: fix_imports maps it to builtins.set
        (PROTO(2), "copy_reg", "_reconstructor", True),
        (PROTO(2), "__builtin__", "eval", False),
        (PROTO(2), "__builtin__", "getattr", False),
        (PROTO(4), "copy_reg", "_reconstructor", False),  # no mapping from protocol 3 on
        (PROTO(4) + PROTO(2), "__builtin__", "set", True),  # the last PROTO counts
        (PROTO(2) + PROTO(4), "__builtin__", "set", False),
    ],
)
def test_python2_names_are_judged_after_pickles_own_mapping(
    prelude: bytes, module: str, name: str, safe: bool
) -> None:
    scan = _scan(prelude + glob(module, name) + STOP)
    assert list(scan.globals) == [f"{module}.{name}"]
    assert scan.dangerous is not safe


@pytest.mark.parametrize("pair", sorted(RELOADERS))
def test_loaders_that_unpickle_or_run_code_again_are_named(
    tmp_path: Path, pair: tuple[str, str]
) -> None:
    path = tmp_path / "m.pkl"
    path.write_bytes(PROTO(4) + call(glob(*pair), STRINGS["SHORT_BINUNICODE"]("x")) + STOP)
    f = inspect_path(path)
    name = ".".join(pair)
    assert f.metadata["unsafe_imports"] == [name] and f.metadata["pickle_unsafe"] is True
    assert any(f"{name} (loads another pickle or runs code)" in w for w in f.warnings)


def test_nothing_is_hidden_after_many_imports(tmp_path: Path) -> None:
    many = b"".join(glob(f"pkg{i}", "Thing") + POP for i in range(600))
    path = tmp_path / "m.pkl"
    path.write_bytes(PROTO(4) + many + call(glob("posix", "system"), b"S'x'\n") + STOP)
    f = inspect_path(path)
    # the metadata keeps 100 names: the known-dangerous one comes first, the count is whole
    assert f.metadata["unsafe_imports"][0] == "posix.system"
    assert f.metadata["unsafe_import_count"] == 601 and f.metadata["pickle_unsafe"] is True
    assert any("allow-list" in w and "posix.system" in w and "581 more" in w for w in f.warnings)


@pytest.mark.parametrize("size", [70_000, 2_000_000])
@pytest.mark.parametrize("kind", ["UNICODE", "STRING", "BINUNICODE"])
def test_long_text_before_an_import_does_not_hide_it(tmp_path: Path, kind: str, size: int) -> None:
    long = STRINGS[kind]("a" * size) + POP
    path = tmp_path / "m.pkl"
    path.write_bytes(PROTO(4) + long + call(stack_global_of("posix", "system"), b"N") + STOP)
    f = inspect_path(path)
    assert f.metadata["unsafe_imports"] == ["posix.system"], f.warnings
    assert f.damage is None and f.refused is None


def stack_global_of(module: str, name: str) -> bytes:
    return STRINGS["SHORT_BINUNICODE"](module) + STRINGS["SHORT_BINUNICODE"](name) + STACK_GLOBAL


def test_a_long_string_used_as_a_name_is_unsafe() -> None:
    # skipped (not read), so not known: the import it names cannot be trusted
    data = PROTO(4) + STRINGS["BINUNICODE"]("b" * 100_000) + STRINGS["BINUNICODE"]("x")
    scan = _scan(data + STACK_GLOBAL + STOP)
    assert scan.dangerous and scan.unresolved == 1


def test_too_many_distinct_imports_is_refused_naming_the_limit(tmp_path: Path) -> None:
    names = b"".join(
        glob("collections", f"N{i}") + POP for i in range(pickle_machine.MAX_GLOBALS + 1)
    )
    path = tmp_path / "m.pkl"
    path.write_bytes(PROTO(4) + names + b"N" + STOP)
    f = inspect_path(path)
    assert f.refused and f"over {pickle_machine.MAX_GLOBALS} distinct imports" in f.refused
    assert "treated as unsafe" in f.refused


def test_too_many_opcodes_is_refused_naming_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pickle_machine, "MAX_OPS", 1_000)  # read where the walk counts
    path = tmp_path / "m.pkl"
    # the import comes after the limit: it must not pass as "imports nothing"
    path.write_bytes(PROTO(4) + (b"N" + POP) * 600 + glob("posix", "system") + STOP)
    f = inspect_path(path)
    assert f.refused and "over 1000 opcodes" in f.refused
    scan = _scan(path.read_bytes())
    assert scan.over_limit and scan.dangerous and not scan.complete


def test_compressed_pickle_past_the_inflate_cap_is_refused(tmp_path: Path) -> None:
    body = PROTO(4) + b"\x8e" + struct.pack("<Q", 65 << 20) + bytes(65 << 20) + POP
    path = tmp_path / "m.joblib"
    path.write_bytes(gzip.compress(body + glob("posix", "system") + STOP, 1))
    f = inspect_path(path)
    assert f.refused and "too large to scan whole" in f.refused


@pytest.mark.parametrize("name", ["model.joblib", "model.gz", "weights.dat", "model"])
@pytest.mark.parametrize("compress", [gzip.compress, __import__("zlib").compress,
                                      __import__("lzma").compress, __import__("bz2").compress])  # fmt: skip
def test_compressed_pickles_are_scanned_whatever_their_name(
    tmp_path: Path, name: str, compress: object
) -> None:
    path = tmp_path / name
    path.write_bytes(compress(spellings("posix", "system")["GLOBAL-p4"]))  # type: ignore[operator]
    f = inspect_path(path)
    assert f.metadata.get("unsafe_imports") == ["posix.system"], (f.format, f.warnings)


def test_compressed_data_that_is_no_pickle_is_not_flagged(tmp_path: Path) -> None:
    path = tmp_path / "logs.gz"
    path.write_bytes(gzip.compress(b"just some text\n" * 100))
    f = inspect_path(path)
    assert f.format == "unknown" and "unsafe_imports" not in f.metadata


def test_extension_codes_are_unsafe() -> None:
    scan = _scan(PROTO(2) + b"\x82\x01" + EMPTY_TUPLE + REDUCE + STOP)
    assert scan.dangerous and "<copyreg extension code 1>" in scan.unsafe_names


def test_a_malformed_pickle_is_unsafe_not_plain_data() -> None:
    # the scan stops where pickle would; anything it could not decode is not trusted
    for data in (PROTO(4) + b"\xff", PROTO(4) + b"X\x02\x00\x00\x00\xff\xfe" + STOP,
                 PROTO(4) + b"S'unquoted\n" + STOP, PROTO(4) + POP + STOP):  # fmt: skip
        scan = _scan(data)
        assert scan.error and not scan.truncated and scan.dangerous, data
        meta, warnings = ps.describe(scan)  # what archives and bundles carry on
        assert "<pickle scan incomplete>" in meta["unsafe_imports"] and meta["pickle_unsafe"]
        assert any("treat as unsafe" in w for w in warnings)


# ---------------------------------------------------------------- generated programs

_WORDS = ["posix", "system", "builtins", "set", "eval", "collections", "OrderedDict", "numpy",
          "save", "os", "ē", "copy_reg", "_reconstructor", "__builtin__"]  # fmt: skip
_STRING = st.builds(lambda kind, w: STRINGS[kind](w), st.sampled_from(sorted(STRINGS)),
                    st.sampled_from([w for w in _WORDS if w.isascii()]))  # fmt: skip
_FRAGMENT = st.one_of(
    _STRING,
    st.builds(lambda w: STRINGS["SHORT_BINUNICODE"](w), st.sampled_from(_WORDS)),
    st.builds(put, st.integers(0, 3), st.sampled_from(["PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"])),
    st.builds(get, st.integers(0, 3), st.sampled_from(["GET", "BINGET", "LONG_BINGET"])),
    st.builds(glob, st.sampled_from(_WORDS), st.sampled_from(_WORDS)),
    st.sampled_from(
        [
            DUP,
            POP,
            MARK,
            b"1",
            TUPLE,
            b"\x85",
            b"\x86",
            b"\x87",
            EMPTY_TUPLE,
            STACK_GLOBAL,
            STACK_GLOBAL,
            REDUCE,
            b"N",
            b"]",
            b"a",
            b"}",
            b"s",
            b"b",
            b"\x81",
            b"o",
            PROTO(2),
            PROTO(4),
            b"\x82\x01",
            b"Q",
        ]
    ),
)


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_FRAGMENT, max_size=24))
def test_generated_programs_every_import_pickle_makes_is_named_or_unsafe(
    fragments: list[bytes],
) -> None:
    data = b"".join(fragments) + STOP
    seen, _ok = imports_of(data)
    scan = _scan(data)
    for module, name in seen:
        assert f"{module}.{name}" in scan.globals or scan.dangerous, (data, seen, scan)
    if not scan.dangerous:  # called safe: pickle imports only allowed pairs
        assert all(f"{m}.{n}" not in scan.unsafe_names for m, n in seen), (data, seen)
        assert all(f"{m}.{n}" in scan.globals for m, n in seen)


def _joblib_with_array(array: bytes) -> bytes:
    """A joblib-style pickle: a NumpyArrayWrapper whose raw bytes follow its BUILD."""
    u = STRINGS["SHORT_BINUNICODE"]
    dtype = call(glob("numpy", "dtype"), u("u1"), b"\x89", b"\x88")
    state = (b"}" + MARK + u("shape") + b"K" + bytes([len(array)]) + b"\x85" + u("dtype") + dtype
             + u("order") + u("C") + b"u")  # fmt: skip
    wrapper = glob("joblib.numpy_pickle", "NumpyArrayWrapper") + EMPTY_TUPLE + b"\x81"
    return PROTO(2) + wrapper + state + b"b" + array + STOP


@pytest.mark.parametrize("compress", [None, gzip.compress])
def test_joblib_array_bytes_read_as_opcodes_by_plain_pickle_load(
    tmp_path: Path, compress: object
) -> None:
    # joblib.load skips the array bytes; pickle.load runs them: both readings count
    hidden = POP + glob("posix", "system") + MARK + STRINGS["STRING"]("x") + TUPLE + REDUCE
    data = _joblib_with_array(hidden)
    scan = _scan(data)
    assert scan.joblib_arrays == 1 and "posix.system" not in scan.globals  # joblib's reading
    path = tmp_path / "m.joblib"
    path.write_bytes(compress(data) if compress else data)  # type: ignore[operator]
    f = inspect_path(path)
    assert any(n.startswith("posix.system") for n in f.metadata["unsafe_imports"]), f.metadata
    assert f.metadata["pickle_unsafe"] is True


def test_a_real_joblib_array_is_not_read_as_opcodes(tmp_path: Path) -> None:
    path = tmp_path / "m.joblib"
    path.write_bytes(_joblib_with_array(bytes(range(40, 90))))
    f = inspect_path(path)
    assert "unsafe_imports" not in f.metadata, f.metadata


@pytest.mark.parametrize("spelling", ["GLOBAL-p0", "GLOBAL-p2", "INST"])
def test_every_pickle_in_a_row_is_scanned(tmp_path: Path, spelling: str) -> None:
    # a loader may call load() again: what follows the first STOP counts too
    first = spellings("collections", "OrderedDict")[spelling]
    path = tmp_path / "m.pkl"
    path.write_bytes(first + spellings("posix", "system")[spelling])
    assert inspect_path(path).metadata["unsafe_imports"] == ["posix.system"]
    path.write_bytes(first * ps.MAX_PICKLES + spellings("posix", "system")[spelling])
    f = inspect_path(path)
    assert f.refused and f"over {ps.MAX_PICKLES} pickles in a row" in f.refused
