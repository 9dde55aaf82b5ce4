"""The version detail and the diff show datasets and values logged later."""

from __future__ import annotations

from pathlib import Path

from tests.ui.test_untrusted_text import screen_text
from tests.unit.helpers import artifact
from textual.widgets import DataTable

from regtui.catalog.service import Catalog
from regtui.tui.app import make_app
from regtui.tui.screens.diff import DiffScreen
from regtui.tui.screens.version import LATE_MARK, VersionScreen

SIZE = (160, 60)


async def test_detail_shows_datasets_and_late_values(
    tmp_path: Path, fixed_clock: None, wait
) -> None:
    # A dataset URI that looks like markup is shown as the characters it is.
    cat = Catalog(tmp_path / "c.sqlite", user="alice")
    train = artifact(tmp_path, "train.csv", "rows v1")
    cat.register(artifact(tmp_path, "m1.bin", "1"), "churn", metrics={"auc": 0.8}, datasets=[train])
    cat.register(
        artifact(tmp_path, "m2.bin", "2"),
        "churn",
        metrics={"auc": 0.8},
        datasets=["s3://b/train.parquet?versionId=42", "https://h/[red]x[/red]"],
    )
    cat.log("churn:2", metrics={"auc": 0.9}, params={"eval": "q4"}, reason="holdout")
    app = make_app(cat)
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot)
        app.push_screen(VersionScreen("churn:2"))
        await wait(pilot)
        assert isinstance(app.screen, VersionScreen)
        shown = screen_text(app)
        assert "s3://b/train.parquet?versionId=42 @ 42" in shown
        assert "https://h/[red]x[/red]" in shown  # artifact text, never markup
        at = cat.get("churn:2").logged["metrics.auc"][:16].replace("T", " ")
        assert f"0.9  {LATE_MARK} logged {at}" in shown
        assert f"q4  {LATE_MARK} logged" in shown
        app.pop_screen()
        app.push_screen(VersionScreen("churn:1"))
        await wait(pilot)
        shown = screen_text(app)
        assert str(train) in shown and "sha256" in shown
        assert LATE_MARK not in shown  # nothing on v1 came later
        app.pop_screen()
        app.push_screen(DiffScreen("churn:1", "churn:2"))
        await wait(pilot)
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        shown = screen_text(app)
        assert "different data" in shown
        table = screen.query_one(DataTable)
        cells = [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        auc = next(c for c in cells if "metrics.auc" in c)
        assert f"0.9 {LATE_MARK} {at}" in auc
        # a long dataset path is cut in its middle: its name stays (the row opens it whole)
        assert any(r.section == "datasets" and r.key == str(train) for r in screen.shown)
        assert any("datasets." in c and train.name in c for c in cells)
