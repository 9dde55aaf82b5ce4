"""A store in an S3 bucket as a user's shell uses it (moto's server on 127.0.0.1),
on both backends, and a team on PostgreSQL: the admin points the store at a
bucket, an approver ships, another host resolves through its own cache."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from regtui.catalog import bucket, store
from tests.support.s3 import PART_MIN, S3Server
from tests.system.cli.test_cli import fail, js, run
from tests.system.test_team_enforcement import (  # noqa: F401  (team_roles: a fixture)
    PREFIX,
    as_role,
    dbname_of,
    team_database,
    team_roles,
)
from tests.unit.inspect.helpers import safetensors_bytes


def _weights(n: int) -> bytes:
    return safetensors_bytes({"w": ("U8", [n])}, {"run": str(n)})


def test_resolve_verify_and_store_with_a_bucket(
    db_url: str,
    s3_server: S3Server,
    s3_store: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REGTUI_S3_PART_BYTES", str(2 * PART_MIN))
    moved = js("store", "--set", s3_store, "--reason", "team bucket", db=db_url)
    assert moved["location"] == s3_store and moved["source"] == "setting"  # type: ignore[index]
    assert moved["reflinks"] is None and moved["host_local"] is False  # type: ignore[index]
    data = _weights(5 * PART_MIN)
    model = tmp_path / "out" / "model.safetensors"
    model.parent.mkdir()
    model.write_bytes(data)
    run("register", str(model), "--model", "churn", db=db_url)
    run("approve", "churn:1", "--reason", "ok", db=db_url)
    run("promote", "churn:1", "--to", "production", "--reason", "ship", db=db_url)
    shown = run("store", db=db_url).stdout
    assert f"store: {s3_store}" in shown and "kept copies: 1" in shown
    assert "copies are" not in shown  # no reflink line for a bucket

    model.unlink()
    monkeypatch.setenv("REGTUI_CACHE_DIR", str(tmp_path / "host-b-cache"))
    served = Path(run("resolve", "churn@production", db=db_url).stdout.strip())
    assert served.is_relative_to(tmp_path / "host-b-cache") and served.read_bytes() == data
    v = js("show", "churn:1", db=db_url)
    key = store.copy_key(v["sha256"], "model.safetensors")  # type: ignore[index]
    uri = run("resolve", "churn@production", "--uri", db=db_url).stdout
    assert uri == f"{s3_store}/{key}\n"
    as_json = js("resolve", "churn@production", "--uri", db=db_url)
    assert as_json["serve_uri"] == f"{s3_store}/{key}"  # type: ignore[index]

    b = bucket.parse(s3_store)
    s3_server.client().put_object(Bucket=b.bucket, Key=b.full_key(key), Body=data[:-1] + b"!")
    proc = run("verify", "--json", db=db_url, ok=False)
    assert proc.returncode == 9
    states = {c["ref"]: (c["state"], c["path"]) for c in json.loads(proc.stdout)}
    assert states["churn:1 (kept copy)"] == ("changed", f"{s3_store}/{key}")
    monkeypatch.setenv("REGTUI_CACHE_DIR", str(tmp_path / "host-c-cache"))
    err = fail("resolve", "churn@production", db=db_url, code=6)
    assert "refusing to serve" in err and "kept copy changed" in err
    err = fail("resolve", "churn@production", "--uri", db=db_url, code=6)
    assert "refusing to serve" in err
    assert js("audit", "--verify", db=db_url)["ok"] is True  # type: ignore[index]


@pytest.mark.parametrize(
    "url", ["s3://AKIAEXAMPLE:hunter2@models/p", "s3://models/p?X-Amz-Signature=hunter2"]
)
def test_a_store_url_with_credentials_is_refused(sqlite_path: str, url: str) -> None:
    before = js("store", db=sqlite_path)
    err = fail("store", "--set", url, db=sqlite_path, code=2)
    assert "hunter2" not in err and len(err.strip().splitlines()) == 1
    assert js("store", db=sqlite_path) == before


def test_no_credentials_is_one_line_and_nothing_recorded(
    sqlite_path: str, s3_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    err = fail("store", "--set", s3_store, db=sqlite_path, code=6)
    assert "no AWS credentials found" in err and len(err.strip().splitlines()) == 1
    assert js("store", db=sqlite_path)["source"] == "default"  # type: ignore[index]
    assert js("audit", "--action", "store_moved", db=sqlite_path) == []


@pytest.mark.pg
def test_a_team_ships_through_a_bucket(
    team_roles: object,  # noqa: F811
    pg_server: object,
    s3_server: S3Server,
    s3_store: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = team_database(team_roles)  # type: ignore[arg-type]
    omar, dana, erin = (as_role(url, who) for who in ("omar", "dana", "erin"))
    omar.set_store_location(s3_store, "the team bucket")  # migration 0009 allows it
    model = tmp_path / "out" / "model.safetensors"
    model.parent.mkdir()
    model.write_bytes(_weights(3000))
    dana.register(model, "churn")
    erin.approve("churn:1", "ok")
    erin.promote("churn:1", "production")
    v = dana.get("churn:1")
    assert v.stored_path == store.copy_key(v.sha256, "model.safetensors")
    model.unlink()
    monkeypatch.setenv("REGTUI_CACHE_DIR", str(tmp_path / "dana-host"))
    assert dana.artifact_path(dana.resolve("churn@production")).read_bytes() == _weights(3000)
    # The server keeps credentials and other shapes out of the setting, whoever writes it.
    dbname = dbname_of(url)
    for location, ok in [
        ("s3://AKIA:hunter2@bucket/p", False),
        ("s3://bucket/p?X-Amz-Signature=x", False),
        ("gs://bucket/p", False),
        ("s3://bucket/p", True),
        ("/a/folder", True),
    ]:
        with psycopg.connect(
            host=str(team_roles.socket_dir),  # type: ignore[attr-defined]
            port=team_roles.port,  # type: ignore[attr-defined]
            user=f"{PREFIX}omar",
            dbname=dbname,
        ) as conn:
            try:
                conn.execute(
                    "UPDATE setting SET value = %s WHERE key = 'store'",
                    (json.dumps({"location": location}),),
                )
            except psycopg.Error as exc:
                assert not ok and "store-shape" in str(exc), (location, exc)
            else:
                assert ok, location
            conn.rollback()
