"""Hooks through the CLI, as processes: `hook add|list|remove|test`, the secret
never printed, `hooks run` stopped during three promotions delivering all three
after its restart exactly once each and in order, a slow hook not delaying the
next change, `hooks run` beside `watch --headless` delivering each event once,
and a failure visible in `hook list`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from regtui.catalog import clock
from regtui.catalog.service import Catalog
from tests.support.patience import patient
from tests.unit.helpers import catalog_with_versions

SECRET = "hunter2-but-longer"


def regtui(db: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "regtui", "--db", db, *args],
        capture_output=True,
        text=True,
        timeout=patient(30),
        input=stdin,
        env={**os.environ, "COLUMNS": "200"},
    )


def start(db: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "regtui", "--db", db, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(p: subprocess.Popen[str]) -> tuple[str, str]:
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=patient(20))
    assert p.returncode == 0, err
    assert "Traceback" not in err
    return out, err


def wait_until(check: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + patient(seconds)
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.05)


def versions_in(out: Path) -> list[int]:
    if not out.exists():
        return []
    return [json.loads(x)["version"] for x in out.read_text().splitlines() if x.strip()]


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "c.sqlite")
    with catalog_with_versions(path, tmp_path / "art", 4) as cat:
        for n in (1, 2, 3, 4):
            cat.approve(f"churn:{n}", "ok")
    return path


def recorder(out: Path) -> str:
    return f"cat >> '{out}'; echo >> '{out}'"


def test_add_list_remove_and_the_secret_never_printed(db: str, tmp_path: Path) -> None:
    added = regtui(
        db,
        *("hook", "add", "ci", "--on", "approved", "--on", "rolled-back"),
        *("--post", "http://127.0.0.1:9/ci", "--secret", "-"),
        stdin=SECRET + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert "added hook ci" in added.stdout
    listed = regtui(db, "hook", "list")
    assert "ci: on approved,rolled_back: post http://127.0.0.1:9/ci (signed)" in listed.stdout
    as_json = json.loads(regtui(db, "hook", "list", "--json").stdout)
    assert as_json[0]["secret"] is True and as_json[0]["events"] == ["approved", "rolled_back"]
    outputs = [
        added.stdout,
        listed.stdout,
        json.dumps(as_json),
        regtui(db, "audit").stdout,
        regtui(db, "audit", "--json").stdout,
        regtui(db, "export", "-").stdout,
    ]
    assert all(SECRET not in text for text in outputs)
    with Catalog(db) as cat:  # it is kept, for signing
        assert cat.hooks()[0].hook.has_secret
    refused = regtui(db, "hook", "remove", "ci")
    assert refused.returncode == 2 and "reason" in refused.stderr
    assert regtui(db, "hook", "remove", "ci", "--reason", "gone").returncode == 0
    assert regtui(db, "hook", "list").stdout.strip() == "no hooks"
    assert "hook_removed" in regtui(db, "audit", "--action", "hook_removed").stdout


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["hook", "add", "x", "--on", "promoted"], "one of --run COMMAND or --post URL"),
        (["hook", "add", "x", "--on", "deployed", "--run", "true"], "unknown event 'deployed'"),
        (["hook", "remove"], "hook remove needs a NAME"),
        (["hook", "list", "--run", "true"], "are for hook add"),
        (["hook", "test", "nope"], "no hook named 'nope'"),
        (["hooks", "run", "--attempts", "0"], "--attempts is at least 1"),
    ],
)
def test_bad_hook_commands_are_one_line_errors(db: str, args: list[str], problem: str) -> None:
    done = regtui(db, *args)
    assert done.returncode != 0 and done.stderr.count("\n") == 1, done.stderr
    assert problem in done.stderr


def test_a_deliverer_stopped_during_three_promotions_delivers_them_after_restart_once_in_order(
    db: str, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    regtui(db, "hook", "add", "deploy", "--on", "promoted", "--stage", "production",
           "--run", recorder(out))  # fmt: skip
    runner = start(db, "hooks", "run")
    assert regtui(db, "promote", "churn:1", "--to", "production", "--reason", "1").returncode == 0
    wait_until(lambda: versions_in(out) == [1])
    stop(runner)
    for n in (2, 3, 4):
        done = regtui(db, "promote", f"churn:{n}", "--to", "production", "--reason", str(n))
        assert done.returncode == 0, done.stderr
    assert versions_in(out) == [1]  # nobody delivers while it is down
    runner = start(db, "hooks", "run", "--json")
    wait_until(lambda: len(versions_in(out)) >= 4)
    printed, _ = stop(runner)
    assert versions_in(out) == [1, 2, 3, 4]
    shown = [json.loads(x) for x in printed.splitlines()]
    assert [(a["hook"], a["ok"], a["attempt"]) for a in shown] == [("deploy", True, 1)] * 3
    again = regtui(db, "hooks", "run", "--once")
    assert again.returncode == 0 and again.stdout == ""
    assert versions_in(out) == [1, 2, 3, 4]


def test_a_slow_hook_does_not_delay_the_next_change(db: str, tmp_path: Path) -> None:
    started, finished = tmp_path / "started", tmp_path / "finished"
    command = f"echo >> '{started}'; sleep 5; touch '{finished}'"
    regtui(db, "hook", "add", "slow", "--on", "promoted", "--run", command)
    runner = start(db, "hooks", "run")
    try:
        assert regtui(db, "promote", "churn:1", "--to", "staging", "--reason", "a").returncode == 0
        wait_until(started.exists)
        # The hook is running now: the next change goes through at once, and is done
        # (in the log) while the hook still runs.
        done = regtui(db, "promote", "churn:2", "--to", "staging", "--reason", "b")
        assert done.returncode == 0, done.stderr
        assert not finished.exists()
        with Catalog(db) as cat:
            assert cat.resolve("churn@staging").version == 2
        assert not finished.exists()
    finally:
        runner.kill()
        runner.wait()


def test_hooks_run_beside_watch_headless_deliver_each_event_once(db: str, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    watched = tmp_path / "runs"
    watched.mkdir()
    regtui(db, "hook", "add", "h", "--on", "approved", "--on", "archived", "--run", recorder(out))
    deliverers = [
        start(db, "hooks", "run"),
        start(db, "watch", str(watched), "--headless"),
        start(db, "hooks", "run"),
    ]
    with Catalog(db) as cat:
        for n in (1, 2, 3):
            cat.archive(f"churn:{n}", reason=f"a{n}")
        wait_until(lambda: out.exists() and len(out.read_text().splitlines()) >= 3)
        time.sleep(1)  # a second delivery of any of them would land now
        archived = [e.seq for e in cat.audit_events(action="archived")]
    outputs = [stop(p)[0] for p in deliverers]
    got = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(d["action"], d["reason"]) for d in got] == [("archived", f"a{n}") for n in (1, 2, 3)]
    assert [d["seq"] for d in got] == archived
    assert sum(x.count(" event ") for x in outputs) == 3  # each deliverer prints what it did


def test_watch_headless_no_hooks_delivers_nothing(db: str, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    watched = tmp_path / "runs"
    watched.mkdir()
    regtui(db, "hook", "add", "h", "--on", "archived", "--run", recorder(out))
    watcher = start(db, "watch", str(watched), "--headless", "--no-hooks")
    assert watcher.stdout is not None
    for line in watcher.stdout:  # up and handling SIGTERM: a signal sooner kills it
        if " ready: " in line:
            break
    with Catalog(db) as cat:
        cat.archive("churn:1", reason="x")
    time.sleep(1.5)  # three of the deliverer's polls
    stop(watcher)
    assert not out.exists()


def test_a_failing_hook_is_visible_in_hook_list_and_hook_test(db: str, tmp_path: Path) -> None:
    regtui(db, "hook", "add", "broken", "--on", "archived", "--run", "echo no route; exit 7")
    with Catalog(db) as cat:
        cat.archive("churn:4", reason="old")
    done = regtui(db, "hooks", "run", "--once", "--attempts", "2", "--backoff", "0.01")
    assert done.returncode == 0
    assert done.stdout.splitlines() == [
        line for line in done.stdout.splitlines() if line.startswith("broken event ")
    ]
    assert "✗ 7 in" in done.stdout and "(attempt 2): no route" in done.stdout
    listed = regtui(db, "hook", "list").stdout
    assert "delivered 0, failed 1" in listed and "last failure: event" in listed
    assert "✗ 7 in" in listed
    tested = regtui(db, "hook", "test", "broken")
    assert tested.returncode == 1 and "archived churn:4: ✗ 7" in tested.stdout


def test_hook_list_shows_who_holds_a_lease_after_its_deliverer_is_killed(
    db: str, tmp_path: Path
) -> None:
    """kill -9 of a deliverer mid-event leaves its lease until it runs out: `hook list`
    (human and --json) says which deliverer holds it and until when."""
    started = tmp_path / "started"
    hang = f"echo $$ > '{started}'; exec sleep 120"
    with Catalog(db) as cat:  # in-process: only the deliverer and `hook list` need be processes
        cat.add_hook("stuck", ["archived"], run=hang)
        assert cat.hooks()[0].lease is None and cat.hooks()[0].to_json()["lease"] is None
        cat.archive("churn:1", reason="r")
    p = start(db, "hooks", "run")
    try:
        wait_until(lambda: started.exists() and started.read_text().strip())
        p.kill()
        p.wait(timeout=patient(20))
        [listed] = json.loads(regtui(db, "hook", "list", "--json").stdout)
        owner, until = listed["lease"]["owner"], listed["lease"]["until"]
        assert owner.split(":")[1] == str(p.pid)
        human = regtui(db, "hook", "list").stdout
        assert f"lease held by deliverer {owner} until {until}" in human
        with Catalog(db) as cat:
            lease = cat.hooks()[0].lease
            assert lease is not None and lease.until > clock.now()
    finally:
        p.kill()
        if started.exists() and started.read_text().strip():
            os.killpg(int(started.read_text()), signal.SIGKILL)


def test_hook_add_on_takes_the_payload_names_and_their_dashed_spellings(db: str) -> None:
    """`--on` takes each event name a payload carries (hooks.EVENTS; that every kind's
    payload carries its name there: tests/unit/test_hooks.py) and its dashed spelling;
    `hook list` shows the payload's names."""
    from regtui.catalog.hooks import EVENTS

    for hook, names in (("plain", list(EVENTS)), ("dashed", [n.replace("_", "-") for n in EVENTS])):
        ons = [x for n in names for x in ("--on", n)]
        added = regtui(db, "hook", "add", hook, *ons, "--run", "true")
        assert added.returncode == 0, added.stderr
    listed = {
        h["name"]: h["events"] for h in json.loads(regtui(db, "hook", "list", "--json").stdout)
    }
    assert listed == {"plain": list(EVENTS), "dashed": list(EVENTS)}
    human = regtui(db, "hook", "list").stdout
    assert human.count(f"on {','.join(EVENTS)}: run true") == 2
