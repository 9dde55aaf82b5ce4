"""A catalog in a folder nothing here may write (a read-only mount, a colleague's
folder): every read works, from the CLI and the TUI, and a change is one clear
catalog error. SQLite opens a WAL catalog read-only there only as immutable (it
cannot make the `-shm` file); the test mounts the folder read-only to be sure."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from regtui.catalog.service import Catalog
from tests.unit.helpers import artifact

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="bind mounts")


@pytest.fixture
def read_only_catalog(tmp_path: Path) -> Iterator[Path]:
    source = tmp_path / "catalog"
    source.mkdir()
    with Catalog(source / "c.sqlite", user="alice") as cat:
        cat.register(artifact(tmp_path, "m.bin", "weights"), "churn", metrics={"auc": 0.9})
        cat.approve("churn:1", "fine")
    assert not (source / "c.sqlite-shm").exists()  # closed cleanly: no WAL files left
    mounted = tmp_path / "ro"
    mounted.mkdir()
    mount = shutil.which("mount")
    if mount is None or os.geteuid() != 0:
        pytest.skip("needs root to bind-mount a folder read-only")
    done = subprocess.run([mount, "--bind", str(source), str(mounted)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {done.stderr.decode().strip()}")
    try:
        subprocess.run([mount, "-o", "remount,bind,ro", str(mounted)], check=True)
        assert not os.access(mounted, os.W_OK)
        yield mounted / "c.sqlite"
    finally:
        # Lazily: a file the test's app still holds open would keep the mount busy
        # and leave it behind under /tmp for every later run.
        subprocess.run(["umount", "--lazy", str(mounted)], check=False)


def regtui(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "regtui", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "REGTUI_USER": "bob"},
    )


@pytest.mark.parametrize(
    ("args", "shows"),
    [
        (["models"], "churn"),
        (["versions", "churn"], "approved"),
        (["versions", "--json"], '"churn"'),
        (["versions", "--filter", "metrics.auc > 0.5"], "churn"),
        (["show", "churn:1"], "auc"),
        (["audit", "--verify"], "verif"),
    ],
)
def test_every_read_works(read_only_catalog: Path, args: list[str], shows: str) -> None:
    done = regtui(*args, db=read_only_catalog)
    assert done.returncode == 0, done.stderr
    assert shows in done.stdout


def test_a_change_is_one_catalog_error(read_only_catalog: Path) -> None:
    done = regtui("reject", "churn:1", "--reason", "no", db=read_only_catalog)
    assert done.returncode == 7
    assert done.stderr.count("\n") == 1 and "read-only" in done.stderr


async def test_the_tui_reads_it_and_says_why(read_only_catalog: Path) -> None:
    from regtui.tui.app import make_app
    from regtui.tui.widgets.version_table import VersionTable

    with Catalog(read_only_catalog, user="bob", read_only=True) as cat:
        app = make_app(cat, read_only="catalog file not writable")
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(50):
                await pilot.pause(0.05)
                if app.screen.query(VersionTable) and app.screen.query_one(VersionTable).total:
                    break
            assert app.screen.query_one(VersionTable).total == 1
            assert "read-only (catalog file not writable)" in app.sub_title
