"""`regtui serve` refuses, before anything starts, what would expose a catalog:
--no-token or --user-header on an address others can reach, a tokens file others
may read; and manages its users (`--add-user` shows the token once, keeps a hash).
Each refusal: exit 2, one line, no URL printed (nothing listened)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.helpers import catalog_with_versions


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.sqlite"
    catalog_with_versions(str(path), tmp_path, n=1).close()
    return path


def serve(
    db: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "regtui", "--db", str(db), "serve", "--port", "0", *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})},
    )  # fmt: skip


def refused(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, done
    assert done.stdout == ""  # no URL: nothing was started
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("regtui: error: "), done.stderr
    for w in words:
        assert w in lines[0], lines[0]


NOT_LOOPBACK = ["0.0.0.0", "::", "192.168.1.5", "10.1.2.3", "example.com", "localhost.evil.example"]


@pytest.mark.parametrize("host", NOT_LOOPBACK)
def test_no_token_is_refused_on_an_address_others_can_reach(db: Path, host: str) -> None:
    refused(serve(db, "--host", host, "--no-token"), "--no-token", "loopback")


@pytest.mark.parametrize("host", NOT_LOOPBACK[:3])
def test_user_header_is_refused_on_an_address_others_can_reach(db: Path, host: str) -> None:
    refused(serve(db, "--host", host, "--user-header", "X-User"), "--user-header", "loopback")


def test_no_token_with_a_token_is_refused(db: Path) -> None:
    refused(serve(db, "--no-token", "--token", "t"), "--no-token")
    refused(serve(db, "--no-token", env={"REGTUI_SERVE_TOKEN": "t"}), "--no-token")


def test_add_user_shows_the_token_once_and_keeps_only_its_hash(db: Path) -> None:
    done = serve(db, "--add-user", "ann")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip().splitlines()[-1]
    path = db.with_name(db.name + ".serve-tokens")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert token not in path.read_text() and "ann" in path.read_text()
    assert serve(db, "--add-user", "bob").returncode == 0
    assert serve(db, "--list-users").stdout.split() == ["ann", "bob"]
    assert token not in serve(db, "--list-users").stdout
    assert serve(db, "--remove-user", "ann").returncode == 0
    assert serve(db, "--list-users").stdout.split() == ["bob"]
    refused(serve(db, "--remove-user", "ann"), "ann")
    for bad in ("-x", "a b", "../x", "a/b", "x" * 64, "", "a\nb", "a:b"):
        refused(serve(db, f"--add-user={bad}"), "user name")


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_serve_refuses_a_tokens_file_others_may_read(db: Path, mode: int) -> None:
    assert serve(db, "--add-user", "ann").returncode == 0
    path = db.with_name(db.name + ".serve-tokens")
    path.chmod(mode)
    refused(serve(db), f"chmod 600 {path}")
    refused(serve(db, "--add-user", "bob"), f"chmod 600 {path}")
