"""`regtui serve` in a real headless Chromium: the catalog shows, a version is
approved from the browser and the audit log names the token's user (not the OS
user, not the serving user), a change made elsewhere shows within seconds, and a
read-only server changes nothing whatever is pressed.

One server per module: starting it and a browser is most of the time.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from regtui.catalog.service import Catalog
from tests.support import browser, serving
from tests.unit.helpers import catalog_with_versions

pytestmark = pytest.mark.skipif(browser.missing() is not None, reason=str(browser.missing()))


def add_user(db: Path, name: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "regtui", "--db", str(db), "serve", "--add-user", name],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("served")
    path = folder / "catalog.sqlite"
    catalog_with_versions(str(path), folder, n=2, user="trainer").close()
    return path


@pytest.fixture(scope="module")
def served(db: Path) -> Iterator[serving.Served]:
    s = serving.start(db, "--token", "the-serving-token", env={"REGTUI_USER": "owner"})
    yield s
    code, out = s.stop()
    assert code == 0, out


@pytest.fixture(scope="module")
def page(served: serving.Served, db: Path) -> Iterator[object]:
    token = add_user(db, "reviewer-ann")  # a user added while the server runs
    with browser.chromium() as driver:
        driver.get(f"{served.base}/?token={token}")
        assert driver.current_url == f"{served.base}/"  # the token left the address bar
        yield driver


def test_the_catalog_shows_in_the_browser(page: Any, served: serving.Served) -> None:
    text = browser.wait_for_screen(page, "churn", "reviewer-ann")  # header: who acts
    assert "owner" not in text.splitlines()[0]
    # Everything the page loaded came from this server (no fonts or scripts elsewhere).
    loaded = page.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(u.startswith(f"{served.base}/") for u in loaded), loaded
    assert any(u.endswith(".ttf") for u in loaded)  # the font, served from here


def test_a_version_approved_in_the_browser_is_recorded_as_the_tokens_user(
    page: object, db: Path
) -> None:
    browser.wait_for_screen(page, "churn")
    with Catalog(str(db), read_only=True) as cat:
        pending = cat.get("churn").version
        assert cat.get(f"churn:{pending}").approval.status == "pending"
    browser.press(page, "a")
    browser.wait_for_screen(page, "Reason (goes into the audit log)")
    browser.press(page, "checked in a browser", "\n")

    def approved() -> object:
        with Catalog(str(db), read_only=True) as cat:
            events = cat.audit_events("churn", action="approved")
            return events[-1] if events else None

    event = serving.wait_until(approved, 10, "the approval")
    assert (event.actor, event.reason) == ("reviewer-ann", "checked in a browser")
    with Catalog(str(db), read_only=True) as cat:
        assert cat.get(f"churn:{pending}").approval.by == "reviewer-ann"
    browser.wait_for_screen(page, "approved")


def test_a_change_made_elsewhere_shows_within_seconds(
    page: object, db: Path, tmp_path: Path
) -> None:
    browser.wait_for_screen(page, "churn")
    with Catalog(str(db), user="trainer") as cat:
        cat.edit_model("churn", description="edited from a terminal", reason="test")
    browser.wait_for_screen(page, "edited from a terminal", seconds=3)


def test_read_only_server_changes_nothing(db: Path) -> None:
    served = serving.start(db, "--read-only")
    try:
        with Catalog(str(db), read_only=True) as cat:
            before = len(cat.audit_events())
        with browser.chromium() as driver:
            driver.get(served.url)
            text = browser.wait_for_screen(driver, "churn", "read-only")
            assert "Approve" not in text.splitlines()[-1]  # no change key in the footer
            browser.press(driver, "a", "x", "p", "e", "r", "d")
            browser.press(driver, "\x1b", "\x1b")
            browser.wait_for_screen(driver, "churn")
            browser.press(driver, "a", "why", "\n")
            text = browser.wait_for_screen(driver, "churn")
            assert "Reason (goes into the audit log)" not in text
        with Catalog(str(db), read_only=True) as cat:
            assert len(cat.audit_events()) == before
    finally:
        code, out = served.stop()
    assert code == 0, out
