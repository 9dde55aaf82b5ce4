"""The one connection a SQLite catalog writes through: threads take turns on it,
a stuck turn fails like a busy database, closing or disposing leaves no
connection open, and a connection the driver lost is replaced."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from regtui.catalog import db
from regtui.catalog.service import Catalog
from regtui.errors import CatalogError
from tests.unit.helpers import artifact


@pytest.mark.parametrize("how", ["close", "dispose"])
def test_closing_leaves_no_connection_open(tmp_path: Path, how: str) -> None:
    path = tmp_path / "c.sqlite"
    cat = Catalog(str(path))
    cat.register(artifact(tmp_path, "a.safetensors", "a"), "m")
    if how == "close":
        cat.close()
    else:
        cat.engine.dispose()
    # The last connection to close checkpoints and removes the WAL.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("c.")) == ["c.sqlite"]
    with Catalog(str(path)) as again:  # and what was written is there
        assert [v.version for v in again.versions("m")] == [1]


def test_threads_take_turns_and_numbers_stay_gapless(tmp_path: Path) -> None:
    files = [artifact(tmp_path / "out", f"{i}.safetensors", str(i)) for i in range(40)]
    with Catalog(str(tmp_path / "c.sqlite")) as cat:
        errors: list[BaseException] = []

        def work(mine: list[Path]) -> None:
            try:
                for p in mine:
                    cat.register(p, "m")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(files[i::4],)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors
        assert sorted(v.version for v in cat.versions("m")) == list(range(1, 41))
        assert cat.verify_audit().ok


def test_a_turn_held_too_long_is_a_busy_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 0.2)
    with Catalog(str(tmp_path / "c.sqlite")) as cat:
        inside, leave = threading.Event(), threading.Event()

        def hold() -> None:
            with db.write_txn(cat.engine):
                inside.set()
                leave.wait(10)

        t = threading.Thread(target=hold)
        t.start()
        assert inside.wait(10)
        try:
            with pytest.raises(CatalogError, match="busy"):
                cat.register(artifact(tmp_path, "a.safetensors", "a"), "m")
        finally:
            leave.set()
            t.join(10)
        assert cat.register(artifact(tmp_path, "a.safetensors", "a"), "m").version == 1


def test_a_lost_connection_is_replaced(tmp_path: Path) -> None:
    with Catalog(str(tmp_path / "c.sqlite")) as cat:
        cat.register(artifact(tmp_path, "a.safetensors", "a"), "m")
        kept = db._writer(cat.engine).conn
        assert kept is not None
        kept.invalidate()  # as the pool does when the driver reports the link gone
        assert cat.register(artifact(tmp_path, "b.safetensors", "b"), "m").version == 2
        assert db._writer(cat.engine).conn is not kept
