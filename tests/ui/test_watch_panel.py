"""Pilot test: the watch panel shows roots and live registrations from the watcher."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.system.watch.conftest import weights
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
            (run / "model.safetensors").write_bytes(weights("live"))
            for _ in range(100):  # settle time + hashing, in the watcher's threads
                if cat.count_versions():
                    break
                await asyncio.sleep(0.1)
            await wait(pilot)
            assert app.watching
            lines = "\n".join(str(line.text) for line in screen.query_one(RichLog).lines)
            assert "live-model:1" in lines
            assert str(root.resolve()) in str(screen.query_one("#roots").render())


async def test_held_and_late_logged_artifacts_show_in_the_panel(tmp_path: Path, wait) -> None:
    """A truncated file is shown waiting with its reason (never registered); a
    sidecar written after a model shows as logged onto its version."""
    from tests.unit.inspect.helpers import safetensors_bytes

    root = tmp_path / "runs"
    (root / "cut").mkdir(parents=True)
    (root / "good").mkdir()
    with Catalog(tmp_path / "c.sqlite", user="alice") as cat:
        app = make_app(cat, watch_dirs=[root])
        async with app.run_test(size=(160, 40)) as pilot:
            await wait(pilot)
            await pilot.press("w")
            await wait(pilot)
            screen = app.screen
            assert isinstance(screen, WatchScreen)
            whole = safetensors_bytes({"w": ("U8", [256])})
            (root / "cut" / "model.safetensors").write_bytes(whole[:-50])
            (root / "good" / "model.safetensors").write_bytes(whole)

            def text() -> str:
                return "\n".join(str(line.text) for line in screen.query_one(RichLog).lines)

            for _ in range(150):
                if "\nwaiting " in text() and cat.count_versions():
                    break
                await asyncio.sleep(0.1)
            (root / "good" / "metrics.json").write_text('{"auc": 0.8}')
            for _ in range(150):
                if "onto good:1" in text():
                    break
                await asyncio.sleep(0.1)
            await wait(pilot)
            lines = text()
            assert "\nwaiting " in lines and "need 256 data bytes but the file holds 206" in lines
            assert str(root / "cut" / "model.safetensors") in lines
            assert "\nlogged " in lines and "onto good:1: metrics.json: metrics.auc" in lines
            assert [v.ref for v in cat.versions()] == ["good:1"]
