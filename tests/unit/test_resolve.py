"""tree_walk.resolve against os.path.realpath(strict=True), on trees of files,
folders, FIFOs and links (relative, absolute, dangling, looping, through `..`)
that hypothesis builds, by the kernel's way and by the portable fallback."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regtui import tree_walk
from regtui.catalog.artifacts import entry_path
from regtui.errors import ArtifactError
from regtui.tree_walk import resolve
from tests.unit.fuzz.support import fuzz_settings, workdir

NAMES = ["a", "b", "c", "d"]
# What a node is: a folder, a file, a FIFO, or a link whose target is a path
# spelled from the link's folder ("..", names) or absolute into the tree.
_PARTS = st.lists(st.sampled_from([*NAMES, "..", "."]), min_size=1, max_size=4)
NODE = st.one_of(
    st.just(("dir", None)),
    st.just(("file", None)),
    st.just(("fifo", None)),
    st.tuples(st.just("rel"), _PARTS),
    st.tuples(st.just("rel"), _PARTS),
    st.tuples(st.just("abs"), _PARTS),
)
TREE = st.dictionaries(
    st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map(tuple), NODE, max_size=12
)


def build(root: Path, tree: dict[tuple[str, ...], tuple[str, list[str] | None]]) -> None:
    for parts, (kind, target) in sorted(tree.items(), key=lambda kv: len(kv[0])):
        path = root.joinpath(*parts)
        if not path.parent.is_dir() or os.path.lexists(path):
            continue  # its folder is not a folder here: the tree is what it is
        if kind == "dir":
            path.mkdir()
        elif kind == "file":
            path.write_bytes(b"x")
        elif kind == "fifo":
            os.mkfifo(path)
        else:
            assert target is not None
            spelled = os.path.join(*target)
            os.symlink(spelled if kind == "rel" else str(root / spelled), path)


def outcome(how: object, path: str) -> tuple[str, object]:
    try:
        real, st_ = how(path)  # type: ignore[operator]
    except OSError as exc:
        return "error", exc.errno if exc.errno != errno.ENOENT else "missing"
    return real, st_.st_ino


def by_realpath(path: str) -> tuple[str, os.stat_result]:
    real = os.path.realpath(path, strict=True)
    return real, os.stat(real)


@fuzz_settings(80)
@given(TREE, st.data())
def test_resolve_agrees_with_realpath(tree: dict, data: st.DataObject) -> None:
    # A path through the tree: one of its nodes (often a link), then more parts.
    keys = sorted(tree)
    start = list(data.draw(st.sampled_from(keys), label="node")) if keys else []
    more = data.draw(st.lists(st.sampled_from([*NAMES, "..", "."]), max_size=2), label="more")
    with workdir() as root:
        root = Path(os.path.realpath(root))
        build(root, tree)
        path = os.path.join(root, *start, *more)
        want = outcome(by_realpath, path)
        got = outcome(resolve, path)
        if want[0] == "error" and got[0] == "error":
            return  # both refuse; the errno may differ (realpath walks in Python)
        assert got == want, (path, tree)


@pytest.mark.parametrize("kernel", [True, False], ids=["by descriptor", "fallback"])
def test_both_ways_name_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernel: bool
) -> None:
    monkeypatch.setattr(tree_walk, "_BY_DESCRIPTOR", kernel and tree_walk._BY_DESCRIPTOR)
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "m.bin").write_bytes(b"x")
    (tmp_path / "via").symlink_to("real")
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "dangling").symlink_to("nowhere")
    real, st_ = resolve(tmp_path / "via" / ".." / "via" / "m.bin")
    assert real == str((tmp_path / "real" / "m.bin").resolve())
    assert st_.st_size == 1
    with pytest.raises(OSError) as exc:
        resolve(tmp_path / "loop")
    assert exc.value.errno == errno.ELOOP
    with pytest.raises(FileNotFoundError):
        resolve(tmp_path / "dangling")


def test_a_fifo_resolves_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    (tmp_path / "link").symlink_to(fifo)
    done: list[object] = []
    t = threading.Thread(target=lambda: done.append(resolve(tmp_path / "link")), daemon=True)
    t.start()
    t.join(5)
    assert done, "resolve blocked on a FIFO"
    # And an entry names it, then refuses it for what it is.
    with pytest.raises(ArtifactError, match="not a regular file"):
        entry_path(tmp_path / "link")


def test_a_file_unlinked_under_an_open_descriptor_is_still_resolved(tmp_path: Path) -> None:
    """The kernel names an unlinked file "… (deleted)": resolve asks the slow way."""
    p = tmp_path / "gone (deleted)"
    p.write_bytes(b"x")
    assert resolve(p)[0] == str(p)
