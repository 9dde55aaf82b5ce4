"""The command line as a user's shell runs it: a subprocess per command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.pg import url_as
from tests.unit.helpers import model_bytes


def run(
    *args: str, db: str | None = None, user: str | None = None, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "regtui", *args]
    env = dict(os.environ)
    if db is not None and user is not None:
        db = url_as(db, user)  # PostgreSQL: the actor is the role logged in as
    if db is not None:
        env["REGTUI_DB"] = db
    if user is not None:
        env["REGTUI_USER"] = user
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def js(*args: str, **kw: object) -> object:
    return json.loads(run(*args, "--json", **kw).stdout)  # type: ignore[arg-type]


def fail(*args: str, db: str | None = None, code: int | None = None) -> str:
    proc = run(*args, db=db, ok=False)
    assert proc.returncode != 0
    if code is not None:
        assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("regtui: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.fixture
def arts(tmp_path: Path) -> Path:
    folder = tmp_path / "arts"
    folder.mkdir()
    for i in (1, 2, 3):
        (folder / f"m{i}.bin").write_bytes(model_bytes(f"weights {i}"))
    return folder


def test_full_review_flow_with_json(db_url: str, arts: Path) -> None:
    db = db_url
    v1 = js(
        "register",
        str(arts / "m1.bin"),
        "--model",
        "churn",
        "--metric",
        "auc=0.90",
        "--param",
        "lr=0.1",
        "--param",
        "opt=adam",
        "--tag",
        "team=growth",
        db=db,
        user="alice",
    )
    assert v1["created"] is True and v1["version"] == 1 and v1["created_by"] == "alice"
    assert v1["metrics"] == {"auc": 0.9} and v1["params"] == {"lr": 0.1, "opt": "adam"}
    for key in (
        "model",
        "version",
        "path",
        "sha256",
        "size_bytes",
        "format",
        "framework",
        "metrics",
        "params",
        "tags",
        "metadata",
        "lineage",
        "approval",
        "stages",
        "warnings",
        "created_at",
        "created_by",
    ):
        assert key in v1
    v2 = js(
        "register",
        str(arts / "m2.bin"),
        "--model",
        "churn",
        "--metric",
        "auc=0.93",
        db=db,
        user="alice",
    )
    assert v2["version"] == 2
    refused = fail("promote", "churn:2", "--reason", "r", "--to", "production", db=db, code=4)
    assert "protected-stage-needs-approval" in refused
    approved = js("approve", "churn:2", "--reason", "better auc", db=db, user="bob")
    assert approved["approval"] == {
        **approved["approval"],
        "status": "approved",
        "by": "bob",
        "reason": "better auc",
    }
    js("approve", "churn:1", "--reason", "baseline", db=db, user="bob")
    js("promote", "churn:1", "--reason", "r", "--to", "production", db=db, user="bob")
    move = js("promote", "churn:2", "--to", "production", "--reason", "ship", db=db, user="bob")
    assert (move["from_version"], move["to_version"]) == (1, 2)
    served = Path(run("resolve", "churn@production", db=db).stdout.strip())
    # Production is served from the content store, which outlives the training folder.
    assert served.read_bytes() == (arts / "m2.bin").read_bytes()
    assert served.is_relative_to(js("store", db=db)["location"]) and served != arts / "m2.bin"
    shown = js("show", "churn@production", db=db)
    assert shown["version"] == 2 and shown["stages"] == ["production"]
    back = js("rollback", "churn", "--reason", "latency", db=db, user="bob")
    assert (back["from_version"], back["to_version"], back["action"]) == (2, 1, "rollback")
    assert js("resolve", "churn@production", db=db)["version"] == 1
    check = js("audit", "--verify", db=db)
    assert check["ok"] is True and check["events"] == 8
    events = js("audit", "churn", db=db)
    assert [e["action"] for e in events][-3:] == ["promoted", "promoted", "rolled_back"]
    models = js("models", db=db)
    assert models[0]["name"] == "churn" and models[0]["versions"] == 2
    assert models[0]["stages"] == {"production": 1}
    listed = js("versions", "churn", "--filter", "metrics.auc > 0.91", db=db)
    assert [v["version"] for v in listed] == [2]
    diff = js("diff", "churn:1", "churn:2", db=db)
    auc = next(r for r in diff["rows"] if r["section"] == "metrics" and r["key"] == "auc")
    assert auc["delta"] == pytest.approx(0.03) and auc["better"] is True


def test_text_output_reads_well(sqlite_path: str, arts: Path) -> None:
    db = sqlite_path
    out = run(
        "register", str(arts / "m1.bin"), "--model", "churn", "--metric", "auc=0.9", db=db
    ).stdout
    assert out.startswith("registered churn:1")
    again = run("register", str(arts / "m1.bin"), "--model", "churn", db=db).stdout
    assert again.startswith("already registered as churn:1")
    run("register", str(arts / "m2.bin"), "--model", "churn", "--metric", "auc=0.8", db=db)
    assert "churn" in run("models", db=db).stdout
    versions = run("versions", "churn", db=db).stdout.splitlines()
    assert versions[0].split()[:3] == ["VER", "CREATED", "FORMAT"] and len(versions) == 3
    diff = run("diff", "churn:1", "churn:2", db=db).stdout
    assert "auc" in diff and "-0.1 worse" in diff
    show = run("show", "churn:1", db=db).stdout
    assert "sha256" in show and "auc" in show
    assert "verifies" in run("audit", "--verify", db=db).stdout
    assert len(run("audit", "--head", db=db).stdout.strip()) == 64


def test_scan_registers_new_files_once(sqlite_path: str, tmp_path: Path) -> None:
    root = tmp_path / "runs"
    for model, run_dir in (
        ("churn-xgb", "2026-11-20"),
        ("churn-xgb", "2026-11-21"),
        ("fraud", "a"),
    ):
        d = root / model / run_dir
        d.mkdir(parents=True)
        (d / "model.bin").write_bytes(model_bytes(f"{model}/{run_dir}"))
    first = js("scan", str(root), db=sqlite_path)
    assert sorted((i["model"], i["outcome"]) for i in first) == [
        ("churn-xgb", "registered"),
        ("churn-xgb", "registered"),
        ("fraud", "registered"),
    ]
    second = js("scan", str(root), db=sqlite_path)
    assert {i["outcome"] for i in second} == {"exists"}
    fixed = js("scan", str(root), "--model", "all", db=sqlite_path)
    assert {i["model"] for i in fixed} == {"all"} and len(fixed) == 3


def test_export_import_round_trip_via_files(sqlite_path: str, arts: Path, tmp_path: Path) -> None:
    run("register", str(arts / "m1.bin"), "--model", "churn", db=sqlite_path)
    run("export", str(tmp_path / "cat.json"), db=sqlite_path)
    other = str(tmp_path / "other.sqlite")
    assert js("import", str(tmp_path / "cat.json"), db=other) == {"versions": 1}
    run("export", str(tmp_path / "again.json"), db=other)
    assert (tmp_path / "cat.json").read_text() == (tmp_path / "again.json").read_text()


def test_edit_archive_stages_policy_verify_locate(sqlite_path: str, arts: Path) -> None:
    db = sqlite_path
    run("register", str(arts / "m1.bin"), "--model", "churn", db=db)
    run("register", str(arts / "m2.bin"), "--model", "churn", db=db)
    edited = js(
        "edit",
        "churn",
        "--reason",
        "r",
        "--description",
        "Predicts churn",
        "--tag",
        "owner=ml",
        db=db,
    )
    assert edited["description"] == "Predicts churn" and edited["tags"] == {"owner": "ml"}
    assert js("edit", "churn:1", "--reason", "r", "--tag", "k=v", db=db)["tags"] == {"k": "v"}
    assert js("archive", "churn:1", "--reason", "old", db=db)["archived"] is True
    assert js("archive", "churn:1", "--reason", "r", "--undo", db=db)["archived"] is False
    policy = js("policy", "--protect", "production,canary", "--distinct-approver", "on", db=db)
    assert policy == {"protected_stages": ["production", "canary"], "distinct_approver": True}
    js("promote", "churn:1", "--reason", "r", "--to", "staging", db=db)
    history = js("stages", "churn", db=db)
    assert history[0]["stage"] == "staging" and history[0]["to_version"] == 1
    at = js("stages", "churn", "--stage", "staging", "--at", "2000-01-01", db=db)
    assert at["version"] is None
    (arts / "m2.bin").write_bytes(b"changed")
    proc = run("verify", "--json", db=db, ok=False)
    assert proc.returncode == 9
    assert {c["ref"]: c["state"] for c in json.loads(proc.stdout)} == {
        "churn:1": "ok",
        "churn:2": "changed",
    }
    located = js("locate", db=db)
    assert located["catalog"].endswith(Path(db).name)
    js("demote", "churn", "--reason", "r", "--stage", "staging", db=db)


def test_default_catalog_lives_in_the_data_dir(tmp_path: Path, arts: Path) -> None:
    run("register", str(arts / "m1.bin"), "--model", "churn")
    data_dir = Path(os.environ["REGTUI_DATA_DIR"])
    assert (data_dir / "catalog.sqlite").exists()
    assert "--db" not in run("models").stdout


def test_version_and_help_are_quick_to_reach() -> None:
    assert run("--version").stdout.strip().startswith("regtui ")
    assert "register" in run("--help").stdout


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["frobnicate"], 2, "invalid choice"),
        (["register", "/no/such/file.bin", "--model", "churn"], 6, "no such file"),
        (["register", "{arts}/m1.bin"], 2, "--model"),
        (["register", "{arts}/m1.bin", "--model", "Bad\tName"], 2, "bad model name"),
        (["register", "{arts}/m1.bin", "--model", "m", "--metric", "auc"], 2, "KEY=VALUE"),
        (["register", "{arts}/m1.bin", "--model", "m", "--metric", "auc=hi"], 2, "number"),
        (["show", "churn:0"], 2, "bad version"),
        (["show", "nope"], 3, "no model named"),
        (["versions", "nope"], 3, "no model named"),
        (["versions", "churn", "--filter", "metrics.auc >"], 2, "ends too early"),
        (["approve", "churn:1"], 2, "--reason"),
        (["approve", "churn:1", "--reason", " "], 2, "reason is required"),
        (["promote", "churn:1", "--reason", "r", "--to", "Prod!"], 2, "bad stage name"),
        (["rollback", "churn", "--reason", "r"], 3, "nothing in stage"),
        (["resolve", "churn@production"], 3, "nothing in stage"),
        (["diff", "churn:1", "churn:7"], 3, "no version 7"),
        (["import", "{arts}/m1.bin"], 2, "not readable JSON"),
        (["watch", "--settle", "abc"], 2, "expected seconds"),
        (
            ["--db", "/no/such/dir/cat.sqlite", "models"],
            7,
            "its folder /no/such/dir does not exist",
        ),
        (["--db", "{arts}/m1.bin", "models"], 7, "not an SQLite database"),
        (["--db", "postgresql://nobody@/x?host=/no/such/dir", "models"], 7, "database error"),
    ],
)
def test_errors_are_one_line(
    sqlite_path: str, arts: Path, args: list[str], code: int, needle: str
) -> None:
    from regtui.catalog.service import Catalog

    with Catalog(sqlite_path) as cat:  # set up in-process: only the command under test is slow
        cat.register(arts / "m1.bin", "churn")
    line = fail(*[a.replace("{arts}", str(arts)) for a in args], db=sqlite_path, code=code)
    assert needle in line


def test_debug_shows_the_traceback(sqlite_path: str) -> None:
    proc = run("show", "nope", "--debug", db=sqlite_path, ok=False)
    assert "Traceback" in proc.stderr


def test_markup_and_escapes_from_artifacts_print_inert(sqlite_path: str, tmp_path: Path) -> None:
    evil = "[@click=app.quit]\x1b[31mred\x1b]0;title\x07\u202eevil\x9b"
    (tmp_path / "m.bin").write_bytes(model_bytes("x"))
    run(
        "register",
        str(tmp_path / "m.bin"),
        "--model",
        "m",
        "--tag",
        f"note={evil}",
        "--param",
        f"p={evil}",
        db=sqlite_path,
    )
    shown = run("show", "m:1", db=sqlite_path).stdout
    assert "\x1b" not in shown and "\u202e" not in shown and "\x9b" not in shown
    assert "\\x1b[31mred" in shown and "\\u202e" in shown and "[@click=app.quit]" in shown
    raw = run("show", "m:1", "--json", db=sqlite_path).stdout
    assert "\x1b" not in raw and "\\u001b" in raw
    assert json.loads(raw)["tags"]["note"] == evil


def test_reject_backup_head_and_multi_stage_promote(
    sqlite_path: str, arts: Path, tmp_path: Path
) -> None:
    db = sqlite_path
    for i in (1, 2):
        run("register", str(arts / f"m{i}.bin"), "--model", "churn", db=db)
    rejected = js("reject", "churn:1", "--reason", "leaks the label", db=db)
    assert rejected["approval"]["status"] == "rejected"
    refused = fail("promote", "churn:1", "--reason", "r", "--to", "staging", db=db, code=4)
    assert "rejected-no-stage" in refused
    js("promote", "churn:2", "--reason", "r", "--to", "qa", db=db)
    moves = js(
        "promote",
        "churn:2",
        "--reason",
        "r",
        "--to",
        "staging",
        "--to",
        "canary",
        "--demote",
        "qa",
        db=db,
    )
    assert [(m["stage"], m["to_version"]) for m in moves] == [
        ("staging", 2),
        ("canary", 2),
        ("qa", None),
    ]
    head = run("audit", "--head", db=db).stdout.strip()
    assert run("audit", "--verify", "--head", head, db=db).returncode == 0
    proc = run("audit", "--verify", "--head", "0" * 64, db=db, ok=False)
    assert proc.returncode == 8 and "BROKEN" in proc.stdout
    run("backup", str(tmp_path / "copy.sqlite"), db=db)
    copied = js("versions", "churn", db=str(tmp_path / "copy.sqlite"))
    assert [v["version"] for v in copied] == [1, 2]
    assert "exists" in fail("backup", str(tmp_path / "copy.sqlite"), db=db, code=2)
