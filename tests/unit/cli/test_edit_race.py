"""`regtui edit` reads the tags it merges inside its write transaction.

Another change committed while the command runs is kept, and MODEL@STAGE is the
version the stage holds when the edit is written. The other change is made to
land as late as it can: just before the command's write transaction begins, after
anything the command read before it (a command that read the tags in an earlier
transaction then writes them back stale)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from regtui.catalog import edits
from regtui.catalog.service import Catalog
from regtui.cli.main import main
from tests.unit.helpers import model_bytes


def _race(monkeypatch: pytest.MonkeyPatch, other: Callable[[], None]) -> list[bool]:
    """Run `other` just before the next write transaction begins; the list it
    returns holds True once it ran (so a test cannot pass without the race)."""
    ran: list[bool] = []
    real = edits.write_txn

    @contextmanager
    def racing(engine: Any) -> Iterator[Any]:
        if not ran:
            ran.append(True)
            with redirect_stdout(io.StringIO()):  # the other command's output is not ours
                other()
        with real(engine) as conn:
            yield conn

    monkeypatch.setattr(edits, "write_txn", racing)
    return ran


def _cli(db: str, *args: str) -> None:
    assert main([*args, "--db", db]) == 0


def _register(db: str, tmp_path: Path, name: str, **tags: str) -> None:
    path = tmp_path / f"{name}.safetensors"
    path.write_bytes(model_bytes(name))
    with Catalog(db) as cat:
        cat.register(path, "churn", tags=tags)


@pytest.mark.parametrize("target", ["churn", "churn:1"])
def test_concurrent_edits_of_different_tags_both_land(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    target: str,
) -> None:
    _register(db_url, tmp_path, "one")
    ran = _race(monkeypatch, lambda: _cli(db_url, "edit", target, "--reason", "r", "--tag", "b=2"))
    capsys.readouterr()
    _cli(db_url, "edit", target, "--reason", "r", "--tag", "a=1", "--json")
    assert ran
    assert json.loads(capsys.readouterr().out)["tags"] == {"a": "1", "b": "2"}
    with Catalog(db_url) as cat:
        held = cat.model("churn").tags if target == "churn" else cat.get(target).tags
    assert held == {"a": "1", "b": "2"}


def test_untag_drops_only_its_key_from_what_is_held_at_write(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _register(db_url, tmp_path, "one", a="1", b="2")
    ran = _race(
        monkeypatch, lambda: _cli(db_url, "edit", "churn:1", "--reason", "r", "--tag", "c=3")
    )
    _cli(db_url, "edit", "churn:1", "--reason", "r", "--untag", "a")
    assert ran
    with Catalog(db_url) as cat:
        assert cat.get("churn:1").tags == {"b": "2", "c": "3"}


def test_edit_at_a_stage_edits_the_version_the_stage_holds_when_written(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _register(db_url, tmp_path, "one", who="one")
    _register(db_url, tmp_path, "two", who="two")
    _cli(db_url, "promote", "churn:1", "--reason", "r", "--to", "staging")
    ran = _race(
        monkeypatch, lambda: _cli(db_url, "promote", "churn:2", "--reason", "r", "--to", "staging")
    )
    _cli(db_url, "edit", "churn@staging", "--reason", "r", "--tag", "a=1")
    assert ran
    with Catalog(db_url) as cat:
        assert cat.get("churn@staging").version == 2
        assert cat.get("churn:1").tags == {"who": "one"}
        assert cat.get("churn:2").tags == {"who": "two", "a": "1"}
