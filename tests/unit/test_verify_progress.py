"""`audit --verify` tells its progress: the catalog hands ("events", done, total)
as the chain is walked and ("tables", 0, 0) before the comparison; the CLI
shows it on stderr (one line rewritten on a terminal, a line per tenth of a
long log otherwise), and never on stdout, which keeps the result alone."""

from __future__ import annotations

import hashlib
import io
import os
import pty
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from regtui.catalog import audit
from regtui.catalog.service import Candidate, Catalog
from regtui.cli.verify_progress import LINES_FROM, VerifyProgress
from regtui.hashing import Digest


def _fill(db: str, n: int) -> None:
    with Catalog(db) as cat:
        cat.add_candidates(
            [
                Candidate(
                    path=Path(f"/runs/m-{i}.safetensors"),
                    model=f"m{i % 3}",
                    digest=Digest(hashlib.sha256(i.to_bytes(8, "little")).hexdigest(), 100 + i),
                    format="safetensors",
                    framework=None,
                    metrics={"auc": i / n},
                    params={},
                    tags={},
                )
                for i in range(n)
            ]
        )


@pytest.mark.parametrize("n", [1, 999, 2_500])
def test_the_catalog_reports_every_step_then_the_tables(db_url: str, n: int) -> None:
    _fill(db_url, n)
    heard: list[tuple[str, int, int]] = []
    with Catalog(db_url) as cat:
        chain, state = cat.verify_catalog(progress=lambda *step: heard.append(step))
        total = cat.audit_head()[0]
    assert chain.ok and state is not None and state.ok
    events = [(done, t) for phase, done, t in heard if phase == "events"]
    assert heard[-1] == ("tables", 0, 0) and heard.count(("tables", 0, 0)) == 1
    assert events[-1] == (total, total) and all(t == total for _, t in events)
    dones = [d for d, _ in events]
    assert dones == sorted(set(dones))  # rising, never repeated
    assert len(events) == total // audit.PROGRESS_EVERY + (total % audit.PROGRESS_EVERY != 0)


def test_a_broken_chain_stops_the_progress_before_the_tables(sqlite_path: str) -> None:
    _fill(sqlite_path, 2_500)
    with sqlite3.connect(sqlite_path) as con:
        con.execute("UPDATE audit_event SET actor = 'mallory' WHERE seq = 1700")
    heard: list[tuple[str, int, int]] = []
    with Catalog(sqlite_path) as cat:
        chain, state = cat.verify_catalog(progress=lambda *step: heard.append(step))
    assert not chain.ok and chain.first_bad == 1700 and state is None
    assert [s for s in heard if s[0] == "tables"] == []
    assert max(done for _, done, _ in heard) < 1700


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("total", [10, LINES_FROM - 1, LINES_FROM, 1_000_000, 1_234_567])
def test_lines_for_a_log_or_ci_only_for_a_long_log(total: int) -> None:
    out = io.StringIO()
    shown = VerifyProgress(out)
    step = max(audit.PROGRESS_EVERY, total // 100)
    for done in [*range(step, total + 1, step), total]:
        shown("events", done, total)
    shown("tables", 0, 0)
    shown.finish()
    lines = out.getvalue().splitlines()
    if total < LINES_FROM:
        assert lines == []
        return
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()
    assert 10 <= len(lines) <= 12  # a line per tenth, and the comparison
    assert lines[-2] == f"verifying the audit log: {total:,} of {total:,} events"
    assert lines[-1] == f"comparing the tables with the log's {total:,} events…"


@pytest.mark.parametrize("total", [1, 5_000, 1_000_000])
def test_a_terminal_gets_one_line_erased_at_the_end(total: int) -> None:
    out = _Terminal()
    shown = VerifyProgress(out)
    shown("events", total, total)
    shown("tables", 0, 0)
    shown.finish()
    text = out.getvalue()
    assert "\n" not in text
    assert f"\r\x1b[Kverifying the audit log: {total:,} of {total:,} events" in text
    assert text.endswith("\r\x1b[K")


def test_the_cli_shows_progress_on_a_terminal_and_keeps_stdout_clean(
    sqlite_path: str,
) -> None:
    _fill(sqlite_path, 1_500)
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "regtui", "--db", sqlite_path, "audit", "--verify"],
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=120,
            check=False,
        )
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: all of it was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    assert proc.returncode == 0, shown
    assert b"verifying the audit log: 1,000 of 1,50" in shown
    assert b"comparing the tables" in shown and shown.endswith(b"\r\x1b[K")
    assert b"verifying" not in proc.stdout and b"\x1b" not in proc.stdout
    assert proc.stdout.decode().strip().startswith("audit chain verifies")
