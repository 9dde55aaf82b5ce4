"""`regtui log`, `register --dataset` and the dataset filter, as a shell runs them."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.system.cli.test_cli import fail, js, run


def refs(db: str, where: str) -> list[int]:
    return [v["version"] for v in js("versions", "churn", "--filter", where, db=db)]  # type: ignore[index, union-attr]


def test_dataset_recorded_by_hash_and_found_again(db_url: str, tmp_path: Path) -> None:
    db = db_url
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_text("a,b\n1,2\n")
    (data / "eval.csv").write_text("a,b\n3,4\n")
    (tmp_path / "m1.bin").write_bytes(b"one")
    (tmp_path / "m2.bin").write_bytes(b"two")
    out = run(
        "register",
        str(tmp_path / "m1.bin"),
        "--model",
        "churn",
        "--dataset",
        str(data / "train.csv"),
        "--dataset",
        "s3://bucket/eval.csv?versionId=v7",
        db=db,
        user="alice",
    )
    assert out.stdout.startswith("registered churn:1")
    v2 = js("register", str(tmp_path / "m2.bin"), "--model", "churn", "--dataset", str(data), db=db)
    assert v2["datasets"][0]["kind"] == "folder"  # type: ignore[index]
    sha = hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert refs(db, f"dataset = '{sha}'") == [1]
    assert refs(db, f"dataset = '{data / 'train.csv'}'") == [1]
    assert refs(db, "dataset = 's3://bucket/eval.csv?versionId=v7'") == [1]
    assert refs(db, f"dataset = '{v2['datasets'][0]['sha256']}'") == [2]  # type: ignore[index]
    shown = run("show", "churn:1", db=db).stdout
    assert "datasets:" in shown and sha[:12] in shown and "@ v7" in shown
    diff = run("diff", "churn:1", "churn:2", db=db).stdout
    assert "different data" in diff
    assert js("diff", "churn:1", "churn:2", db=db)["same_data"] is False  # type: ignore[index]
    line = fail("register", str(tmp_path / "m2.bin"), "--model", "x", "--dataset", "nope", db=db)
    assert "dataset" in line and "no such file or folder" in line


def test_log_and_merge_say_what_changed(db_url: str, tmp_path: Path) -> None:
    db = db_url
    model = tmp_path / "m.bin"
    model.write_bytes(b"weights")
    run("register", str(model), "--model", "churn", "--metric", "auc=0.8", db=db)
    out = run(
        "log", "churn:1", "--metric", "auc=0.9", "--param", "eval=q4", "--reason", "holdout", db=db
    )
    assert out.stdout.strip().splitlines() == ["churn:1: metrics auc=0.9; params eval=q4"]
    again = run("log", "churn:1", "--metric", "auc=0.9", "--reason", "eval", db=db)
    assert again.stdout.strip() == "churn:1: nothing changed"
    for bad in ("nan", "inf", "-inf", "high"):
        line = fail("log", "churn:1", "--metric", f"auc={bad}", "--reason", "eval", db=db, code=2)
        assert "auc" in line
    assert fail("log", "churn:1", "--reason", "eval", db=db, code=2).endswith(
        "name at least one metric or param to log"
    )
    assert "no version 9" in fail(
        "log", "churn:9", "--metric", "a=1", "--reason", "eval", db=db, code=3
    )
    shown = run("show", "churn:1", db=db).stdout
    assert "0.9  (logged " in shown and "q4  (logged " in shown
    assert refs(db, "metrics.auc > 0.85") == [1]
    merged = run("register", str(model), "--model", "churn", "--metric", "f1=0.5", db=db)
    lines = merged.stdout.splitlines()
    assert lines[0].startswith("already registered as churn:1")
    assert lines[1] == "merged into churn:1: metrics f1=0.5"
    events = js("audit", "--action", "logged", db=db)
    assert [e["after"].get("how") for e in events] == [None, "registered again"]  # type: ignore[union-attr, index]
    assert events[0]["before"] == {"metrics": {"auc": 0.8}, "params": {"eval": None}}  # type: ignore[index]
    assert events[0]["reason"] == "holdout"  # type: ignore[index]
    assert "verifies" in run("audit", "--verify", db=db).stdout
    logged = js("log", "churn:1", "--metric", "f1=0.6", "--reason", "eval", db=db)
    assert logged["changed"] == {"metrics": {"f1": 0.6}}  # type: ignore[index]
    assert set(logged["logged"]) == {"metrics.auc", "metrics.f1", "params.eval"}  # type: ignore[index]
