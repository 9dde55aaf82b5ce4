"""The header's chain check starts regtui's own interpreter, isolated, from the temp
folder, with a fixed command line: nothing beside an artifact can change what runs."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from regtui.tui import chain_check
from regtui.tui.chain_check import ChainCheck

# the real `run` (tests/ui/conftest.py replaces it for the app tests)
pytestmark = pytest.mark.chain_process


class Recorded:
    def __init__(self, args: list[str], **kwargs: Any) -> None:
        Recorded.last = (args, kwargs)
        self.returncode = 0

    def communicate(self, timeout: float | None = None) -> tuple[bytes, bytes]:
        return b'{"ok": false, "problem": "event 3 does not fit"}', b""

    def poll(self) -> int:
        return 0

    last: tuple[list[str], dict[str, Any]] = ([], {})


@pytest.mark.parametrize("cwd", ["artifact-folder", "."])
def test_the_check_runs_isolated_from_where_the_app_was_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cwd: str
) -> None:
    here = tmp_path / cwd
    here.mkdir(exist_ok=True)
    (here / "regtui.py").write_text("raise SystemExit('hijacked')\n")  # would shadow -m
    monkeypatch.chdir(here)
    monkeypatch.setattr(chain_check.subprocess, "Popen", Recorded)
    assert ChainCheck("sqlite:////x.sqlite").run() == "event 3 does not fit"
    args, kwargs = Recorded.last
    assert args[0] == sys.executable and args[1] == "-I"
    assert args[-3:] == ["audit", "--verify", "--json"]
    assert kwargs["cwd"] == tempfile.gettempdir()
    assert kwargs["env"]["REGTUI_DB"] == "sqlite:////x.sqlite"


def test_a_check_that_cannot_run_claims_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: Any, **_k: Any) -> None:
        raise OSError("no such interpreter")

    monkeypatch.setattr(chain_check.subprocess, "Popen", refuse)
    assert ChainCheck("sqlite:////x.sqlite").run() is None


def test_a_stopped_check_starts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain_check.subprocess, "Popen", Recorded)
    Recorded.last = ([], {})
    check = ChainCheck("sqlite:////x.sqlite")
    check.stop()
    assert check.run() is None and Recorded.last == ([], {})
