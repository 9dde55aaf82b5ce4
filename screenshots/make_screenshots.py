"""Make an SVG of each screen from the demo catalog: `python screenshots/make_screenshots.py`.

`--serve` instead makes screenshots/serve-browser.png: `regtui serve` on the demo catalog,
as a real headless Chromium shows it (needs chromium and chromium-driver, as the tests do).

Seeds a fresh temporary catalog with `regtui.demo.seed_demo` (sample_models/),
drives the app with Pilot and saves screenshots/<screen>.svg (130×40) and
screenshots/<screen>-80x24.svg (the smallest terminal regtui is laid out for).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent
SIZES = {"": (130, 40), "-80x24": (80, 24)}


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    from textual.worker import WorkerCancelled, WorkerFailed

    for _ in range(3):
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.05)


async def shoot(app, name: str, size: tuple[int, int], *keys: str) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for key in keys:
            if key.startswith("type:"):  # text into the focused box
                app.focused.value = key.removeprefix("type:")
            else:
                await pilot.press(key)
            await settle(pilot)
        app.clear_notifications()
        await pilot.pause(0.05)
        app.save_screenshot(str(OUT / f"{name}.svg"))
        print("wrote", OUT / f"{name}.svg")


async def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="regtui-shots-"))
    os.environ["REGTUI_DATA_DIR"] = str(folder / "data")
    from regtui.catalog.service import Catalog
    from regtui.demo import seed_demo
    from regtui.tui.app import RegtuiApp

    try:
        with Catalog(folder / "catalog.sqlite", user="you") as catalog:
            seed_demo(catalog)
            shots = {
                "catalog": (),
                "version": ("enter",),
                "diff": ("d",),
                "audit": ("l",),
                "watch": ("w",),
                "help": ("question_mark",),
                "reason": ("a",),
                "promote": ("p",),
                "find": ("f", "type:approval = 'approved'", "enter"),
                "demote": ("D",),
            }
            for suffix, size in SIZES.items():
                for name, keys in shots.items():
                    app = RegtuiApp(catalog, poll_seconds=0)
                    await shoot(app, name + suffix, size, *keys)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def serve_browser(width: int = 1500, height: int = 800) -> None:
    """`regtui serve` on the demo catalog, signed in with a user's token, in Chromium."""
    import subprocess
    import sys

    sys.path.insert(0, str(OUT.parent))  # tests.support: the same browser as the tests
    from tests.support import browser, serving

    folder = Path(tempfile.mkdtemp(prefix="regtui-serve-shot-"))
    os.environ["REGTUI_DATA_DIR"] = str(folder / "data")
    from regtui.catalog.service import Catalog
    from regtui.demo import seed_demo

    db = folder / "catalog.sqlite"
    try:
        with Catalog(db, user="you") as catalog:
            seed_demo(catalog)
        added = subprocess.run(
            [sys.executable, "-m", "regtui", "--db", str(db), "serve", "--add-user", "ann"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        token = added.stdout.strip().splitlines()[-1]
        served = serving.start(db)
        try:
            with browser.chromium(width, height) as driver:
                driver.get(f"{served.base}/?token={token}")
                browser.wait_for_screen(driver, "churn-lgbm", "ann", "lightgbm", "Approve")
                import time

                time.sleep(1.0)  # the canvas catches up with the buffer (a picture, not a test)
                driver.save_screenshot(str(OUT / "serve-browser.png"))
                print("wrote", OUT / "serve-browser.png")
        finally:
            served.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    import sys

    if "--serve" in sys.argv[1:]:
        serve_browser()
    else:
        asyncio.run(main())
