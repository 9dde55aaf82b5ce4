"""A sidecar written after a registration counts for the next registration, also
on a file system whose timestamps are whole seconds (ext4 with 128-byte inodes,
ext3, FAT/exFAT, HFS+, sshfs, many NFS/SMB servers): there a sidecar created in the
same second as the folder's last change leaves its times unchanged, so answers
kept between preparations must wait longer before they count."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from regtui.catalog.service import Catalog
from regtui.inspect import folder_names
from tests.unit.inspect.helpers import safetensors_bytes


def _same_second_sidecar(cat: Catalog, base: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Prepare a, write metrics.json in the same second as the folder's last
    change (but >100 ms after it), prepare b; then b again 1.5 s later."""
    while not 0.30 < time.time() % 1 < 0.33:
        time.sleep(0.002)
    folder = base / f"run{time.time_ns()}"
    folder.mkdir()
    (folder / "a.safetensors").write_bytes(safetensors_bytes({"w": ("F32", [1])}))
    (folder / "b.safetensors").write_bytes(safetensors_bytes({"w": ("F32", [2])}))
    time.sleep(0.15)  # settled: older than SETTLED_NS
    cat.prepare(folder / "a.safetensors", "m")
    (folder / "metrics.json").write_text(json.dumps({"auc": 0.9}))
    b = cat.prepare(folder / "b.safetensors", "m")
    time.sleep(1.5)  # long after: still hidden while the folder does not change
    later = cat.prepare(folder / "b.safetensors", "m")
    return b.metrics, later.metrics


@pytest.fixture
def whole_second_fs(tmp_path: Path) -> Iterator[Path]:
    """A real ext4 with 128-byte inodes (timestamps in whole seconds), loop-mounted."""
    if os.geteuid() != 0 or not shutil.which("mkfs.ext4"):
        pytest.skip("needs root and mkfs.ext4 to loop-mount a file system")
    img, mnt = tmp_path / "coarse.img", tmp_path / "mnt"
    mnt.mkdir()
    with open(img, "wb") as fh:
        fh.truncate(32 << 20)
    try:
        subprocess.run(["mkfs.ext4", "-q", "-F", "-I", "128", str(img)], check=True)
        subprocess.run(["mount", "-o", "loop", str(img), str(mnt)], check=True)
    except (subprocess.CalledProcessError, OSError):
        pytest.skip("cannot loop-mount here")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_sidecar_after_registration_counts_on_whole_second_fs(
    whole_second_fs: Path, tmp_path: Path
) -> None:
    with Catalog(tmp_path / "c.db") as cat:
        assert os.stat(whole_second_fs).st_mtime_ns % 1_000_000_000 == 0
        b, later = _same_second_sidecar(cat, whole_second_fs)
    assert b == {"auc": 0.9}
    assert later == {"auc": 0.9}


class _WholeSeconds(ModuleType):
    """`os` as folder_names sees it on a file system with whole-second times."""

    def __init__(self) -> None:
        super().__init__("os")

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    @staticmethod
    def stat(path: Any, *args: Any, **kwargs: Any) -> Any:
        st = os.stat(path, *args, **kwargs)
        whole = [int(st.st_mtime_ns // 10**9), int(st.st_ctime_ns // 10**9)]
        extra = {"st_mtime_ns": whole[0] * 10**9, "st_ctime_ns": whole[1] * 10**9}

        class _St:
            def __getattr__(self, a: str) -> Any:
                return extra.get(a, getattr(st, a))

        return _St()


def test_sidecar_after_registration_counts_with_whole_second_times_simulated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same, on any machine: folder_names sees whole-second times."""
    monkeypatch.setattr(folder_names, "os", _WholeSeconds())
    with Catalog(tmp_path / "c.db") as cat:
        b, later = _same_second_sidecar(cat, tmp_path)
    assert b == {"auc": 0.9}
    assert later == {"auc": 0.9}
