"""`regtui audit --follow` as a program consumes it: JSON lines that parse,
resumed with `--since` the last seq it saw while another process keeps writing
(no event twice, none missed), `--since TIME`, the tail-then-follow default,
filters, and a clean end on SIGTERM, SIGINT and a closed pipe (exit 0, no
traceback). On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta, timezone
from pathlib import Path
from typing import IO, Any

import pytest

from regtui.catalog.service import Catalog
from tests.support.patience import patient
from tests.unit.helpers import artifact, catalog_with_versions


def follower(db: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "regtui", "--db", db, "audit", "--follow", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def read_lines(out: IO[str], n: int, timeout: float) -> list[str]:
    """`n` lines from a follower's stdout, or fail after `timeout` seconds."""
    got: list[str] = []
    done = threading.Event()

    def reader() -> None:
        while len(got) < n:
            line = out.readline()
            if not line:
                break
            got.append(line)
        done.set()

    threading.Thread(target=reader, daemon=True).start()
    assert done.wait(patient(timeout)), f"only {len(got)} of {n} lines: {got}"
    return got


def stop(p: subprocess.Popen[str], sig: int = signal.SIGTERM) -> str:
    p.send_signal(sig)
    _out, err = p.communicate(timeout=patient(15))
    assert p.returncode == 0, err
    assert "Traceback" not in err
    return err


@pytest.fixture
def cat(db_url: str, tmp_path: Path) -> Iterator[Catalog]:
    c = catalog_with_versions(db_url, tmp_path / "art", 2)
    yield c
    c.close()


def test_resumed_from_the_last_seq_it_saw_no_event_is_seen_twice_or_missed(
    cat: Catalog, db_url: str
) -> None:
    writing = threading.Event()

    def writer() -> None:
        for i in range(40):
            cat.log("churn:1", metrics={"step": float(i)}, reason=f"w{i}")
        writing.set()

    first = follower(cat.url, "--json", "--since", "0")
    threading.Thread(target=writer, daemon=True).start()
    seen = [json.loads(x) for x in read_lines(first.stdout, 12, 30)]  # type: ignore[arg-type]
    stop(first)
    second = follower(cat.url, "--json", "--since", str(seen[-1]["seq"]))
    assert writing.wait(patient(60))
    total = cat.audit_head()[0]
    rest = read_lines(second.stdout, total - seen[-1]["seq"], 30)  # type: ignore[arg-type]
    stop(second, signal.SIGINT)
    seqs = [e["seq"] for e in seen] + [json.loads(x)["seq"] for x in rest]
    assert seqs == list(range(1, total + 1))
    assert {json.loads(x)["reason"] for x in rest[-3:]} == {"w37", "w38", "w39"}


def test_since_a_time_and_filters(cat: Catalog) -> None:
    cat.approve("churn:1", "one")
    cat.promote("churn:1", "staging", reason="try")
    cat.approve("churn:2", "two")
    since = cat.audit_events()[-1].at.astimezone(timezone(timedelta(hours=-5)))
    cat.promote("churn:2", "staging", reason="next")
    p = follower(cat.url, "--json", "--since", since.isoformat(), "--action", "promoted")
    [line] = read_lines(p.stdout, 1, 30)  # type: ignore[arg-type]
    assert json.loads(line)["reason"] == "next"
    cat.log("churn:1", metrics={"f1": 0.4}, reason="not a promotion")
    cat.promote("churn:1", "staging", reason="again")
    [line] = read_lines(p.stdout, 1, 30)  # type: ignore[arg-type]
    assert json.loads(line)["reason"] == "again"
    stop(p)


def test_without_since_the_last_ten_then_new_ones_as_text(cat: Catalog) -> None:
    for i in range(12):
        cat.log("churn:2", metrics={"auc": i / 20}, reason=f"r{i}")
    head = cat.audit_head()[0]
    p = follower(cat.url)
    old = read_lines(p.stdout, 10, 30)  # type: ignore[arg-type]
    assert [int(x.split()[0]) for x in old] == list(range(head - 9, head + 1))
    cat.approve("churn:1", "fresh")
    [new] = read_lines(p.stdout, 1, 30)  # type: ignore[arg-type]
    cells = new.split()
    assert int(cells[0]) == head + 1 and "approved" in cells and "churn:1" in cells
    assert new.rstrip().endswith("fresh")
    stop(p, signal.SIGINT)


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (["fraud"], lambda e: e["model"] == "fraud"),
        (["--actor", "bob"], lambda e: e["actor"] == "bob"),
        (["--action", "logged"], lambda e: e["action"] == "logged"),
        (
            ["churn", "--action", "approved"],
            lambda e: e["model"] == "churn" and e["action"] == "approved",
        ),
    ],
    ids=["model", "actor", "action", "model+action"],
)
def test_filters_pick_the_same_events_as_audit(
    tmp_path: Path, args: list[str], wanted: Callable[[dict[str, Any]], bool]
) -> None:
    db = str(tmp_path / "c.sqlite")
    alice = catalog_with_versions(db, tmp_path / "art", 2)
    bob = Catalog(db, user="bob")
    bob.register(artifact(tmp_path / "art", "f.bin", "fraud"), "fraud")
    p = follower(db, "--json", "--since", "0", *args)
    for who, ref in ((alice, "churn:1"), (bob, "churn:2"), (bob, "fraud:1"), (alice, "fraud:1")):
        who.log(ref, metrics={"x": 1.0}, reason="r")
        if who is bob:
            who.approve(ref, "ok")
    every = [e.to_json() for e in alice.audit_events()]
    expected = [e["seq"] for e in every if wanted(e)]
    got = [json.loads(x)["seq"] for x in read_lines(p.stdout, len(expected), 30)]  # type: ignore[arg-type]
    stop(p)
    assert got == expected and expected
    alice.close()
    bob.close()


def test_a_reader_that_goes_away_ends_it_quietly(cat: Catalog) -> None:
    p = follower(cat.url, "--json", "--since", "0")
    read_lines(p.stdout, 1, 30)  # type: ignore[arg-type]
    assert p.stdout is not None
    p.stdout.close()
    for i in range(3):  # writes to the closed pipe fail: it ends
        cat.log("churn:1", metrics={"x": float(i)}, reason="after")
    p.wait(timeout=patient(20))
    err = p.stderr.read() if p.stderr else ""
    assert p.returncode == 0 and err == "", err


@pytest.mark.parametrize("args", [["--json", "--since", "0"], []])
def test_a_reader_that_goes_away_ends_it_with_no_new_event(cat: Catalog, args: list[str]) -> None:
    # `regtui audit --follow | head -1` on a quiet catalog: head is gone, so must it be
    p = follower(cat.url, *args)
    read_lines(p.stdout, 1, 30)  # type: ignore[arg-type]
    assert p.stdout is not None
    p.stdout.close()
    p.wait(timeout=patient(10))  # no write to fail: it notices the reader went
    err = p.stderr.read() if p.stderr else ""
    assert p.returncode == 0 and err == "", err


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--since", "5"], "--since goes with --follow"),
        (["--follow", "--verify"], "does not go with --verify"),
        (["--follow", "--since", "yesterday"], "--since: 'yesterday' is not an ISO date"),
    ],
)
def test_bad_combinations_are_one_line_errors(
    tmp_path: Path, args: list[str], problem: str
) -> None:
    db = str(tmp_path / "c.sqlite")
    Catalog(db).close()
    done = subprocess.run(
        [sys.executable, "-m", "regtui", "--db", db, "audit", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and problem in done.stderr


@pytest.mark.parametrize("since", ["0", "1200", "2000-01-01"])
def test_catching_up_on_a_long_log_streams_every_event_once_in_order(
    sqlite_path: str, since: str
) -> None:
    """More events than one page (audit_follow.PAGE) to catch up on: every one
    after `since`, in order, once; then it follows as before."""
    import hashlib

    from regtui.catalog.service import Candidate
    from regtui.hashing import Digest

    with Catalog(sqlite_path) as c:
        c.add_candidates(
            [
                Candidate(
                    path=Path(f"/runs/m-{i}.safetensors"),
                    model="churn",
                    digest=Digest(hashlib.sha256(str(i).encode()).hexdigest(), 10 + i),
                    format="safetensors",
                )
                for i in range(2_600)
            ]
        )
        head, _ = c.audit_head()
    start = int(since) if since.isdigit() else 0
    p = follower(sqlite_path, "--json", "--since", since)
    seqs = [json.loads(line)["seq"] for line in read_lines(p.stdout, head - start, 60)]  # type: ignore[arg-type]
    stop(p)
    assert seqs == list(range(start + 1, head + 1))


@pytest.mark.parametrize("how", ["restored", "removed"])
def test_a_replaced_catalog_file_ends_it_naming_where_to_resume(
    sqlite_path: str, tmp_path: Path, how: str
) -> None:
    """A restore puts another file where the catalog was: following the old one
    would show nothing more, silently. It ends with one line and the seq to resume."""
    import shutil

    catalog_with_versions(sqlite_path, tmp_path / "art", 2).close()
    saved = tmp_path / "saved.sqlite"
    shutil.copy(sqlite_path, saved)
    with Catalog(sqlite_path) as c:
        head, _ = c.audit_head()
    p = follower(sqlite_path, "--json", "--since", "0")
    read_lines(p.stdout, head, 30)  # type: ignore[arg-type]
    if how == "restored":
        os.replace(saved, sqlite_path)
    else:
        os.unlink(sqlite_path)
    _out, err = p.communicate(timeout=patient(15))
    assert p.returncode == 7, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "was replaced" in lines[0] and f"--since {head}" in lines[0]
    assert "Traceback" not in err
