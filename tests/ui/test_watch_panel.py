"""Pilot test: the watch panel shows roots and live registrations from the watcher."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from textual.widgets import RichLog

from regtui.catalog.service import Catalog
from regtui.tui.app import make_app
from regtui.tui.screens.watch import WatchScreen


async def test_watcher_registrations_appear_live(tmp_path: Path, wait) -> None:
    root = tmp_path / "runs"
    (root / "live-model" / "run-1").mkdir(parents=True)
    with Catalog(tmp_path / "c.sqlite", user="alice") as cat:
        app = make_app(cat, watch_dirs=[root])
        async with app.run_test(size=(120, 40)) as pilot:
            await wait(pilot)
            await pilot.press("w")
            await wait(pilot)
            screen = app.screen
            assert isinstance(screen, WatchScreen)
            run = root / "live-model" / "run-1"
            (run / "metrics.json").write_text(json.dumps({"auc": 0.9}))
            (run / "model.onnx").write_bytes(b"onnx" * 100)
            for _ in range(100):  # settle time + hashing, in the watcher's threads
                if cat.count_versions():
                    break
                await asyncio.sleep(0.1)
            await wait(pilot)
            assert app.watching
            lines = "\n".join(str(line.text) for line in screen.query_one(RichLog).lines)
            assert "live-model:1" in lines
            assert str(root.resolve()) in str(screen.query_one("#roots").render())
