"""TUI probe, run in its own process: first screen, keystroke-to-repaint, peak memory.

    python bench/tui_probe.py CATALOG.db MODEL [KEYS]
MODEL "-": whichever model the app opens on (a catalog of many models).
Prints one JSON object. Headless (`App.run_test`, 160×50 cells).

Latency is measured inside the app, not with Pilot's idle waits (those add tens of
ms of their own): every screen update is timestamped, noting whether the state we
wait for was on it (`textual_compat.after_each_screen_update`). A sample is: key
event sent through the driver, as from a terminal → first screen update that shows
the expected state. Headless mode skips only the final write of escape codes to the
terminal. The private Textual APIs this needs are in regtui/tui/textual_compat.py.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from peak_rss import rss_mb  # a sibling module: the probes run as scripts

T_START = time.perf_counter()

FILTER = "metrics.auc > 0.5 and tags.team = 'team-7'"


class Paints:
    """Timestamps of screen updates, each with whether `probe` held when it was drawn."""

    def __init__(self, app: Any) -> None:
        from regtui.tui.textual_compat import after_each_screen_update

        self.probe: Callable[[], bool] = lambda: False
        self.hits: list[float] = []

        def seen() -> None:
            try:
                ok = self.probe()
            except Exception:
                ok = False
            if ok:
                self.hits.append(time.perf_counter())

        after_each_screen_update(app, seen)

    async def wait(self, t0: float, probe: Callable[[], bool], timeout: float = 60.0) -> float:
        """Seconds from t0 to the first screen update on which probe() held."""
        end = time.perf_counter() + timeout
        while True:
            if self.hits:
                return self.hits[0] - t0
            if time.perf_counter() > end:
                raise TimeoutError("the TUI did not show the expected state in time")
            await asyncio.sleep(0.001)

    async def after(self, app: Any, send: Callable[[], None], probe: Callable[[], bool]) -> float:
        self.hits.clear()
        self.probe = probe
        t0 = time.perf_counter()
        send()
        return await self.wait(t0, probe)


def key_sender(app: Any, key: str) -> Callable[[], None]:
    from regtui.tui.textual_compat import press_as_the_terminal

    char = {"space": " ", "slash": "/"}.get(key, key if len(key) == 1 else None)

    def send() -> None:
        press_as_the_terminal(app, key, char)

    return send


def summary(xs: list[float]) -> dict[str, float]:
    s = sorted(xs)
    return {"p50_s": statistics.median(s), "max_s": s[-1], "n": len(s)}


async def main(db: str, model: str, n_keys: int = 40) -> dict[str, Any]:
    from textual.widgets import Input

    from regtui.catalog.service import Catalog
    from regtui.tui.app import make_app
    from regtui.tui.widgets.version_table import VersionTable

    out: dict[str, Any] = {"imports_s": time.perf_counter() - T_START}
    rss_imported = rss_mb()
    t0 = time.perf_counter()
    catalog = Catalog(db, user=None if db.startswith("postgresql") else "bench")
    app = make_app(catalog)
    paints = Paints(app)

    def table() -> Any:
        return app.screen.query_one(VersionTable)

    def first_screen() -> bool:
        t = table()
        shown = t.query_spec.model == model or (model == "-" and t.query_spec.model)
        return t.total is not None and bool(shown) and t.row(0) is not None

    paints.probe = first_screen
    async with app.run_test(size=(160, 50)) as pilot:
        out["first_screen_s"] = await paints.wait(t0, first_screen)
        out["process_to_first_screen_s"] = paints.hits[0] - T_START
        out["total"] = table().total
        await pilot.pause()

        async def moves(key: str, n: int, expect: Callable[[int], int | None]) -> list[float]:
            samples = []
            for _ in range(n):
                before = table().cursor
                target = expect(before)

                def probe(before: int = before, target: int | None = target) -> bool:
                    t = table()
                    moved = t.cursor == target if target is not None else t.cursor != before
                    return moved and t.version is not None

                samples.append(await paints.after(app, key_sender(app, key), probe))
                await pilot.pause()
            return samples

        total = table().total
        out["down"] = summary(await moves("down", n_keys, lambda c: c + 1))
        out["pagedown"] = summary(await moves("pagedown", max(2, n_keys // 3), lambda c: None))
        # End and Home in turn, 5 of each: the first End may wait for the last page,
        # later ones show it from memory (max and p50 tell the two apart).
        ends, homes = [], []
        for _ in range(5):
            ends += await moves("end", 1, lambda c: total - 1)
            homes += await moves("home", 1, lambda c: 0)
        out["end"] = summary(ends)
        out["home"] = summary(homes)

        # filtering: open the box, type (each keystroke must echo), enter applies
        box = app.screen.query_one("#filter", Input)
        await paints.after(app, key_sender(app, "slash"), lambda: box.display and box.has_focus)
        typing = []
        for i, ch in enumerate(FILTER):
            want = FILTER[: i + 1]
            key = "space" if ch == " " else ch
            typing.append(
                await paints.after(app, key_sender(app, key), lambda w=want: box.value == w)
            )
        out["filter_typing"] = summary(typing)
        await asyncio.sleep(
            0.4
        )  # let the 0.3 s type-ahead apply settle: enter then re-applies nothing
        screen = app.screen
        screen.show_unfiltered()  # measure a cold apply: the table reset without the filter
        await pilot.pause()

        def filtered() -> bool:
            t = table()
            return (
                t.query_spec.where == FILTER
                and t.total is not None
                and (t.total == 0 or t.row(0) is not None)
            )

        out["filter_apply_s"] = await paints.after(app, key_sender(app, "enter"), filtered)
        out["filter_total"] = table().total

        def cleared() -> bool:
            t = table()
            return t.query_spec.where == "" and t.total == total and t.row(0) is not None

        out["filter_clear_s"] = await paints.after(app, key_sender(app, "escape"), cleared)
    catalog.close()
    out["peak_rss_mb"] = rss_mb()
    out["rss_after_imports_mb"] = rss_imported
    return out


if __name__ == "__main__":
    keys = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2], keys))))
