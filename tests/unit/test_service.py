"""The catalog service on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from regtui.catalog.records import Policy
from regtui.catalog.service import Catalog
from regtui.errors import ArtifactError, Conflict, NotFound, PolicyRefused, UsageError
from tests.unit.helpers import artifact, catalog_with_versions, model_bytes, open_as


def test_register_numbers_versions_and_dedupes_same_bytes(db_url: str, tmp_path: Path) -> None:
    cat = open_as(db_url, "alice")
    a = artifact(tmp_path, "a.bin", "A")
    b = artifact(tmp_path, "b.bin", "B")
    v1 = cat.register(a, "churn", metrics={"auc": 0.9}, params={"lr": 0.1}, tags={"k": "v"})
    v2 = cat.register(b, "churn")
    again = cat.register(artifact(tmp_path, "copy.bin", "A"), "churn")
    assert (v1.version, v2.version, again.version) == (1, 2, 1)
    assert cat.count_versions("churn") == 2
    assert v1.metrics == {"auc": 0.9} and v1.params == {"lr": 0.1} and v1.tags == {"k": "v"}
    assert v1.created_by == "alice" and v1.approval.status == "pending"
    assert v1.sha256 == hashlib.sha256(model_bytes("A")).hexdigest()
    assert v1.size_bytes == len(model_bytes("A"))
    # The same bytes under another model is a version of that model.
    assert cat.register(a, "other").version == 1


def test_register_refuses_bad_names_and_missing_files(db_url: str, tmp_path: Path) -> None:
    cat = Catalog(db_url)
    with pytest.raises(UsageError, match="bad model name"):
        cat.register(artifact(tmp_path, "a.bin", "A"), "Bad\tName")
    with pytest.raises(ArtifactError, match="no such file"):
        cat.register(tmp_path / "missing.bin", "churn")
    with pytest.raises(UsageError, match="must be a number"):
        cat.register(artifact(tmp_path, "a.bin", "A"), "churn", metrics={"auc": "high"})
    with pytest.raises(UsageError, match="finite"):
        cat.register(artifact(tmp_path, "a.bin", "A"), "churn", metrics={"auc": float("nan")})
    assert cat.models() == []
    assert cat.verify_audit().events == 0


def test_bundle_folder_hash_covers_paths_and_contents(db_url: str, tmp_path: Path) -> None:
    cat = Catalog(db_url)
    bundle = tmp_path / "bundle"
    artifact(bundle, "weights.bin", "W")
    (bundle / "sub").mkdir()
    (bundle / "sub" / "config.json").write_text("{}")
    v1 = cat.register(bundle, "b")
    (bundle / "sub" / "config.json").rename(bundle / "sub" / "config2.json")
    v2 = cat.register(bundle, "b")
    assert v1.sha256 != v2.sha256 and v2.version == 2
    assert v1.size_bytes == len(model_bytes("W")) + 2
    assert v1.format == "folder" and "not a recognised bundle" in v1.warnings[0]


def test_approval_policy_and_promotion_flow(db_url: str, tmp_path: Path) -> None:
    catalog_with_versions(db_url, tmp_path, 3)
    bob = open_as(db_url, "bob")
    with pytest.raises(PolicyRefused) as refused:
        bob.promote("churn:1", "production")
    assert refused.value.rule == "protected-stage-needs-approval"
    assert "production" in str(refused.value)
    # Unprotected stages take pending versions.
    move = bob.promote("churn:1", "staging", "try it")
    assert (move.from_version, move.to_version, move.reason) == (None, 1, "try it")
    bob.approve("churn:1", "good")
    bob.approve("churn:2", "better")
    bob.promote("churn:1", "production")
    bob.promote("churn:2", "production")
    assert bob.resolve("churn@production").version == 2
    assert bob.get("churn:2").stages == ("production",)
    assert bob.model("churn").stages == {"production": 2, "staging": 1}
    with pytest.raises(Conflict, match="already in production"):
        bob.promote("churn:2", "production")
    with pytest.raises(Conflict, match="already approved"):
        bob.approve("churn:2", "again")
    bob.reject("churn:3", "overfits")
    with pytest.raises(PolicyRefused) as r2:
        bob.promote("churn:3", "staging")
    assert r2.value.rule == "rejected-no-stage"
    with pytest.raises(PolicyRefused) as r3:
        bob.reject("churn:2", "oops")
    assert r3.value.rule == "rejected-no-stage"
    with pytest.raises(UsageError, match="reason is required"):
        bob.approve("churn:3", "  ")
    assert bob.verify_audit().ok


def test_distinct_approver_rule(db_url: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(db_url, tmp_path, 1, user="alice")
    cat.set_policy(Policy(protected_stages=("production", "canary"), distinct_approver=True))
    with pytest.raises(PolicyRefused) as refused:
        cat.approve("churn:1", "mine")
    assert refused.value.rule == "distinct-approver"
    bob = open_as(db_url, "bob")
    bob.approve("churn:1", "ok")
    with pytest.raises(UsageError, match="bad stage name"):
        bob.promote("churn:1", "Canary!")
    bob.promote("churn:1", "canary")
    assert cat.policy().protected_stages == ("production", "canary")


def test_rollback_walks_back_and_is_recorded(db_url: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(db_url, tmp_path, 3)
    for n in (1, 2, 3):
        cat.approve(f"churn:{n}", "ok")
        cat.promote(f"churn:{n}", "production")
    move = cat.rollback("churn", reason="v3 is slow")
    assert (move.from_version, move.to_version, move.action) == (3, 2, "rollback")
    assert cat.rollback("churn").to_version == 1
    with pytest.raises(Conflict, match="no earlier version"):
        cat.rollback("churn")
    # Named target: any version that held the stage before.
    assert cat.rollback("churn", to=3).to_version == 3
    with pytest.raises(Conflict, match="already in production"):
        cat.rollback("churn", to=3)
    assert cat.stage_history("churn", "production")[-1].action == "rollback"
    with pytest.raises(NotFound):
        cat.rollback("churn", stage="staging")
    actions = [e.action for e in cat.audit_events("churn")]
    assert actions.count("rolled_back") == 3


def test_stage_at_answers_what_was_in_production(db_url: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(db_url, tmp_path, 2)
    cat.approve("churn:1", "ok")
    cat.approve("churn:2", "ok")
    before = datetime.now(UTC) - timedelta(seconds=1)
    cat.promote("churn:1", "production")
    middle = datetime.now(UTC)
    cat.promote("churn:2", "production")
    assert cat.stage_at("churn", "production", before) is None
    assert cat.stage_at("churn", "production", middle) == 1
    assert cat.stage_at("churn", "production", datetime.now(UTC)) == 2


def test_optimistic_promote_conflicts(db_url: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(db_url, tmp_path, 2)
    cat.promote("churn:1", "staging")
    with pytest.raises(Conflict):
        cat.promote("churn:2", "staging", expect_revision=0)
    assert cat.get("churn@staging").version == 1
    cat.promote("churn:2", "staging", expect_revision=1)
    assert cat.get("churn@staging").version == 2


def test_archive_edit_and_demote(db_url: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(db_url, tmp_path, 2)
    cat.promote("churn:1", "staging")
    with pytest.raises(PolicyRefused):
        cat.archive("churn:1")
    v2 = cat.archive("churn:2", "old")
    assert v2.archived
    assert cat.get("churn").version == 1  # latest skips archived versions
    with pytest.raises(PolicyRefused) as refused:
        cat.promote("churn:2", "staging")
    assert refused.value.rule == "archived-no-stage"
    assert not cat.archive("churn:2", archived=False).archived
    info = cat.edit_model("churn", description="# Churn\nmodel", tags={"owner": "ml"})
    assert (info.description, info.tags) == ("# Churn\nmodel", {"owner": "ml"})
    with pytest.raises(Conflict, match="nothing to change"):
        cat.edit_model("churn", description="# Churn\nmodel")
    assert cat.edit_version("churn:1", tags={"a": "b"}).tags == {"a": "b"}
    assert cat.demote("churn", "staging").to_version is None
    with pytest.raises(NotFound):
        cat.get("churn@staging")
    assert cat.verify_audit().ok


def test_refs_and_not_found(db_url: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(db_url, tmp_path, 2)
    assert cat.get("churn").version == 2
    assert cat.get("churn:v1").version == 1
    for bad, err in (
        ("churn:0", UsageError),
        ("churn:x", UsageError),
        ("churn:9", NotFound),
        ("nope", NotFound),
        ("churn@prod", NotFound),
        ("UP:1", NotFound),  # names match exactly: 'UP' is not 'up'
        ("CHURN", NotFound),
        (" churn :1", UsageError),
    ):
        with pytest.raises(err):
            cat.get(bad)


def test_filter_language_runs_in_sql(db_url: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(db_url, tmp_path, 4)
    cat.approve("churn:4", "ok")

    def nums(expr: str) -> list[int]:
        return [v.version for v in cat.versions("churn", where=expr)]

    assert nums("metrics.auc > 0.815") == [2, 3, 4]
    assert nums("metrics.auc > 0.815 and tags.team = 'growth'") == [3]
    assert nums("(tags.team = 'growth' or version = 4) and approval = 'approved'") == [4]
    assert nums("not tags.team = 'growth'") == [2, 4]
    assert nums("metrics.loss <= 0.5 and params.lr < 0.04") == [3, 4]
    assert nums("path like '%m1.bin'") == [1]
    assert nums("path not like '%m1.bin'") == [2, 3, 4]
    assert nums("version in (1, 3)") == [1, 3]
    assert nums("metrics.missing > 0") == []
    assert nums("not metrics.missing > 0") == [1, 2, 3, 4]
    assert nums("tags.team like 'gr%'") == [1, 3]
    assert nums("tags.team not like 'gr%'") == [2, 4]
    assert nums("model like 'ch%' and size > 0") == [1, 2, 3, 4]
    assert nums("created > '2000-01-01'") == [1, 2, 3, 4]
    assert cat.count_versions("churn", where="tags.team = 'core'") == 2


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("metrics.auc >", "ends too early"),
        ("metrics.auc >> 1", "column 14"),
        ("bogus = 1", "unknown field 'bogus'"),
        ("metrics.auc = 'x'", "metrics are numbers"),
        ("(version = 1", "ends too early"),
        ("version = 1 )", "column 13"),
        ("version = 1; drop table model", "column 12"),
        ("created > 'yesterday'", "not an ISO date"),
    ],
)
def test_filter_errors_point_at_the_problem(
    sqlite_path: str, tmp_path: Path, expr: str, message: str
) -> None:
    cat = catalog_with_versions(sqlite_path, tmp_path, 1)
    from regtui.errors import FilterError

    with pytest.raises(FilterError, match=message.replace("(", r"\(")):
        cat.versions("churn", where=expr)
    assert cat.count_versions("churn") == 1


def test_diff_reports_changes_with_deltas(db_url: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(db_url, tmp_path, 2)
    diff = cat.diff("churn:1", "churn:2")
    metrics = {r.key: r for r in diff.section("metrics")}
    assert metrics["auc"].delta == pytest.approx(0.01) and metrics["auc"].better is True
    assert metrics["loss"].delta == pytest.approx(-0.5) and metrics["loss"].better is True
    params = {r.key: r for r in diff.section("params")}
    assert params["lr"].status == "changed"
    tags = {r.key: r for r in diff.section("tags")}
    assert (tags["team"].left, tags["team"].right) == ("growth", "core")
    facts = {r.key: r for r in diff.section("version")}
    assert facts["sha256"].differs and not facts["format"].differs
    assert all(r.differs for r in diff.changed())
    assert diff.to_json()["identical_content"] is False


def test_audit_chain_detects_edits_and_deletions(sqlite_path: str, tmp_path: Path) -> None:
    import sqlite3

    cat = catalog_with_versions(sqlite_path, tmp_path, 3)
    cat.approve("churn:2", "ok")
    check = cat.verify_audit()
    assert check.ok and check.events == 5
    assert cat.audit_head() == (5, check.head)
    assert not cat.verify_audit(expected_head="0" * 64).ok
    con = sqlite3.connect(sqlite_path)
    con.execute("UPDATE audit_event SET actor = 'mallory' WHERE seq = 3")
    con.commit()
    bad = cat.verify_audit()
    assert (bad.ok, bad.first_bad) == (False, 3)
    con.execute("UPDATE audit_event SET actor = 'alice' WHERE seq = 3")
    con.execute("DELETE FROM audit_event WHERE seq = 2")
    con.commit()
    bad = cat.verify_audit()
    assert (bad.ok, bad.first_bad) == (False, 3)
    con.close()


def test_export_import_round_trip_is_exact(db_url: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(db_url, tmp_path, 3)
    cat.approve("churn:1", "ok")
    cat.promote("churn:1", "production", "ship")
    cat.edit_model("churn", description="desc ☃", tags={"a": "1"})
    cat.add_watch_root(tmp_path, "churn", 1.5)
    data = cat.export_data()
    other = Catalog(str(tmp_path / "other.sqlite"))
    assert other.import_data(data) == 3
    assert other.export_data() == data
    assert other.verify_audit().head == cat.verify_audit().head
    assert other.get("churn@production").version == 1
    with pytest.raises(Conflict, match="empty catalog"):
        other.import_data(data)


def test_import_refuses_tampered_export(sqlite_path: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(sqlite_path, tmp_path, 2)
    data = cat.export_data()
    data["audit"][1]["actor"] = "mallory"
    other = Catalog(str(tmp_path / "other.sqlite"))
    with pytest.raises(UsageError, match="does not verify"):
        other.import_data(data)
    assert other.models() == []
    with pytest.raises(UsageError, match="not a regtui catalog"):
        other.import_data({"hello": 1})


def test_verify_artifacts_reports_missing_and_changed(db_url: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(db_url, tmp_path, 3)
    (tmp_path / "m1.bin").unlink()
    (tmp_path / "m2.bin").write_text("tampered")
    states = {c.ref: c.state for c in cat.verify_artifacts("churn")}
    assert states == {"churn:1": "missing", "churn:2": "changed", "churn:3": "ok"}
    marked = cat.mark_artifact("churn:2", "changed", "overwritten")
    assert marked.artifact_state == "changed"


def test_watch_roots_are_kept(db_url: str, tmp_path: Path) -> None:
    cat = Catalog(db_url)
    cat.add_watch_root(tmp_path, None, 2.0)
    cat.add_watch_root(tmp_path, "fixed", 3.0)
    roots = cat.watch_roots()
    assert len(roots) == 1 and roots[0].model == "fixed" and roots[0].settle_seconds == 3.0
    cat.remove_watch_root(tmp_path)
    assert cat.watch_roots() == []
    with pytest.raises(NotFound):
        cat.remove_watch_root(tmp_path)


def test_team_mode_postgres_trusts_roles_not_claims(pg_server: object, tmp_path: Path) -> None:
    """On PostgreSQL the server, not the client, says who acts and who may approve."""
    from sqlalchemy import text

    from tests.support.pg import PgServer, url_as

    assert isinstance(pg_server, PgServer)
    url = pg_server.new_database()
    Catalog(url).close()  # the schema, made by the admin
    pg_server.admin(
        "DO $$ BEGIN CREATE ROLE regtui_approver NOLOGIN; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )
    dbname = url.split("/")[3].split("?")[0]
    for role in ("dana", "erin"):
        url_as(url, role, superuser=False)
    import psycopg

    with psycopg.connect(
        host=str(pg_server.socket_dir),
        port=pg_server.port,
        user="postgres",
        dbname=dbname,
        autocommit=True,
    ) as conn:
        conn.execute("GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO dana, erin")
        conn.execute("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO dana, erin")
        conn.execute("GRANT regtui_approver TO erin")
    dana = Catalog(url_as(url, "dana", superuser=False))
    erin = Catalog(url_as(url, "erin", superuser=False))
    assert (dana.actor, erin.actor) == ("dana", "erin")
    with pytest.raises(UsageError, match="database role 'dana'"):
        Catalog(url_as(url, "dana", superuser=False), user="erin")
    v = dana.register(artifact(tmp_path, "m.bin", "M"), "team")
    assert v.created_by == "dana"
    with pytest.raises(PolicyRefused) as refused:
        dana.approve("team:1", "I approve of myself")
    assert refused.value.rule == "approver-role"
    dana.promote("team:1", "staging")  # unprotected stages need no approver
    erin.approve("team:1", "reviewed")
    with pytest.raises(PolicyRefused, match="approver-role"):
        dana.promote("team:1", "production")
    erin.promote("team:1", "production")
    assert erin.get("team@production").version == 1
    # Going around regtui with plain SQL meets the same walls.
    with dana.engine.begin() as conn, pytest.raises(Exception, match="actor-is-role"):
        conn.execute(
            text(
                "INSERT INTO audit_event (seq, at, actor, action, target, prev_hash, "
                "hash) VALUES (999, now(), 'erin', 'approved', 'x', 'p', 'h')"
            )
        )
    with dana.engine.begin() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text("UPDATE audit_event SET actor = 'dana'"))  # UPDATE is granted …
    with dana.engine.begin() as conn, pytest.raises(Exception, match="permission denied"):
        conn.execute(text("DELETE FROM audit_event"))  # … DELETE is not
    assert erin.verify_audit().ok


def test_fast_json_listing_matches_the_records(db_url: str, tmp_path: Path) -> None:
    import json

    from regtui.catalog.version_json import versions_json_text

    cat = catalog_with_versions(db_url, tmp_path, 3)
    cat.approve("churn:2", "ok ☃ \x1b[31m")
    cat.edit_version("churn:3", tags={"note": "\u202eevil"})
    versions = cat.versions("churn")
    text = versions_json_text(versions)
    assert text.isascii()  # control and bidi characters arrive escaped
    assert json.loads(text) == [v.to_json() for v in cat.versions("churn")]


def test_pages_of_a_long_list(db_url: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(db_url, tmp_path, 7)
    cat.archive("churn:3")

    def page(**kw: object) -> list[int]:
        return [v.version for v in cat.versions("churn", **kw)]  # type: ignore[arg-type]

    assert page(newest_first=True, offset=2, limit=3) == [5, 4, 3]
    assert page(offset=5, limit=3) == [6, 7]
    assert page(newest_first=True, offset=6, limit=3) == [1]
    assert page(offset=1, limit=2, include_archived=False) == [2, 4]
    assert page(offset=1, limit=2, where="version > 2") == [4, 5]


def test_mixed_index_conditions_and_filtered_pages(db_url: str, tmp_path: Path) -> None:
    """Equalities drive and ranges probe, ranges alone intersect, filtered pages
    sort ids first: each shape must give what a plain reading of the filter gives."""
    cat = open_as(db_url, "alice")
    cat.register(artifact(tmp_path, "other.bin", "x"), "other", tags={"team": "a"})
    for i in range(1, 25):
        cat.register(
            artifact(tmp_path, f"v{i}.bin", f"v{i}"),
            "m",
            metrics={"auc": i / 24, "loss": 1 - i / 24},
            tags={"team": "ab"[i % 2], "run": f"r{i % 3}"},
        )
    cat.archive("m:6")
    team = {i: "ab"[i % 2] for i in range(1, 25)}
    cases = {
        "metrics.auc > 0.5 and tags.team = 'a'": [i for i in range(13, 25) if team[i] == "a"],
        "tags.team = 'b' and metrics.auc >= 0.25 and metrics.loss > 0.5": [7, 9, 11],
        "metrics.auc > 0.25 and metrics.loss > 0.5": [7, 8, 9, 10, 11],
        "tags.team = 'a' and tags.run = 'r0'": [6, 12, 18, 24],
        "tags.run like 'r1' and metrics.auc < 0.3": [1, 4, 7],
        "tags.team = 'a' and metrics.auc = 0.5": [12],
        "tags.team = 'a' and not metrics.auc > 0.2": [2, 4],
        "(tags.team = 'a' or tags.run = 'r1') and metrics.auc > 0.75": [19, 20, 22, 24],
    }
    for expr, want in cases.items():
        assert [v.version for v in cat.versions("m", where=expr)] == want, expr
        assert cat.count_versions("m", where=expr) == len(want), expr
        for newest_first in (False, True):
            expect = sorted(want, reverse=newest_first)
            pages = [
                v.version
                for offset in range(0, len(want) + 3, 3)
                for v in cat.versions(
                    "m", where=expr, newest_first=newest_first, offset=offset, limit=3
                )
            ]
            assert pages == expect, (expr, newest_first)
    live = [
        v.version
        for v in cat.versions("m", where="tags.team = 'a'", include_archived=False, limit=4)
    ]
    assert live == [2, 4, 8, 10]  # 6 is archived
    everywhere = cat.versions(None, where="tags.team = 'a'", limit=3)
    assert [(v.model, v.version) for v in everywhere] == [("m", 2), ("m", 4), ("m", 6)]


def test_metric_series_and_counts_from_the_indexes(db_url: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(db_url, tmp_path, 5)
    cat.archive("churn:2")
    names, chosen, values = cat.metric_series("churn", None, last=3)
    assert names == ["auc", "loss"] and chosen == "auc"
    assert values == pytest.approx([0.83, 0.84, 0.85])  # versions 3..5, oldest first
    assert cat.metric_series("churn", "loss", last=2)[2] == pytest.approx([1 / 4, 1 / 5])
    assert cat.count_versions("churn") == 5  # archived versions count, as in listings
    assert cat.count_versions("churn", include_archived=False) == 4
    assert cat.count_versions("churn", where="version > 3") == 2
    assert cat.model("churn").versions == 5 and cat.model("churn").latest == 5
