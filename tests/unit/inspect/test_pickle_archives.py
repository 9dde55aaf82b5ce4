"""Pickles inside archives: every zip member that a loader could unpickle is scanned
(plain zips, .npz object arrays, .keras, nested zips, duplicate entries), and a
PyTorch archive is judged by the data.pkl torch.load would read."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from regtui.inspect import inspect_path
from regtui.inspect import pickle_members as pm
from regtui.inspect.pytorch import LEGACY_MAGIC
from tests.unit.inspect.pickle_forge import (
    PROTO,
    STOP,
    call,
    glob,
    npy_object,
    spellings,
    zip_of,
)

EVIL = spellings("posix", "system")["GLOBAL-p2"]
EVIL_P0 = spellings("posix", "system")["GLOBAL-p0"]  # no PROTO: known by its name only
SAFE = pickle.dumps({"w": [1.0, 2.0]}, protocol=2)
TENSOR = (
    PROTO(2)
    + call(glob("collections", "OrderedDict"))
    + b"\x8c\x01wq\x00"  # a key, memoised
    + b"N"
    + b"s"
    + STOP
)


def _flagged(f: object) -> bool:
    meta = f.metadata  # type: ignore[attr-defined]
    return "posix.system" in meta.get("unsafe_imports", []) and meta.get("pickle_unsafe") is True


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "members"),
    [
        ("model.zip", [("model.pkl", EVIL)]),
        ("model.zip", [("README.txt", b"hi"), ("weights/anything", EVIL)]),  # by content
        ("model.zip", [("model.pkl", EVIL_P0)]),  # protocol 0: by name
        ("model.zip", [("a.pkl", SAFE), ("a.pkl", EVIL)]),  # duplicate names: both read
        ("model.zip", [("a.pkl", EVIL), ("a.pkl", SAFE)]),
        ("arrays.npz", [("w.npy", npy_object(EVIL)), ("b.npy", npy_object(SAFE))]),
        ("model.zip", [("inner.pt", zip_of([("archive/data.pkl", EVIL)]))]),  # nested
        ("model.keras", [("config.json", b"{}"), ("metadata.json", b"{}"), ("x.pkl", EVIL)]),
    ],
)
def test_pickles_inside_zip_members_are_scanned(
    tmp_path: Path, name: str, members: list[tuple[str, bytes]]
) -> None:
    f = inspect_path(_write(tmp_path, name, zip_of(members)))
    assert _flagged(f), (f.format, f.metadata, f.warnings)
    assert any("posix.system" in w and "allow-list" in w for w in f.warnings)


def test_a_compressed_nested_zip_is_scanned_too(tmp_path: Path) -> None:
    import zipfile

    inner = zip_of([("archive/data.pkl", EVIL)], zipfile.ZIP_DEFLATED)
    f = inspect_path(_write(tmp_path, "m.zip", zip_of([("x.pt", inner)], zipfile.ZIP_DEFLATED)))
    assert _flagged(f)


def test_plain_npz_arrays_and_safe_pickles_are_not_flagged(tmp_path: Path) -> None:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, w=np.arange(10.0), b=np.zeros((2, 3), dtype="<i4"))
    f = inspect_path(_write(tmp_path, "a.npz", buf.getvalue()))
    assert "unsafe_imports" not in f.metadata and "pickle_unsafe" not in f.metadata
    f = inspect_path(_write(tmp_path, "b.zip", zip_of([("m.pkl", SAFE)])))
    assert "unsafe_imports" not in f.metadata


def test_too_many_pickles_in_a_zip_are_refused_not_skipped(tmp_path: Path) -> None:
    members = [(f"m{i}.pkl", SAFE) for i in range(pm.MAX_MEMBERS)] + [("z.pkl", EVIL)]
    f = inspect_path(_write(tmp_path, "m.zip", zip_of(members)))
    assert f.refused and f"over {pm.MAX_MEMBERS} pickles" in f.refused


# ------------------------------------------------------------------ PyTorch archives


def _torch(entries: list[tuple[str, bytes]]) -> bytes:
    return zip_of(entries)


@pytest.mark.parametrize(
    "entries",
    [
        # two top-level folders: torch reads the folder of the FIRST entry (b/)
        [("b/version", b"3\n"), ("a/data.pkl", SAFE), ("a/version", b"3\n"),
         ("b/data.pkl", EVIL), ("b/data/0", b"\0" * 8)],
        # the same name twice: torch (miniz) reads the first, Python's zipfile the last
        [("archive/version", b"3\n"), ("archive/data.pkl", EVIL), ("archive/data.pkl", SAFE)],
        [("archive/version", b"3\n"), ("archive/data.pkl", SAFE), ("archive/data.pkl", EVIL)],
        # a second folder torch never reads still holds a whole evil pickle: flagged
        [("a/version", b"3\n"), ("a/data.pkl", SAFE), ("z/data.pkl", EVIL)],
        # TorchScript constants, and a pickle hidden as a storage record
        [("m/version", b"3\n"), ("m/data.pkl", SAFE), ("m/constants.pkl", EVIL)],
        [("m/version", b"3\n"), ("m/data.pkl", SAFE), ("m/data/0", EVIL)],
    ],
)  # fmt: skip
def test_torch_archives_are_judged_by_what_torch_reads(
    tmp_path: Path, entries: list[tuple[str, bytes]]
) -> None:
    f = inspect_path(_write(tmp_path, "model.pt", _torch(entries)))
    assert f.framework == "torch" and _flagged(f), (f.metadata, f.warnings)


def test_torch_reads_the_first_entrys_folder(tmp_path: Path) -> None:
    entries = [("b/version", b"3\n"), ("a/data.pkl", EVIL), ("b/data.pkl", TENSOR)]
    f = inspect_path(_write(tmp_path, "model.pt", _torch(entries)))
    # the metadata is b/data.pkl's (what torch loads); a/data.pkl is still named unsafe
    assert f.format == "pytorch" and "collections.OrderedDict" in f.metadata["imports"]
    assert any("2 data.pkl entries" in w and "b/data.pkl" in w for w in f.warnings)
    assert _flagged(f)


def test_an_archive_torch_cannot_load_is_still_scanned(tmp_path: Path) -> None:
    entries = [("top.txt", b"x"), ("a/data.pkl", EVIL)]  # first entry has no folder
    f = inspect_path(_write(tmp_path, "model.pt", _torch(entries)))
    assert any("torch.load would not find data.pkl" in w for w in f.warnings)
    assert _flagged(f)


def test_random_bytes_in_storage_records_raise_no_false_alarm(tmp_path: Path) -> None:
    # tensor bytes that happen to start like a pickle are not a pickle torch reads
    noise = b"\x80\x02" + b"c" + b"\x00\x01" * 50
    entries = [("m/version", b"3\n"), ("m/data.pkl", SAFE), ("m/data/0", noise)]
    f = inspect_path(_write(tmp_path, "model.pt", _torch(entries)))
    assert "unsafe_imports" not in f.metadata, f.warnings


@pytest.mark.parametrize("position", range(5))
def test_legacy_torch_evil_in_any_of_its_five_pickles(tmp_path: Path, position: int) -> None:
    parts = [LEGACY_MAGIC + b".", pickle.dumps(1001, 2), pickle.dumps({"little_endian": True}, 2),
             pickle.dumps({}, 2), pickle.dumps([], 2)]  # fmt: skip
    parts[position] = EVIL  # torch.load unpickles each before it checks it
    f = inspect_path(_write(tmp_path, "model.pt", b"".join(parts)))
    assert _flagged(f), (position, f.metadata, f.warnings)


@pytest.mark.parametrize(
    ("records", "expect"),
    [
        ([("archive/version", b"3\n"), ("archive/byteorder", b"big")], {"byteorder": "big"}),
        ([("archive/.data/version", b"3\n")], {"archive_version": 3}),
        ([], "no version record: torch.load refuses"),
        ([("archive/version", b"three")], "version record is not a number"),
        (
            [("archive/version", b"3"), ("archive/byteorder", b"middle")],
            "neither 'little' nor 'big'",
        ),
        # records of another folder are not the archive's: torch never reads them
        ([("other/version", b"3")], "no version record"),
    ],
)
def test_torch_version_and_byteorder_records_are_read_as_torch_reads_them(
    tmp_path: Path, records: list[tuple[str, bytes]], expect: dict[str, object] | str
) -> None:
    entries = [("archive/data.pkl", TENSOR), *records]
    f = inspect_path(_write(tmp_path, "model.pt", _torch(entries)))
    assert f.format == "pytorch"
    if isinstance(expect, dict):
        assert expect.items() <= f.metadata.items()
    else:
        assert any(expect in w for w in f.warnings), f.warnings


def test_a_bundle_holding_an_unsafe_pickle_is_unsafe(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text(
        "flavors:\n  sklearn: {pickled_model: model.pkl, serialization_format: pickle}\n"
    )
    (folder / "model.pkl").write_bytes(spellings("numpy", "save")["STACK_GLOBAL-UNICODE-escaped"])
    f = inspect_path(folder)
    assert f.metadata["pickle_unsafe"] is True
    assert f.metadata["files"][0]["unsafe_imports"] == ["numpy.save"]


def test_pickles_past_the_pt2_scan_limit_make_it_unsafe(tmp_path: Path) -> None:
    from regtui.inspect import pt2

    members = [("m/archive_format", b"pt2")]
    members += [(f"m/data/sample_inputs/x{i}.pt", SAFE) for i in range(pt2.MAX_PICKLES + 1)]
    f = inspect_path(_write(tmp_path, "model.pt2", zip_of(members)))
    assert f.metadata["pickle_unsafe"] is True
    assert any("pickles not scanned" in n for n in f.metadata["unsafe_imports"])


def test_any_other_pickle_in_a_pt2_archive_is_scanned(tmp_path: Path) -> None:
    members = [("m/archive_format", b"pt2"), ("m/extra/notes.pkl", EVIL)]
    f = inspect_path(_write(tmp_path, "model.pt2", zip_of(members)))
    assert f.format == "pytorch-export" and _flagged(f)
