"""A reviewer's day at the command line (issue 15): exit codes by kind, `--at
DATE` as the end of that day, several refs in one change, errors that name the
path, scan's refusals once each, and counts in the right number."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from regtui.catalog import clock
from regtui.catalog.service import Catalog
from tests.unit.helpers import model_bytes

README = Path(__file__).resolve().parents[3] / "README.md"


def cli(*args: str, db: Path | str | None, user: str = "carol") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "REGTUI_DB"} | {"REGTUI_USER": user}
    if db is not None:
        env["REGTUI_DB"] = str(db)
    return subprocess.run(
        [sys.executable, "-m", "regtui", *args], capture_output=True, text=True, env=env,
        timeout=120,
    )  # fmt: skip


def one_error(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("regtui: error: "), proc.stderr
    return lines[0]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """churn:1 approved and in production, churn:2 and churn:3 pending; all by alice."""
    path = tmp_path / "c.sqlite"
    with Catalog(path, user="alice") as cat:
        for i in (1, 2, 3):
            artifact = tmp_path / f"m{i}.safetensors"
            artifact.write_bytes(model_bytes(f"weights {i}"))
            cat.register(artifact, "churn")
    with Catalog(path, user="bob") as cat:
        cat.approve("churn:1", "baseline")
        cat.promote("churn:1", "production", "first")
    return path


# --------------------------------------------------------------- exit codes

KINDS = {
    2: [
        ["approve", "churn:2"],  # no --reason
        ["show", "churn:x"],
        ["versions", "churn", "--filter", "metrics.auc >"],
        ["stages", "churn", "--stage", "production", "--at", "yesterday"],
        ["approve", "churn:2", "churn:2", "--reason", "twice"],
        ["edit", "churn:2", "--reason", "nothing named"],
    ],
    3: [
        ["show", "churn:99"],
        ["show", "nosuch"],
        ["demote", "churn", "--stage", "qa", "--reason", "r"],
    ],
    4: [["promote", "churn:2", "--to", "production", "--reason", "r"]],
    5: [
        ["approve", "churn:1", "--reason", "again"],
        ["rollback", "churn", "--reason", "nothing earlier"],
        ["promote", "churn:1", "--to", "production", "--reason", "r"],
        ["archive", "churn:2", "--undo", "--reason", "never archived"],
        ["promote", "churn:2", "--to", "staging", "--expect", "1", "--reason", "r"],
        ["edit", "churn:2", "--untag", "no-such-tag", "--reason", "already so"],
    ],
    6: [["register", "no-such-model.onnx", "--model", "churn"]],
    7: [["--db", "/no/such/dir/x.sqlite", "models"]],
}
TABLE = [(code, args) for code, cases in KINDS.items() for args in cases]


@pytest.mark.parametrize(("code", "args"), TABLE, ids=[" ".join(a) for _, a in TABLE])
def test_each_kind_of_error_has_its_exit_code(db: Path, code: int, args: list[str]) -> None:
    proc = cli(*args, db=db)
    assert proc.returncode == code, (args, proc.returncode, proc.stderr)
    one_error(proc)


def test_nothing_to_roll_back_to_is_a_conflict_not_bad_usage(db: Path) -> None:
    proc = cli("rollback", "churn", "--reason", "r", db=db)
    assert proc.returncode == 5
    assert "no earlier version to roll back to; demote empties" in one_error(proc)


def test_the_readme_documents_every_exit_code() -> None:
    text = README.read_text(encoding="utf-8")
    documented = {int(m) for m in re.findall(r"^\| (\d) \| ", text, flags=re.MULTILINE)}
    assert set(KINDS) <= documented and {0, 1, 8, 9} <= documented, documented


# ------------------------------------------------------------- --at a date


def _moved_at(db: Path, *moves: tuple[datetime, str]) -> None:
    """Promote each ref to production, each stamped at its own time."""
    with Catalog(db, user="bob") as cat:
        for at, ref in moves:
            with clock.at(at):
                cat.approve(ref, "ok") if cat.get(ref).approval.status != "approved" else None
                cat.promote(ref, "production", "move")


def _held(db: Path, when: str) -> int | None:
    proc = cli("stages", "churn", "--stage", "production", "--at", when, "--json", db=db)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["version"]


@pytest.mark.parametrize(
    ("moved", "counts_that_day"),
    [
        (datetime(2026, 3, 3, 0, 0, tzinfo=UTC), True),
        (datetime(2026, 3, 3, 23, 59, tzinfo=UTC), True),
        (datetime(2026, 3, 3, 23, 59, 59, 999_999, tzinfo=UTC), True),
        (datetime(2026, 3, 4, 0, 0, tzinfo=UTC), False),
    ],
)
def test_a_date_means_the_end_of_that_day(
    tmp_path: Path, moved: datetime, counts_that_day: bool
) -> None:
    db = tmp_path / "at.sqlite"
    with Catalog(db, user="alice") as cat:
        for i in (1, 2):
            artifact = tmp_path / f"a{i}.safetensors"
            artifact.write_bytes(model_bytes(f"at {i}"))
            cat.register(artifact, "churn")
    _moved_at(db, (datetime(2026, 3, 1, 9, 0, tzinfo=UTC), "churn:1"), (moved, "churn:2"))
    assert _held(db, "2026-03-03") == (2 if counts_that_day else 1)
    # A full timestamp keeps its meaning: the instant named, not the day's end.
    assert _held(db, (moved - timedelta(microseconds=1)).isoformat()) == 1
    if moved.hour == 0:
        assert _held(db, moved.date().isoformat() + "T00:00:00") == 2  # midnight, as given


def test_a_date_before_anything_moved_holds_nothing(db: Path) -> None:
    assert _held(db, "2000-01-01") is None


def test_the_text_answer_says_it_is_the_end_of_the_day(db: Path) -> None:
    proc = cli("stages", "churn", "--stage", "production", "--at", "2999-01-01", db=db)
    assert proc.stdout.strip() == "churn@production at the end of 2999-01-01 (UTC): version 1"
    data = json.loads(
        cli(
            "stages", "churn", "--stage", "production", "--at", "2999-01-01", "--json", db=db
        ).stdout
    )
    assert data["as_of"] == "2999-01-01T23:59:59.999999Z" and data["version"] == 1


# -------------------------------------------------------------- several refs


def _approvals(db: Path) -> dict[int, str]:
    with Catalog(db) as cat:
        return {v.version: v.approval.status for v in cat.versions("churn")}


def test_approve_several_refs_changes_all_in_one_go(db: Path) -> None:
    proc = cli("approve", "churn:2", "churn:3", "--reason", "reviewed together", db=db)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["churn:2 approved by carol", "churn:3 approved by carol"]
    assert _approvals(db) == {1: "approved", 2: "approved", 3: "approved"}


def test_several_refs_as_json_are_a_list_one_ref_an_object(db: Path) -> None:
    many = json.loads(cli("reject", "churn:2", "churn:3", "--reason", "r", "--json", db=db).stdout)
    assert [v["version"] for v in many] == [2, 3]
    one = json.loads(cli("archive", "churn:2", "--reason", "r", "--json", db=db).stdout)
    assert one["version"] == 2 and one["archived"] is True


@pytest.mark.parametrize(
    ("args", "code", "named"),
    [
        (["approve", "churn:2", "churn:1", "churn:3"], 5, "churn:1 is already approved"),
        (["approve", "churn:2", "churn:9"], 3, "churn has no version 9"),
        (["approve", "churn:2", "nosuch:1"], 3, "nosuch"),
        (["approve", "churn:3", "churn@production"], 5, "churn:1 is already approved"),
        (["approve", "churn:2", "churn:2"], 2, "churn:2 and churn:2 name the same version"),
        (["reject", "churn:2", "churn:1"], 4, "churn:1 holds production"),
        (["archive", "churn:2", "churn:1"], 4, "churn:1 holds production"),
    ],
)
def test_one_ref_that_may_not_change_stops_them_all(
    db: Path, args: list[str], code: int, named: str
) -> None:
    with Catalog(db) as cat:
        before = [(v.approval.status, v.archived) for v in cat.versions("churn")]
        events = len(cat.audit_events())
    proc = cli(*args, "--reason", "batch", db=db)
    assert proc.returncode == code, proc.stderr
    line = one_error(proc)
    assert named in line, line
    if len(set(args[1:])) > 1 and code != 2:
        assert f"none of the {len(args) - 1} versions was changed" in line, line
    with Catalog(db) as cat:
        assert [(v.approval.status, v.archived) for v in cat.versions("churn")] == before
        assert len(cat.audit_events()) == events  # no event either


def test_archive_and_undo_several(db: Path) -> None:
    proc = cli("archive", "churn:2", "churn:3", "--reason", "old", db=db)
    assert proc.stdout.splitlines() == ["churn:2 archived", "churn:3 archived"], proc.stderr
    proc = cli("archive", "churn:2", "churn:3", "--undo", "--reason", "back", db=db)
    assert proc.stdout.splitlines() == ["churn:2 unarchived", "churn:3 unarchived"], proc.stderr
    with Catalog(db) as cat:
        assert not any(v.archived for v in cat.versions("churn"))
        actions = [e.action for e in cat.audit_events("churn")][-4:]
    assert actions == ["archived", "archived", "unarchived", "unarchived"]


# --------------------------------------------------------- paths named


@pytest.fixture
def nowhere(tmp_path: Path) -> Path:
    return tmp_path / "no" / "such" / "dir"


PATH_CASES = {
    "--db": lambda db, p: ["--db", str(p / "x.sqlite"), "models"],
    "backup": lambda db, p: ["backup", str(p / "copy.sqlite")],
    "export": lambda db, p: ["export", str(p / "out.json")],
    "import": lambda db, p: ["import", str(p / "in.json")],
    "register": lambda db, p: ["register", str(p / "m.onnx"), "--model", "m"],
    "scan": lambda db, p: ["scan", str(p)],
    "store --set": lambda db, p: ["store", "--set", str(db), "--reason", "r"],
    "register --dataset": lambda db, p: [
        "register",
        str(db.parent / "m2.safetensors"),
        "--model",
        "m",
        "--dataset",
        str(p / "d.csv"),
    ],
}


@pytest.mark.parametrize("case", sorted(PATH_CASES))
def test_every_error_about_a_path_names_it(db: Path, nowhere: Path, case: str) -> None:
    args = PATH_CASES[case](db, nowhere)
    given = [a for a in args if a.startswith(str(db.parent))][-1]
    proc = cli(*args, db=db)
    assert proc.returncode != 0
    line = one_error(proc)
    assert given in line, (case, line)


@pytest.mark.parametrize("case", ["--db", "backup", "export"])
def test_a_missing_folder_is_named_as_the_problem(db: Path, nowhere: Path, case: str) -> None:
    line = one_error(cli(*PATH_CASES[case](db, nowhere), db=db))
    assert "does not exist" in line and str(nowhere.parent.parent) in line, line


def test_a_folder_where_a_file_goes_says_so(db: Path, tmp_path: Path) -> None:
    line = one_error(cli("import", str(tmp_path), db=db))
    assert f"{tmp_path}: is a folder, not a file" in line
    line = one_error(cli("--db", str(db / "x.sqlite"), "models", db=None))
    assert f"{db} is not a folder" in line


# ----------------------------------------------------------------- scan


def test_scan_names_each_refused_path_once(tmp_path: Path) -> None:
    runs = tmp_path / "runs" / "churn"
    runs.mkdir(parents=True)
    (runs / "cut.onnx").write_bytes(b"\x0f\xff garbage")
    (runs / "gone.onnx").symlink_to(tmp_path / "nowhere")
    (runs / "ok.safetensors").write_bytes(model_bytes("scan ok"))
    proc = cli("scan", str(tmp_path / "runs"), db=tmp_path / "s.sqlite")
    for name in ("cut.onnx", "gone.onnx"):
        lines = [line for line in proc.stdout.splitlines() if name in line]
        assert len(lines) == 1 and lines[0].count(name) == 1, proc.stdout
        assert lines[0].startswith("refused")
    assert "scan: 1 registered, 0 already registered, 2 refused, 0 errors" in proc.stdout


# --------------------------------------------------------------- plurals


def test_counts_agree_with_their_nouns(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "one.json"
    with Catalog(tmp_path / "single.sqlite") as cat:
        artifact = tmp_path / "single.safetensors"
        artifact.write_bytes(model_bytes("single"))
        cat.register(artifact, "solo")
    proc = cli("export", str(target), db=tmp_path / "single.sqlite")
    assert "exported 1 model, 1 version, " in proc.stderr, proc.stderr
    _agree(proc.stderr)
    proc = cli("import", str(target), db=tmp_path / "fresh.sqlite")
    assert proc.stdout.strip() == "imported 1 version", proc.stdout
    proc = cli("verify", "solo", db=tmp_path / "single.sqlite")
    assert proc.stdout.strip() == "the artifact matches its hash", proc.stdout
    _agree(cli("audit", "--verify", db=db).stdout)


NOUNS = ("model", "version", "event", "error", "artifact", "page", "dataset", "problem", "row")


def _agree(text: str) -> None:
    """Every `N noun` in `text` has the noun in N's number."""
    pattern = rf"\b(\d+) ({'|'.join(NOUNS)})(s?)\b"
    found = re.findall(pattern, text)
    assert found, text
    for n, noun, s in found:
        assert (s == "") == (n == "1"), f"'{n} {noun}{s}' in {text!r}"
