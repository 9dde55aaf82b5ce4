"""Watcher fixtures: a catalog, a watched folder and a running watcher with a short
settle time, plus helpers to wait for what the watcher does."""

from __future__ import annotations

import io
import json
import struct
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from regtui.catalog.service import Catalog
from regtui.watch import Watcher, WatchEvent
from regtui.watch.cache import HashCache

SETTLE = 0.3


def weights(tag: str, n: int = 64) -> bytes:
    """A small, complete safetensors file of `n` data bytes, distinct per tag: a
    real model, not text (unrecognised content counts as damaged, never registered)."""
    from tests.unit.inspect.helpers import safetensors_bytes

    return safetensors_bytes({"w": ("U8", [n])}, {"tag": tag})


class Recorder:
    """Collects watch events; thread-safe (the watcher calls it from its threads)."""

    def __init__(self) -> None:
        self.events: list[WatchEvent] = []
        self.lock = threading.Lock()

    def __call__(self, ev: WatchEvent) -> None:
        with self.lock:
            self.events.append(ev)

    def of(self, *kinds: str) -> list[WatchEvent]:
        with self.lock:
            return [e for e in self.events if e.kind in kinds]


def wait_for(cond: Callable[[], object], timeout: float = 10.0, every: float = 0.02) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {cond}")


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    cat = Catalog(tmp_path / "catalog.sqlite")
    yield cat
    cat.close()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    p = tmp_path / "runs"
    p.mkdir()
    return p


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "watch-cache.sqlite"


class Harness:
    def __init__(self, catalog: Catalog, root: Path, cache_path: Path) -> None:
        self.catalog = catalog
        self.root = root
        self.cache_path = cache_path
        self.watchers: list[Watcher] = []
        self.rec = Recorder()

    def start(self, **kw: object) -> Watcher:
        """A started watcher on `root` with its own recorder (`self.rec`)."""
        self.rec = Recorder()
        kw.setdefault("settle", SETTLE)
        w = Watcher(
            self.catalog,
            [self.root],
            on_event=self.rec,
            cache=HashCache(self.cache_path),
            **kw,  # type: ignore[arg-type]
        )
        w.start()
        self.watchers.append(w)
        assert w.wait_idle(10), "catch-up did not finish"
        return w

    def count(self, model: str | None = None) -> int:
        try:
            return self.catalog.count_versions(model)
        except Exception:
            return 0

    def stop_all(self) -> None:
        for w in self.watchers:
            w.stop()
            if w.cache is not None:
                w.cache.close()


@pytest.fixture
def harness(catalog: Catalog, root: Path, cache_path: Path) -> Iterator[Harness]:
    h = Harness(catalog, root, cache_path)
    yield h
    h.stop_all()


def format_proof(path: Path) -> tuple[str | None, bool]:
    """(damage, complete) for safetensors and zip files, from their bytes: a
    stand-in for the inspectors' own checks, so the watcher's side can be
    tested on its own. Other files: (None, False), the format proves nothing."""
    try:
        data = path.read_bytes()
    except OSError:
        return None, False
    if path.suffix == ".safetensors":
        if len(data) < 8:
            return "truncated: no header length", False
        (n,) = struct.unpack("<Q", data[:8])
        try:
            header = json.loads(data[8 : 8 + n])
        except ValueError:
            return "truncated: header cut short", False
        end = max(
            (v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0
        )
        body = len(data) - 8 - n
        if body < end:
            return f"truncated: {body} of {end} data bytes", False
        return None, body == end
    if path.suffix in (".pt", ".ckpt"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                zf.infolist()
        except zipfile.BadZipFile:
            return "truncated: no zip central directory", False
        return None, True
    return None, False


def _mlmodel_proof(folder: Path) -> str | None:
    """Damage of an MLflow folder: files its MLmodel names that are not there."""
    import yaml

    try:
        doc = yaml.safe_load((folder / "MLmodel").read_text())
    except (OSError, yaml.YAMLError):
        return "MLmodel cannot be read"
    named: list[str] = []

    def walk(v: object) -> None:
        if isinstance(v, dict):
            for key, x in v.items():
                if isinstance(x, str) and key in NAMED_FILE_KEYS:
                    named.append(x)
                else:
                    walk(x)

    walk(doc.get("flavors") if isinstance(doc, dict) else None)
    missing = [n for n in named if not (folder / n).exists()]
    return f"MLmodel names missing files: {', '.join(missing)}" if missing else None


NAMED_FILE_KEYS = {"pickled_model", "model_path", "data", "conda", "virtualenv", "python_env"}


@pytest.fixture
def formats_prove(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inspection sets Facts.damage/complete for safetensors and zip files, and
    damage for MLflow folders whose MLmodel names files not there yet."""
    import regtui.inspect as inspect_mod

    real = inspect_mod.inspect_path

    def inspect_path(path: Path, *, root: Path | None = None):  # type: ignore[no-untyped-def]
        facts = real(path, root=root)
        if path.is_file() and facts.damage is None and not facts.complete:
            facts.damage, facts.complete = format_proof(path)
        elif path.is_dir() and (path / "MLmodel").is_file() and facts.damage is None:
            facts.damage = _mlmodel_proof(path)
        return facts

    monkeypatch.setattr(inspect_mod, "inspect_path", inspect_path)
