"""Scans report per entry and always finish.

A symlink loop, folders nested past the depth limit, a folder that cannot be
listed, a file that cannot be opened, a FIFO or device named like a model, a name
that is not UTF-8: each is exactly one refused line (in `scan`, `scan --json` and
the watcher's catch-up), and everything else under the root is registered.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui import hashing, tree_walk
from regtui.catalog.records import ScanItem
from regtui.catalog.scan import find_artifacts, scan
from regtui.catalog.service import Catalog
from regtui.errors import ArtifactError
from regtui.tree_walk import MAX_DEPTH, Skipped
from tests.support.hypothesis_runs import examples
from tests.unit.inspect.helpers import safetensors_bytes


def weights(i: int) -> bytes:
    return safetensors_bytes({"w": ("F32", [4])}, {"i": str(i)})


def nest(top: Path, levels: int, name: str = "d") -> Path:
    """`levels` folders one inside the other under `top`, made without recursion
    (os.makedirs recurses and fails past ~1,000 levels)."""
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(levels):
            os.mkdir(name, dir_fd=fd)
            sub = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = sub
    finally:
        os.close(fd)
    return top.joinpath(*[name] * levels)


LINES = {"loop": 2}  # a loop of two links is two entries, each refused


def unnest(bottom: Path, top: Path) -> None:
    """Remove what nest made, bottom up (pytest's own clean-up recurses)."""
    for p in bottom.iterdir():
        p.unlink()
    while bottom != top:
        os.rmdir(bottom)
        bottom = bottom.parent


def bad_entry(folder: Path, kind: str, i: int) -> str:
    """Make one bad entry of `kind` in `folder` (LINES says when it is more than
    one); returns the text its refused line must carry in its detail."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "loop":
        (folder / f"a{i}.onnx").symlink_to(f"b{i}.onnx")
        (folder / f"b{i}.onnx").symlink_to(f"a{i}.onnx")
        return "symlink loop"
    if kind == "self-loop":
        (folder / f"self{i}.safetensors").symlink_to(f"self{i}.safetensors")
        return "symlink loop"
    if kind == "dangling":
        (folder / f"gone{i}.safetensors").symlink_to(f"missing{i}.safetensors")
        return "broken symlink"
    if kind == "fifo":
        os.mkfifo(folder / f"pipe{i}.safetensors")
        return "FIFO"
    if kind == "not-utf8":
        name = os.fsdecode(b"w\xff\xfe%d.safetensors" % i)
        (folder / name).write_bytes(weights(1000 + i))
        return "not valid UTF-8"
    if kind == "not-utf8-folder":
        sub = folder / os.fsdecode(b"run\xe9%d" % i)
        sub.mkdir()
        (sub / "model.safetensors").write_bytes(weights(2000 + i))
        return "not valid UTF-8"
    if kind == "deep":
        bottom = nest(folder, MAX_DEPTH + 5, f"n{i}")
        (bottom / "model.safetensors").write_bytes(weights(3000 + i))
        return f"deeper than {MAX_DEPTH}"
    raise AssertionError(kind)


BAD_KINDS = ["loop", "self-loop", "dangling", "fifo", "not-utf8", "not-utf8-folder", "deep"]
# Followed by nothing: a link to a folder (even an ancestor: a loop for a walker
# that followed it) is not an artifact and says nothing.
SILENT = ["ancestor-link"]

places = st.lists(st.sampled_from(["", "a", "a/b", "c", "c/d/e"]), min_size=1, max_size=4)


def outcomes(items: list[ScanItem]) -> dict[str, list[ScanItem]]:
    by: dict[str, list[ScanItem]] = {}
    for item in items:
        by.setdefault(item.outcome, []).append(item)
    return by


@settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    good=places,
    bad=st.lists(st.tuples(st.sampled_from(BAD_KINDS), places.map(lambda p: p[0])), max_size=4),
    silent=st.booleans(),
)
def test_a_scan_finishes_with_one_refused_line_per_bad_entry(
    tmp_path_factory: pytest.TempPathFactory,
    good: list[str],
    bad: list[tuple[str, str]],
    silent: bool,
) -> None:
    base = tmp_path_factory.mktemp("scan")
    root = base / "root"
    root.mkdir()
    for i, where in enumerate(good):
        (root / where).mkdir(parents=True, exist_ok=True)
        (root / where / f"model{i}.safetensors").write_bytes(weights(i))
    expected = [bad_entry(root / where, kind, i) for i, (kind, where) in enumerate(bad)]
    if silent:
        (root / "a").mkdir(exist_ok=True)
        (root / "a" / "up").symlink_to(root, target_is_directory=True)
    cat = Catalog(str(base / "catalog.sqlite"))
    items = scan(cat, [root], "m")
    by = outcomes(items)
    assert set(by) <= {"registered", "refused"}, items
    assert len(by.get("registered", [])) == len(good)
    refused = by.get("refused", [])
    assert len(refused) == sum(LINES.get(kind, 1) for kind, _ in bad), refused
    for reason in expected:
        assert any(reason in item.detail for item in refused), (reason, refused)
    for item in refused:
        item.path.encode("utf-8")  # printable and storable
        assert "\n" not in item.detail
    assert len(cat.versions("m")) == len(good)


def test_a_folder_nested_far_past_the_limit_is_one_line_and_the_rest_registers(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "top.safetensors").write_bytes(weights(1))
    bottom = nest(root, 1_100)
    (bottom / "deep.safetensors").write_bytes(weights(2))
    request.addfinalizer(lambda: unnest(bottom, root))
    (root / "z").mkdir()
    (root / "z" / "last.safetensors").write_bytes(weights(3))
    found = list(find_artifacts(root))
    skipped = [f for f in found if isinstance(f, Skipped)]
    assert len(skipped) == 1 and f"deeper than {MAX_DEPTH}" in skipped[0].reason
    assert len(skipped[0].path.relative_to(root).parts) == MAX_DEPTH
    assert sorted(p.name for p in found if isinstance(p, Path)) == [
        "last.safetensors",
        "top.safetensors",
    ]
    items = scan(Catalog(str(tmp_path / "catalog.sqlite")), [root], "m")
    assert [i.outcome for i in items].count("registered") == 2
    assert [i.outcome for i in items].count("refused") == 1
    # A bundle nested that deep is refused with the limit, not a recursion error.
    with pytest.raises(ArtifactError, match=f"deeper than {MAX_DEPTH}"):
        hashing.hash_tree(root)


@pytest.mark.parametrize("what", ["folder", "file", "root-child-folder"])
def test_what_cannot_be_read_is_one_refused_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    """The tests run as root, whom chmod 000 does not stop (and the interpreter
    is not readable by another user), so the refusal of the operating system is
    simulated where regtui meets it: listing a folder, opening a file."""
    root = tmp_path / "root"
    (root / "ok").mkdir(parents=True)
    (root / "ok" / "model.safetensors").write_bytes(weights(1))
    locked = root / ("locked" if what != "root-child-folder" else "ok/locked")
    locked.mkdir()
    (locked / "model.safetensors").write_bytes(weights(2))
    denied = locked if what != "file" else locked / "model.safetensors"
    if what == "file":
        real_open = hashing.open_regular

        def open_regular(path: Path) -> int:
            if Path(path) == denied:
                raise ArtifactError(f"{path}: cannot open: Permission denied")
            return real_open(path)

        monkeypatch.setattr(hashing, "open_regular", open_regular)
    else:
        real_listing = tree_walk.listing

        def listing(folder: Path) -> list[os.DirEntry[str]]:
            if Path(folder) == denied:
                raise PermissionError(13, "Permission denied")
            return real_listing(folder)

        monkeypatch.setattr(tree_walk, "listing", listing)
    items = scan(Catalog(str(tmp_path / "catalog.sqlite")), [root], "m")
    by = outcomes(items)
    assert len(by["registered"]) == 1
    (line,) = by["refused"]
    assert line.path == str(denied) and "Permission denied" in line.detail
