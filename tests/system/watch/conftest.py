"""Watcher fixtures: a catalog, a watched folder and a running watcher with a short
settle time, plus helpers to wait for what the watcher does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from regtui.catalog.service import Catalog
from regtui.watch import Watcher, WatchEvent
from regtui.watch.cache import HashCache
from tests.support.patience import PATIENCE, patient

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
    timeout *= PATIENCE
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
        assert w.wait_idle(patient(10)), "catch-up did not finish"
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
