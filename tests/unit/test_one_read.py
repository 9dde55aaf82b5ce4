"""One file, one read: the facts and the sha256 of a version come from one file.

An artifact is swapped once, at every point where a look at it ends and another
begins (after each open by an inspector, between inspection and hashing, between
two hashed chunks, after hashing), by every kind of swap (renamed over, rewritten
in place at the same size with the old mtime put back, truncated, replaced by a
symlink, replaced by a FIFO, and for bundles a member added or removed), for
several formats. Whatever happens, the result is the facts and sha256 of one
state the artifact really had, or a one-line refusal; never a mix.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import struct
import threading
import types
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import regtui.catalog.candidates as candidates
import regtui.hashing as hashing
import regtui.inspect.bounds as bounds
from regtui.catalog import scan as scan_mod
from regtui.catalog.service import Candidate, Catalog
from regtui.errors import ArtifactError
from regtui.watch import Watcher
from regtui.watch.cache import HashCache
from tests.support.patience import patient
from tests.unit.inspect.helpers import safetensors_bytes

# ----------------------------------------------------------------- artifacts


def _pickle(module: str, name: str, pad: int) -> bytes:
    # GLOBAL, a padding string popped again, STOP: scanned, never loaded.
    text = b"p" * pad
    return (
        b"\x80\x02c"
        + f"{module}\n{name}\n".encode()
        + b"X"
        + struct.pack("<I", len(text))
        + text
        + b"0."
    )


def _safetensors(variant: int, pad: int) -> bytes:
    if variant == 0:
        return safetensors_bytes({"w": ("F32", [2])}, {"v": "a" + "p" * pad})
    return safetensors_bytes({"w2": ("F32", [4]), "x": ("U8", [3])}, {"v": "b" + "p" * pad})


def _torch_zip(variant: int, pad: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", _pickle(*_GLOBALS[variant], 0))
        zf.writestr("archive/version", "3\n")
        zf.comment = b"p" * pad
    return buf.getvalue()


_GLOBALS = [("collections", "OrderedDict"), ("os", "system")]

# name -> (file name, builder(variant, pad)); padding makes both variants one size.
FORMATS: dict[str, tuple[str, Callable[[int, int], bytes]]] = {
    "safetensors": ("model.safetensors", _safetensors),
    "pickle": ("model.pkl", lambda v, pad: _pickle(*_GLOBALS[v], pad)),
    "torch-zip": ("model.pt", _torch_zip),
}


def variants(fmt: str) -> tuple[bytes, bytes]:
    """Two contents of one format and one size, whose facts differ."""
    _, build = FORMATS[fmt]
    base = [len(build(v, 0)) for v in (0, 1)]
    size = max(base) + 8
    out = (build(0, size - base[0]), build(1, size - base[1]))
    assert len(out[0]) == len(out[1])
    return out


# ----------------------------------------------------------------- swaps


def _swap(target: Path, new: bytes, kind: str, spare: Path) -> None:
    """Put another file (or no file) where `target` is, the way `kind` says."""
    if kind == "rename":
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(new)
        os.replace(tmp, target)
    elif kind == "inplace":
        st = os.stat(target)
        with open(target, "r+b") as fh:
            fh.write(new)
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # the old mtime back
    elif kind == "truncate":
        os.truncate(target, os.stat(target).st_size // 2)
    elif kind == "symlink":
        spare.write_bytes(new)
        link = target.with_name(target.name + ".lnk")
        link.symlink_to(spare)
        os.replace(link, target)
    elif kind == "fifo":
        target.unlink()
        os.mkfifo(target)
    elif kind == "add":
        (target.parent / "extra.pkl").write_bytes(_pickle("os", "system", 0))
    elif kind == "remove":
        target.unlink()
    else:
        raise AssertionError(kind)


FILE_SWAPS = ["rename", "inplace", "truncate", "symlink", "fifo"]
BUNDLE_SWAPS = [*FILE_SWAPS, "add", "remove"]
# Where the swap happens: after the k-th open by an inspector, between inspection
# and hashing, between two hashed chunks, after hashing.
POINTS = ["open1", "open2", "open3", "between", "chunk", "after"]


class _CountingOs(types.SimpleNamespace):
    """The `os` module as bounds sees it, firing a swap after the k-th open of one
    path: inspectors open through bounds.open_file."""

    def __init__(self, watched: Path, k: int, fire: Callable[[], None]) -> None:
        super().__init__()
        self._watched = os.fspath(watched)
        self._k = k
        self._fire = fire
        self._n = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def open(self, path: Any, *args: Any, **kw: Any) -> int:
        fd = os.open(path, *args, **kw)
        if os.fspath(path) == self._watched:
            self._n += 1
            if self._n == self._k:
                self._fire()
        return fd


def _prepare_with_swap(
    cat: Catalog,
    monkeypatch: pytest.MonkeyPatch,
    artifact: Path,
    opened: Path,
    point: str,
    swap: Callable[[], None],
) -> Candidate | ArtifactError:
    fired = []

    def fire() -> None:
        if not fired:
            fired.append(True)
            swap()

    progress = None
    if point.startswith("open"):
        monkeypatch.setattr(bounds, "os", _CountingOs(opened, int(point[4:]), fire))
    elif point in ("between", "after"):
        real = candidates.hash_path

        def hooked(*a: Any, **kw: Any) -> Any:
            if point == "between":
                fire()
            out = real(*a, **kw)
            if point == "after":
                fire()
            return out

        monkeypatch.setattr(candidates, "hash_path", hooked)
    elif point == "chunk":
        monkeypatch.setattr(hashing, "CHUNK", 16)

        def progress(done: int, total: int) -> None:
            if done < total or total == 0:
                fire()

    try:
        return cat.prepare(artifact, "m", progress=progress)
    except ArtifactError as exc:
        return exc
    finally:
        monkeypatch.undo()


def _facts(cand: Candidate) -> tuple[Any, ...]:
    return (
        cand.digest.sha256,
        cand.digest.size_bytes,
        cand.format,
        cand.framework,
        cand.metadata,
        cand.damage,
        cand.complete,
    )


def _reference(cat: Catalog, state: Path, where: Path) -> tuple[Any, ...] | None:
    """The facts of `state` (a file or folder) copied alone to `where`: the facts a
    quiet artifact in that state gets. None for a state that is no artifact."""
    if state.is_dir():
        shutil.copytree(state, where, symlinks=True)  # a link stays a link: one state
    elif state.is_file():
        where.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(state, where)
    else:
        return None
    try:
        return _facts(cat.prepare(where, "m"))
    except ArtifactError:
        return None


def _assert_one_state(
    cat: Catalog,
    out: Candidate | ArtifactError,
    first: tuple[Any, ...] | None,
    last: Path,
    tmp: Path,
) -> None:
    if isinstance(out, ArtifactError):
        msg = str(out)  # one line, naming the artifact or its member first
        assert "\n" not in msg and msg.startswith(str(last))
        return
    got = _facts(out)
    later = _reference(cat, last, tmp / "ref-last" / last.name)
    assert got in (first, later), (
        f"facts and sha256 of no single state:\n got {got}\n first {first}\n last {later}"
    )


@pytest.fixture
def cat(tmp_path: Path) -> Catalog:
    return Catalog(str(tmp_path / "catalog.sqlite"), user="tester")


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("kind", FILE_SWAPS)
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_file_swapped_anywhere_is_one_file_or_refused(
    cat: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, kind: str, point: str
) -> None:
    name, _ = FORMATS[fmt]
    old, new = variants(fmt)
    path = tmp_path / "run" / name
    path.parent.mkdir()
    path.write_bytes(old)
    first = _reference(cat, path, tmp_path / "ref-first" / name)
    assert first is not None
    out = _prepare_with_swap(
        cat, monkeypatch, path, path, point, lambda: _swap(path, new, kind, tmp_path / "spare")
    )
    _assert_one_state(cat, out, first, path, tmp_path)


def _bundle(folder: Path, weights: bytes) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "bert", "architectures": ["B"]}')
    (folder / "model.safetensors").write_bytes(weights)
    return folder


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("kind", BUNDLE_SWAPS)
def test_a_bundle_member_swapped_anywhere_is_one_bundle_or_refused(
    cat: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, point: str
) -> None:
    old, new = variants("safetensors")
    folder = _bundle(tmp_path / "run" / "hf", old)
    member = folder / "model.safetensors"
    first = _reference(cat, folder, tmp_path / "ref-first" / "hf")
    assert first is not None
    out = _prepare_with_swap(
        cat,
        monkeypatch,
        folder,
        member,
        point,
        lambda: _swap(member, new, kind, tmp_path / "spare"),
    )
    _assert_one_state(cat, out, first, folder, tmp_path)


def test_a_file_that_never_settles_is_refused_with_one_line(
    cat: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Swapped on every look: refused after a bounded number of tries, naming why."""
    old, new = variants("pickle")
    path = tmp_path / "model.pkl"
    path.write_bytes(old)
    real = candidates.hash_path
    flips = []

    def always(*a: Any, **kw: Any) -> Any:
        flips.append(1)
        _swap(path, (new, old)[len(flips) % 2], "rename", tmp_path / "spare")
        return real(*a, **kw)

    monkeypatch.setattr(candidates, "hash_path", always)
    with pytest.raises(ArtifactError) as err:
        cat.prepare(path, "m")
    msg = str(err.value)
    assert "changed while it was being read" in msg and "\n" not in msg
    assert len(flips) == candidates.READ_ATTEMPTS  # bounded work, then a refusal


def test_registered_under_a_swap_verifies_as_what_it_says(
    cat: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: a swap between inspection and hashing gives a version whose
    facts are the new file's, and verify finds the bytes it records."""
    old, new = variants("pickle")
    path = tmp_path / "run" / "model.pkl"
    path.parent.mkdir()
    path.write_bytes(old)
    real = candidates.hash_path
    done = []

    def once(*a: Any, **kw: Any) -> Any:
        if not done:
            done.append(1)
            _swap(path, new, "inplace", tmp_path / "spare")
        return real(*a, **kw)

    monkeypatch.setattr(candidates, "hash_path", once)
    v = cat.register(path, "m")
    monkeypatch.undo()
    assert "os.system" in v.metadata["imports"]  # the facts of the bytes recorded
    (check,) = cat.verify_artifacts("m")
    assert check.state == "ok"


def _swap_once_before_hashing(monkeypatch: pytest.MonkeyPatch, path: Path, new: bytes) -> None:
    real = candidates.hash_path
    lock = threading.Lock()
    done: list[int] = []

    def once(p: Path, *a: Any, **kw: Any) -> Any:
        with lock:  # scan and watch prepare in pool threads
            if Path(p) == path and not done:
                done.append(1)
                _swap(path, new, "inplace", path.with_name("spare"))
        return real(p, *a, **kw)

    monkeypatch.setattr(candidates, "hash_path", once)


@pytest.mark.parametrize("face", ["scan", "watch"])
def test_scan_and_watch_record_one_file_under_a_swap(
    cat: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, face: str
) -> None:
    """scan and the watcher go through the same prepare: a swap between inspection
    and hashing gives a version whose facts are of the bytes its sha256 names."""
    old, new = variants("pickle")
    root = tmp_path / "runs"
    path = root / "m" / "model.pkl"
    path.parent.mkdir(parents=True)
    path.write_bytes(old)
    _swap_once_before_hashing(monkeypatch, path, new)
    if face == "scan":
        scan_mod.scan(cat, [root], "m")
    else:
        # model.pkl is also the name of a part of an MLflow model folder: alone, it
        # waits the bundle wait (30 s by default) for an MLmodel; this is not about that.
        w = Watcher(
            cat,
            [root],
            model="m",
            settle=0.2,
            bundle_wait=0.3,
            cache=HashCache(tmp_path / "c.sqlite"),
        )
        w.start()
        try:
            assert w.wait_idle(patient(60))
        finally:
            w.stop()
    monkeypatch.undo()
    (v,) = cat.versions("m")
    assert v.sha256 == hashlib.sha256(new).hexdigest()
    assert "os.system" in v.metadata["imports"]
