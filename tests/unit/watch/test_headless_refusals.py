"""The headless watcher names a refused path once: the reason follows it without
repeating it (an artifact error's message begins with the path)."""

from __future__ import annotations

import io

import pytest

from regtui.errors import ArtifactRefused, reason_for
from regtui.watch.events import EventKind, WatchEvent
from regtui.watch.headless import Printer


@pytest.mark.parametrize(
    "path", ["/runs/hm/empty.pt", "/runs/a: b/model.onnx", "/runs/refused: x/w.bin"]
)
@pytest.mark.parametrize("why", ["empty file (0 bytes)", "not UTF-8", "a loop of links"])
def test_a_refusal_names_its_path_once(path: str, why: str) -> None:
    detail = str(ArtifactRefused(f"{path}: refused: {why}"))
    line = Printer(io.StringIO(), False, []).describe(
        WatchEvent(EventKind.REFUSED, path=path, detail=detail)
    )
    assert line is not None
    assert line.count(path) == 1 and line.endswith(why)
    assert reason_for(path, detail) == why
