"""A stand-in for store.keep in UI tests: synthetic versions have no files, so
promotion's kept copy is recorded at its key without copying anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from regtui.catalog import store


def fake_keep(name: str, sha256: str, where: Path, sources: object) -> store.Kept:
    key = store.copy_key(sha256, name)
    return store.Kept(key, where / key, "reused")


def use_fake_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "keep", fake_keep)
