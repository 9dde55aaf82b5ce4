"""Team mode on a real PostgreSQL server (migration 0006): every write path, as
roles set up exactly as the README says, with plain SQL as well as with regtui.

Roles (created once per server): `dana` registers and reviews, `erin` is in
`regtui_approver`, `omar` in `regtui_admin`, and `mallory` is a plain role a
careless admin granted every table privilege and CREATE on the schema. Each
refused attempt runs in its own transaction on a shared catalog and is rolled
back; each family has a control that the same kind of write, done right, is
accepted (so a refusal is the rule's, not a typo's).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from regtui.catalog.schema import SQLModel
from regtui.catalog.service import Catalog
from regtui.errors import CatalogError, PolicyRefused
from tests.support.pg import PgServer, url_as
from tests.unit.helpers import artifact

pytestmark = pytest.mark.pg

VERSION = SQLModel.metadata.tables["version"]
AUDIT_EVENT = SQLModel.metadata.tables["audit_event"]
README = Path(__file__).resolve().parents[2] / "README.md"
TEAM = ("dana", "erin", "omar")
# Cluster-wide role names, apart from the ones other tests create (dana, erin).
PREFIX = "te_"


def readme_setup_sql() -> list[str]:
    """The statements of the README's team-mode setup block, comments dropped."""
    text = README.read_text()
    section = text[text.index("## Team mode") :]
    block = section[section.index("```sql") + len("```sql") : section.index("```\n", 7)]
    lines = [line.split("--", 1)[0].rstrip() for line in block.splitlines()]
    return [s.strip() for s in " ".join(lines).split(";") if s.strip()]


def localised(stmt: str, dbname: str) -> str:
    """A README statement for this server: its roles prefixed, its database this one."""
    stmt = re.sub(rf"\b({'|'.join(TEAM)})\b", rf"{PREFIX}\1", stmt)
    return re.sub(r"\bDATABASE registry\b", f'DATABASE "{dbname}"', stmt)


def dbname_of(url: str) -> str:
    return url.split("/")[3].split("?")[0]


def admin_conn(server: PgServer, dbname: str) -> psycopg.Connection[Any]:
    return psycopg.connect(
        host=str(server.socket_dir),
        port=server.port,
        user="postgres",
        dbname=dbname,
        autocommit=True,
    )


@pytest.fixture(scope="session")
def team_roles(pg_server: PgServer) -> PgServer:
    """The README's roles, once per server (regtui_* may exist from other tests)."""
    for stmt in readme_setup_sql():
        if not stmt.upper().startswith("CREATE ROLE"):
            continue
        stmt = localised(stmt, "postgres")
        if " regtui_" in stmt:
            stmt = f"DO $$ BEGIN {stmt}; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        pg_server.admin(stmt)
    pg_server.admin(f"CREATE ROLE {PREFIX}mallory LOGIN")
    return pg_server


def team_database(server: PgServer, skip: str | None = None) -> str:
    """A new catalog (schema made by the superuser) with the README's grants, less
    the statement `skip`; mallory gets every table privilege and CREATE on public."""
    url = server.new_database()
    Catalog(url).close()
    dbname = dbname_of(url)
    with admin_conn(server, dbname) as conn:
        for stmt in readme_setup_sql():
            if not stmt.upper().startswith("CREATE ROLE") and stmt != skip:
                conn.execute(localised(stmt, dbname))
        m = f"{PREFIX}mallory"
        conn.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {m}")
        conn.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {m}")
        conn.execute(f"GRANT CREATE ON SCHEMA public TO {m}")
    return url


def as_role(url: str, who: str) -> Catalog:
    return Catalog(url_as(url, PREFIX + who, superuser=False))


# ------------------------------------------------------------------ the world


@dataclass
class World:
    """A shared catalog in a known state; `ids` names its versions and rows."""

    server: PgServer
    dbname: str
    ids: dict[str, Any]
    conns: dict[str, psycopg.Connection[Any]] = field(default_factory=dict)

    def conn(self, who: str) -> psycopg.Connection[Any]:
        if who not in self.conns:
            user = "postgres" if who == "postgres" else PREFIX + who
            self.conns[who] = psycopg.connect(
                host=str(self.server.socket_dir),
                port=self.server.port,
                user=user,
                dbname=self.dbname,
            )
        return self.conns[who]

    def attempt(self, who: str, *statements: str, isolation: str | None = None) -> None:
        """Run the statements as `who` in one transaction, then roll it back."""
        conn = self.conn(who)
        try:
            if isolation:
                conn.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
            for stmt in statements:
                conn.execute(stmt.format(**self.ids, me=PREFIX + who, p=PREFIX))  # type: ignore[arg-type]
        finally:
            conn.rollback()

    def refused(self, who: str, rule: str, *statements: str, **kw: Any) -> None:
        with pytest.raises(psycopg.Error, match=rf"regtui: {re.escape(rule)}: "):
            self.attempt(who, *statements, **kw)

    def one(self, sql: str) -> Any:
        with admin_conn(self.server, self.dbname) as conn:
            row = conn.execute(sql.format(**self.ids, p=PREFIX)).fetchone()
        assert row is not None
        return row[0]


def _raw_bytes(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def world(team_roles: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """churn:1 approved in production (kept copy), :2 pending in staging (both with a
    metric and a tag), :3 damaged,
    :4 damaged yet approved (forced by the superuser), :5 archived, :6 rejected,
    :7 approved; other:1 approved, other:2 pending (both erin's); model spare has
    no versions; dana watches a folder; then the distinct-approver rule is on."""
    tmp = tmp_path_factory.mktemp("team")
    url = team_database(team_roles)
    dana, erin, omar = (as_role(url, who) for who in TEAM)
    omar.set_store_location(tmp / "store", reason="team store")
    for i in (1, 2):
        dana.register(
            artifact(tmp, f"c{i}.safetensors", f"churn {i}"),
            "churn",
            metrics={"auc": 0.8 + i / 100},
            tags={"team": "core"},
        )
    dana.register(_raw_bytes(tmp, "c3.bin", b"not a model 3"), "churn")
    dana.register(_raw_bytes(tmp, "c4.bin", b"not a model 4"), "churn")
    for i in (5, 6, 7):
        dana.register(artifact(tmp, f"c{i}.safetensors", f"churn {i}"), "churn")
    erin.approve("churn:1", "reviewed")
    erin.promote("churn:1", "production", "first release")
    dana.promote("churn:2", "staging")
    dana.archive("churn:5")
    dana.reject("churn:6", "worse")
    erin.approve("churn:7", "reviewed")
    for i in (1, 2):
        erin.register(artifact(tmp, f"o{i}.safetensors", f"other {i}"), "other")
    erin.approve("other:1", "mine, before the rule")
    dana.add_watch_root(tmp)
    omar.set_policy(
        omar.policy().__class__(protected_stages=("production",), distinct_approver=True)
    )
    dbname = dbname_of(url)
    with admin_conn(team_roles, dbname) as conn:
        conn.execute(
            "UPDATE version SET approval_status = 'approved', approval_by = 'postgres', "
            "approval_at = now() WHERE number = 4"
        )
        conn.execute(
            "INSERT INTO model (name, description, tags, created_at, created_by) "
            "VALUES ('spare', '', '{}', now(), 'postgres')"
        )
        ids: dict[str, Any] = {}
        for name, num, vid, sha in conn.execute(
            "SELECT m.name, v.number, v.id, v.sha256 FROM version v JOIN model m "
            "ON m.id = v.model_id"
        ):
            ids[f"{'c' if name == 'churn' else 'o'}{num}"] = vid
            ids[f"{'c' if name == 'churn' else 'o'}{num}_sha"] = sha
        for name, mid in conn.execute("SELECT name, id FROM model"):
            ids[f"m_{name}"] = mid
        for name, sid in conn.execute("SELECT name, id FROM stage"):
            ids[f"s_{name}"] = sid
    for cat in (dana, erin, omar):
        cat.close()
    w = World(team_roles, dbname, ids)
    yield w
    for conn in w.conns.values():
        conn.close()


def test_the_world_is_as_described(world: World) -> None:
    assert world.one("SELECT stored_path FROM version WHERE id = {c1}").startswith("sha256/")
    assert world.one("SELECT damage IS NOT NULL FROM version WHERE id = {c3}")
    assert world.one("SELECT version_id FROM stage WHERE id = {s_production}") == world.ids["c1"]
    assert world.one("SELECT version_id FROM stage WHERE id = {s_staging}") == world.ids["c2"]


# ------------------------------------------------------------ version: INSERT

_NEW_VERSION = {
    "model_id": "{m_churn}",
    "number": "8",
    "path": "'/elsewhere/model.safetensors'",
    "sha256": "repeat('ab', 32)",
    "size_bytes": "1",
    "format": "'safetensors'",
    "metrics": "'{{}}'",
    "params": "'{{}}'",
    "tags": "'{{}}'",
    "meta": "'{{}}'",
    "lineage": "'{{}}'",
    "warnings": "'[]'",
    "created_at": "now()",
    "created_by": "'{me}'",
    "approval_status": "'pending'",
    "archived": "false",
    "artifact_state": "'ok'",
}


def insert_version(**changes: str) -> str:
    row = {**_NEW_VERSION, **changes}
    return f"INSERT INTO version ({', '.join(row)}) VALUES ({', '.join(row.values())})"


INSERT_FORGERIES: dict[str, tuple[dict[str, str], str]] = {
    "already approved, by someone else": (
        {
            "approval_status": "'approved'",
            "approval_by": "'{p}erin'",
            "approval_at": "now()",
            "approval_reason": "'lgtm'",
        },
        "approval-by-review",
    ),
    "already approved, by me": (
        {"approval_status": "'approved'", "approval_by": "'{me}'"},
        "approval-by-review",
    ),
    "approved without an approver": ({"approval_status": "'approved'"}, "approval-by-review"),
    "already rejected": ({"approval_status": "'rejected'"}, "approval-by-review"),
    "pending, approver named": ({"approval_by": "'{p}erin'"}, "approval-by-review"),
    "pending, decision time": ({"approval_at": "now()"}, "approval-by-review"),
    "pending, decision reason": ({"approval_reason": "'ok'"}, "approval-by-review"),
    "another creator": ({"created_by": "'{p}omar'"}, "actor-is-role"),
    "the superuser as creator": ({"created_by": "'postgres'"}, "actor-is-role"),
    "no creator": ({"created_by": "''"}, "actor-is-role"),
    "a kept copy already": (
        {"stored_path": "'sha256/ab/' || repeat('ab', 32) || '/model.safetensors'"},
        "kept-copy",
    ),
    "a gap in the numbers": ({"number": "9"}, "gapless-numbers"),
    "number zero": ({"number": "0"}, "gapless-numbers"),
}


@pytest.mark.parametrize("who", ["dana", "erin"])
@pytest.mark.parametrize("forgery", sorted(INSERT_FORGERIES))
def test_a_version_row_is_inserted_pending_and_by_its_creator(
    world: World, who: str, forgery: str
) -> None:
    changes, rule = INSERT_FORGERIES[forgery]
    world.refused(who, rule, insert_version(**changes))


@pytest.mark.parametrize("who", ["dana", "erin"])
def test_a_plain_pending_version_row_is_accepted(world: World, who: str) -> None:
    world.attempt(who, insert_version())


# ---------------------------------------------------- version: fixed columns

MAY_CHANGE = {
    "metrics", "params", "tags", "datasets", "logged", "archived", "artifact_state",
    "approval_status", "approval_by", "approval_at", "approval_reason", "stored_path",
    "description",
}  # fmt: skip
FIXED = sorted(c.name for c in VERSION.c if c.name not in MAY_CHANGE)


def changed_value(table: Any, column: str, ids: dict[str, Any]) -> str:
    """An SQL expression for a different, valid value of `column` (by its type)."""
    if column == "sha256":
        return "md5(sha256) || md5(sha256)"
    if column == "model_id":
        return str(ids["m_spare"])
    if column == "id":
        return "id + 100000"
    kind = type(table.c[column].type).__name__.lower()
    if "int" in kind:
        return f"{column} + 100"
    if "bool" in kind:
        return f"NOT {column}"
    if "json" in kind:
        return "'{{\"forged\": 1}}'"
    if "date" in kind:
        return f"{column} + interval '1 hour'"
    return f"CASE WHEN {column} IS NULL THEN 'x' ELSE {column} || 'x' END"


@pytest.mark.parametrize("who", ["dana", "erin"])
@pytest.mark.parametrize("column", FIXED)
def test_a_versions_identity_and_facts_never_change(world: World, who: str, column: str) -> None:
    """churn:3 is referenced by nothing, so only the rule can refuse (no foreign key)."""
    value = changed_value(VERSION, column, world.ids)
    world.refused(
        who, "fixed-after-insert", f"UPDATE version SET {column} = {value} WHERE id = {{c3}}"
    )


@pytest.mark.parametrize("who", ["dana", "erin"])
def test_production_bytes_cannot_be_swapped_under_resolve(world: World, who: str) -> None:
    """The issue's bypass: path and sha256 of the production version rewritten."""
    world.refused(
        who,
        "fixed-after-insert",
        "UPDATE version SET path = '/tmp/evil.safetensors', sha256 = repeat('e', 64) "
        "WHERE id = {c1}",
    )


@pytest.mark.parametrize("who", ["dana", "erin"])
def test_what_regtui_updates_on_a_version_stays_updatable(world: World, who: str) -> None:
    world.attempt(
        who,
        "UPDATE version SET metrics = '{{\"auc\": 0.9}}', params = '{{\"lr\": 1}}', "
        "tags = '{{\"t\": \"x\"}}', logged = '{{}}', datasets = '[]', "
        "artifact_state = 'changed', description = 'notes' WHERE id = {c2}",
        "UPDATE version SET archived = true WHERE id = {c3}",
    )


# -------------------------------------------------------- version: decisions

DECISIONS: list[tuple[str, str, str, str]] = [
    # (who, SET clause, version, rule)
    ("dana", "approval_status = 'approved', approval_by = '{me}', approval_at = now()", "c2",
     "approver-role"),
    ("dana", "approval_status = 'approved', approval_by = '{p}erin', approval_at = now()", "c2",
     "actor-is-role"),
    ("dana", "approval_by = '{me}'", "c1", "approval-by-review"),
    ("dana", "approval_by = '{p}erin', approval_reason = 'forged'", "c7", "actor-is-role"),
    ("dana", "approval_status = 'pending', approval_by = '{me}'", "c1", "approval-by-review"),
    ("dana", "approval_status = 'rejected', approval_by = '{me}'", "c1", "rejected-no-stage"),
    ("dana", "approval_status = 'rejected', approval_by = '{me}', approval_at = now()", "c2",
     "rejected-no-stage"),
    ("dana", "archived = true", "c1", "archived-no-stage"),
    ("dana", "archived = true", "c2", "archived-no-stage"),
    ("erin", "approval_status = 'approved', approval_by = '{me}', approval_at = now()", "c3",
     "artifact-damaged"),
    ("erin", "approval_status = 'approved', approval_by = '{me}', approval_at = now()", "o2",
     "distinct-approver"),
    ("erin", "approval_status = 'rejected', approval_by = '{me}'", "c1", "rejected-no-stage"),
    ("erin", "approval_status = 'pending', approval_by = '{me}'", "c1", "approval-by-review"),
    ("erin", "approval_status = 'approved', approval_by = '{p}dana'", "c2", "actor-is-role"),
    ("erin", "archived = true", "c1", "archived-no-stage"),
    ("erin", "approval_by = '{me}', approval_reason = 'mine now'", "c6", "approval-by-review"),
    ("erin", "approval_reason = 'rewritten', approval_at = now()", "c7", "approval-by-review"),
    ("erin", "approval_status = 'rejected', approval_by = '{me}', approval_at = NULL", "c7",
     "approval-by-review"),
    ("dana", "approval_by = '{me}', approval_at = now()", "c6", "approval-by-review"),
]  # fmt: skip


@pytest.mark.parametrize(("who", "change", "version", "rule"), DECISIONS)
def test_decisions_on_a_version_follow_the_roles_and_rules(
    world: World, who: str, change: str, version: str, rule: str
) -> None:
    world.refused(who, rule, f"UPDATE version SET {change} WHERE id = {{{version}}}")


def test_an_approver_may_approve_by_sql_what_regtui_would(world: World) -> None:
    world.attempt(
        "erin",
        "UPDATE version SET approval_status = 'approved', approval_by = '{me}', "
        "approval_at = now() WHERE id = {c2}",
    )
    world.attempt(
        "dana",
        "UPDATE version SET approval_status = 'rejected', approval_by = '{me}', "
        "approval_at = now() WHERE id = {c7}",
    )


# ----------------------------------------------------------- version: kept copy

KEPT: list[tuple[str, str, str]] = [
    ("dana", "'sha256/' || left(sha256, 2) || '/' || sha256 || '/m.safetensors'", "approver-role"),
    ("erin", "'/etc/passwd'", "kept-copy"),
    ("erin", "'sha256/' || left(sha256, 2) || '/' || md5(sha256) || md5(sha256) || '/m'",
     "kept-copy"),
    ("erin", "'sha256/' || left(sha256, 2) || '/' || sha256 || '/..'", "kept-copy"),
    ("erin", "'sha256/' || left(sha256, 2) || '/' || sha256 || '/a/../../x'", "kept-copy"),
    ("erin", "'sha256/' || left(sha256, 2) || '/' || sha256 || '/'", "kept-copy"),
    ("erin", "'sha256/' || left(sha256, 2) || '/' || sha256 || '/m' || chr(10)", "kept-copy"),
    ("erin", "'../' || sha256", "kept-copy"),
    ("erin", "NULL", "kept-copy"),
]  # fmt: skip


@pytest.mark.parametrize(("who", "value", "rule"), KEPT)
def test_a_kept_copy_is_a_key_named_by_the_versions_own_sha256(
    world: World, who: str, value: str, rule: str
) -> None:
    world.refused(who, rule, f"UPDATE version SET stored_path = {value} WHERE id = {{c1}}")


def test_an_approver_records_a_well_formed_kept_copy(world: World) -> None:
    world.attempt(
        "erin",
        "UPDATE version SET stored_path = 'sha256/' || left(sha256, 2) || '/' || sha256 "
        "|| '/m.safetensors' WHERE id = {c7}",
    )


# ------------------------------------------------------------------- stages

STAGE_WRITES: list[tuple[str, str, str]] = [
    # (who, statement, rule)
    ("dana", "UPDATE stage SET version_id = {c2}, revision = revision + 1, updated_by = '{me}' "
     "WHERE id = {s_production}", "approver-role"),
    ("dana", "UPDATE stage SET version_id = NULL, revision = revision + 1, updated_by = '{me}' "
     "WHERE id = {s_production}", "approver-role"),
    ("dana", "UPDATE stage SET revision = revision + 1, updated_by = '{me}' "
     "WHERE id = {s_production}", "approver-role"),
    ("dana", "INSERT INTO stage (model_id, name, version_id, revision, updated_at, updated_by) "
     "VALUES ({m_other}, 'production', {o1}, 1, now(), '{me}')", "approver-role"),
    ("dana", "UPDATE stage SET name = 'canary', revision = revision + 1, "
     "updated_by = '{me}' WHERE id = {s_staging}", "fixed-after-insert"),
    ("dana", "UPDATE stage SET model_id = {m_other}, revision = revision + 1, "
     "updated_by = '{me}' WHERE id = {s_staging}", "fixed-after-insert"),
    ("dana", "UPDATE stage SET version_id = {c7}, revision = revision + 1, "
     "updated_by = '{p}erin' WHERE id = {s_staging}", "actor-is-role"),
    ("dana", "UPDATE stage SET version_id = {c7}, updated_by = '{me}' WHERE id = {s_staging}",
     "stage-revision"),
    ("dana", "UPDATE stage SET version_id = {c7}, revision = 1, updated_by = '{me}' "
     "WHERE id = {s_staging}", "stage-revision"),
    ("dana", "UPDATE stage SET version_id = {o1}, revision = revision + 1, "
     "updated_by = '{me}' WHERE id = {s_staging}", "stage-of-model"),
    ("dana", "UPDATE stage SET version_id = {c5}, revision = revision + 1, "
     "updated_by = '{me}' WHERE id = {s_staging}", "archived-no-stage"),
    ("dana", "UPDATE stage SET version_id = {c6}, revision = revision + 1, "
     "updated_by = '{me}' WHERE id = {s_staging}", "rejected-no-stage"),
    ("dana", "INSERT INTO stage (model_id, name, version_id, revision, updated_at, updated_by) "
     "VALUES ({m_churn}, 'canary', {c2}, 5, now(), '{me}')", "stage-revision"),
    ("erin", "UPDATE stage SET version_id = {c2}, revision = revision + 1, updated_by = '{me}' "
     "WHERE id = {s_production}", "protected-stage-needs-approval"),
    ("erin", "UPDATE stage SET version_id = {c3}, revision = revision + 1, updated_by = '{me}' "
     "WHERE id = {s_production}", "artifact-damaged"),
    ("erin", "UPDATE stage SET version_id = {c4}, revision = revision + 1, updated_by = '{me}' "
     "WHERE id = {s_production}", "artifact-damaged"),
    ("erin", "UPDATE stage SET version_id = {c5}, revision = revision + 1, updated_by = '{me}' "
     "WHERE id = {s_production}", "archived-no-stage"),
    ("erin", "UPDATE stage SET version_id = {c6}, revision = revision + 1, updated_by = '{me}' "
     "WHERE id = {s_production}", "rejected-no-stage"),
    ("erin", "UPDATE stage SET version_id = {o1}, revision = revision + 1, updated_by = '{me}' "
     "WHERE id = {s_production}", "stage-of-model"),
    ("erin", "INSERT INTO stage (model_id, name, version_id, revision, updated_at, updated_by) "
     "VALUES ({m_other}, 'production', {o2}, 1, now(), '{me}')",
     "protected-stage-needs-approval"),
]  # fmt: skip


@pytest.mark.parametrize(("who", "statement", "rule"), STAGE_WRITES)
def test_stage_pointers_follow_the_roles_and_rules(
    world: World, who: str, statement: str, rule: str
) -> None:
    world.refused(who, rule, statement)


def test_stage_moves_done_right_are_accepted(world: World) -> None:
    world.attempt(
        "dana",
        "UPDATE stage SET version_id = {c7}, revision = revision + 1, updated_by = '{me}' "
        "WHERE id = {s_staging}",
    )
    world.attempt(
        "erin",
        "UPDATE stage SET version_id = {c7}, revision = revision + 1, updated_by = '{me}' "
        "WHERE id = {s_production}",
    )


# -------------------------------------------------------------- history rows

HISTORY: list[tuple[str, str, str]] = [
    ("dana", "INSERT INTO stage_move (model_id, stage, from_version_id, to_version_id, action, "
     "at, by) VALUES ({m_churn}, 'production', {c1}, {c2}, 'promote', now(), '{me}')",
     "approver-role"),
    ("dana", "INSERT INTO stage_move (model_id, stage, from_version_id, to_version_id, action, "
     "at, by) VALUES ({m_churn}, 'staging', {c2}, {c7}, 'promote', now(), '{me}')",
     "history-is-true"),
    ("dana", "INSERT INTO stage_move (model_id, stage, from_version_id, to_version_id, action, "
     "at, by) VALUES ({m_churn}, 'staging', NULL, {c2}, 'promote', now(), '{p}erin')",
     "actor-is-role"),
    ("erin", "INSERT INTO stage_move (model_id, stage, from_version_id, to_version_id, action, "
     "at, by) VALUES ({m_churn}, 'production', {c1}, {c7}, 'rollback', now(), '{me}')",
     "history-is-true"),
    ("dana", "UPDATE stage_move SET by = '{me}'", "append-only"),
    ("erin", "UPDATE stage_move SET to_version_id = {c7}", "append-only"),
    ("mallory", "DELETE FROM stage_move", "append-only"),
    ("dana", "INSERT INTO approval (version_id, status, by, at, reason) "
     "VALUES ({c2}, 'approved', '{me}', now(), 'forged')", "history-is-true"),
    ("dana", "INSERT INTO approval (version_id, status, by, at, reason) "
     "VALUES ({c1}, 'approved', '{p}erin', now(), 'forged')", "actor-is-role"),
    ("erin", "INSERT INTO approval (version_id, status, by, at, reason) "
     "VALUES ({c7}, 'approved', '{me}', now(), 'again')", "history-is-true"),
    ("dana", "UPDATE approval SET by = '{me}'", "append-only"),
    ("erin", "UPDATE approval SET reason = 'rewritten'", "append-only"),
    ("mallory", "DELETE FROM approval", "append-only"),
]  # fmt: skip


@pytest.mark.parametrize(("who", "statement", "rule"), HISTORY)
def test_history_rows_are_true_and_append_only(
    world: World, who: str, statement: str, rule: str
) -> None:
    world.refused(who, rule, statement)


def test_a_true_history_row_is_accepted(world: World) -> None:
    world.attempt(
        "dana",
        "UPDATE stage SET version_id = {c7}, revision = revision + 1, updated_by = '{me}', "
        "updated_at = '2030-01-01T00:00:00Z' WHERE id = {s_staging}",
        "INSERT INTO stage_move (model_id, stage, from_version_id, to_version_id, action, at, by) "
        "VALUES ({m_churn}, 'staging', {c2}, {c7}, 'promote', '2030-01-01T00:00:00Z', '{me}')",
    )


# ------------------------------------------------------------------ audit log

AUDIT_COLUMNS = sorted(c.name for c in AUDIT_EVENT.c)
_NEXT_EVENT = (
    "INSERT INTO audit_event (seq, at, actor, action, model, target, prev_hash, hash) "
    "SELECT seq + {step}, now(), {actor}, 'approved', 'churn', 'churn:2', {prev}, "
    "repeat('f', 64) FROM audit_event ORDER BY seq DESC LIMIT 1"
)


@pytest.mark.parametrize("who", ["dana", "erin", "mallory"])
@pytest.mark.parametrize("column", AUDIT_COLUMNS)
def test_audit_events_are_never_rewritten(world: World, who: str, column: str) -> None:
    value = changed_value(AUDIT_EVENT, column, world.ids)
    if column in ("hash", "prev_hash"):
        value = "repeat('0', 64)"
    where = "seq = (SELECT max(seq) FROM audit_event)" if column == "seq" else "true"
    world.refused(who, "append-only", f"UPDATE audit_event SET {column} = {value} WHERE {where}")


@pytest.mark.parametrize(
    ("actor", "step", "prev", "rule"),
    [
        ("'{p}omar'", "1", "hash", "actor-is-role"),
        ("'postgres'", "1", "hash", "actor-is-role"),
        ("'{me}'", "1", "repeat('0', 64)", "audit-chain"),
        ("'{me}'", "2", "hash", "audit-chain"),
        ("'{me}'", "5", "hash", "audit-chain"),
    ],
)
@pytest.mark.parametrize("who", ["dana", "erin"])
def test_audit_events_extend_the_chain_as_their_author(
    world: World, who: str, actor: str, step: str, prev: str, rule: str
) -> None:
    world.refused(who, rule, _NEXT_EVENT.format(actor=actor, step=step, prev=prev))


def test_the_next_event_in_the_chain_is_accepted(world: World) -> None:
    world.attempt("dana", _NEXT_EVENT.format(actor="'{me}'", step="1", prev="hash"))


# ------------------------------------------------------------ policy and store

SETTINGS: list[tuple[str, str, str]] = [
    ("dana", "UPDATE setting SET value = '{{\"protected_stages\": []}}' WHERE key = 'policy'",
     "admin-role"),
    ("erin", "UPDATE setting SET value = '{{\"protected_stages\": [\"production\"], "
     "\"distinct_approver\": false}}' WHERE key = 'policy'", "admin-role"),
    ("erin", "UPDATE setting SET value = '{{\"location\": \"/tmp/elsewhere\"}}' "
     "WHERE key = 'store'", "admin-role"),
    ("dana", "INSERT INTO setting (key, value) VALUES ('other', '1')", "admin-role"),
    ("mallory", "UPDATE setting SET value = '{{}}' WHERE key = 'policy'", "admin-role"),
    ("omar", "UPDATE setting SET value = '\"production\"' WHERE key = 'policy'", "policy-shape"),
    ("omar", "UPDATE setting SET value = '{{\"protected_stages\": \"production\"}}' "
     "WHERE key = 'policy'", "policy-shape"),
    ("omar", "UPDATE setting SET value = '{{\"protected_stages\": [1]}}' WHERE key = 'policy'",
     "policy-shape"),
    ("omar", "UPDATE setting SET value = '{{\"distinct_approver\": \"no\"}}' "
     "WHERE key = 'policy'", "policy-shape"),
    ("omar", "UPDATE setting SET value = '{{\"protected_stages\": [\"production\", "
     "\"staging\"]}}' WHERE key = 'policy'", "protected-stage-needs-approval"),
    ("omar", "UPDATE setting SET key = 'old' WHERE key = 'policy'", "fixed-after-insert"),
    ("omar", "UPDATE setting SET value = '{{\"location\": \"relative/store\"}}' "
     "WHERE key = 'store'", "store-shape"),
    ("omar", "UPDATE setting SET value = '\"/tmp/x\"' WHERE key = 'store'", "store-shape"),
    ("mallory", "DELETE FROM setting WHERE key = 'policy'", "no-delete"),
]  # fmt: skip


@pytest.mark.parametrize(("who", "statement", "rule"), SETTINGS)
def test_policy_and_store_belong_to_the_admin_role(
    world: World, who: str, statement: str, rule: str
) -> None:
    world.refused(who, rule, statement)


def test_the_admin_role_changes_policy_and_store(world: World) -> None:
    world.attempt(
        "omar",
        'UPDATE setting SET value = \'{{"protected_stages": ["production", "canary"], '
        "\"distinct_approver\": false}}' WHERE key = 'policy'",
        "UPDATE setting SET value = '{{\"location\": \"/srv/store\"}}' WHERE key = 'store'",
    )


# ------------------------------------------------- models, roots, schema, deletes

OTHER_WRITES: list[tuple[str, str, str]] = [
    ("dana", "UPDATE model SET name = 'renamed' WHERE id = {m_churn}", "fixed-after-insert"),
    ("dana", "UPDATE model SET created_by = '{p}erin' WHERE id = {m_churn}", "fixed-after-insert"),
    ("erin", "UPDATE model SET created_at = now() WHERE id = {m_churn}", "fixed-after-insert"),
    ("dana", "INSERT INTO model (name, description, tags, created_at, created_by) "
     "VALUES ('new', '', '{{}}', now(), '{p}erin')", "actor-is-role"),
    ("dana", "INSERT INTO watch_root (path, settle_seconds, created_at, created_by) "
     "VALUES ('/w', 2, now(), '{p}erin')", "actor-is-role"),
    ("erin", "UPDATE watch_root SET path = '/elsewhere'", "fixed-after-insert"),
    ("erin", "UPDATE watch_root SET created_by = '{me}'", "fixed-after-insert"),
    ("dana", "UPDATE alembic_version SET version_num = '0002'", "schema-owner"),
    ("mallory", "DELETE FROM alembic_version", "schema-owner"),
    ("mallory", "DELETE FROM version WHERE id = {c3}", "no-delete"),
    ("mallory", "DELETE FROM stage WHERE id = {s_staging}", "no-delete"),
    ("mallory", "DELETE FROM model WHERE id = {m_spare}", "no-delete"),
    ("mallory", "DELETE FROM audit_event WHERE seq = (SELECT max(seq) FROM audit_event)",
     "append-only"),
]  # fmt: skip


@pytest.mark.parametrize(("who", "statement", "rule"), OTHER_WRITES)
def test_models_roots_and_schema_version_hold(
    world: World, who: str, statement: str, rule: str
) -> None:
    world.refused(who, rule, statement)


INDEX_ROWS: list[tuple[str, str]] = [
    ("dana", "INSERT INTO version_metric (version_id, name, value) VALUES ({c7}, 'auc', 0.99)"),
    ("erin", "INSERT INTO version_tag (version_id, key, value) VALUES ({c7}, 'team', 'ml')"),
    ("dana", "INSERT INTO version_metric (version_id, name, value) VALUES ({c1}, 'f1', 1)"),
    ("dana", "UPDATE version_metric SET value = value + 1"),
    ("dana", "UPDATE version_metric SET version_id = {c7} WHERE version_id = {c2}"),
    ("erin", "UPDATE version_tag SET value = 'forged'"),
]


@pytest.mark.parametrize(("who", "statement"), INDEX_ROWS)
def test_filter_index_rows_say_what_their_version_says(
    world: World, who: str, statement: str
) -> None:
    world.refused(who, "index-is-true", statement)


def test_index_rows_that_match_are_accepted(world: World) -> None:
    world.attempt(
        "dana",
        'UPDATE version SET metrics = \'{{"auc": 0.1, "n": 3}}\', '
        'tags = \'{{"team": "ml"}}\' WHERE id = {c7}',
        "INSERT INTO version_metric (version_id, name, value) VALUES ({c7}, 'auc', 0.1), "
        "({c7}, 'n', 3)",
        "INSERT INTO version_tag (version_id, key, value) VALUES ({c7}, 'team', 'ml')",
    )


TABLES = [
    "version", "stage", "stage_move", "approval", "audit_event", "setting", "model",
    "watch_root", "version_metric", "version_tag", "version_dataset", "alembic_version",
]  # fmt: skip


@pytest.mark.parametrize("table", TABLES)
def test_no_table_is_truncated_even_with_the_privilege(world: World, table: str) -> None:
    world.refused("mallory", "no-delete", f"TRUNCATE {table} CASCADE")


# ----------------------------------------------- a hostile session's own objects

SHADOWS: dict[str, list[str]] = {
    "temp view pg_roles": [
        "CREATE TEMP VIEW pg_roles AS SELECT r.rolname, true AS rolsuper, r.oid "
        "FROM pg_catalog.pg_roles r"
    ],
    "temp view pg_class": [
        "CREATE TEMP VIEW pg_class AS SELECT c.oid, "
        "(SELECT oid FROM pg_catalog.pg_roles WHERE rolname = session_user) AS relowner "
        "FROM pg_catalog.pg_class c"
    ],
    "temp table setting": [
        "CREATE TEMP TABLE setting (key text, value jsonb)",
        "INSERT INTO setting VALUES ('policy', '{{\"protected_stages\": []}}')",
    ],
    "temp tables stage and version": [
        "CREATE TEMP TABLE stage (LIKE public.stage)",
        "CREATE TEMP TABLE version (LIKE public.version)",
    ],
    "search_path with pg_temp first": [
        "CREATE TEMP VIEW pg_roles AS SELECT r.rolname, true AS rolsuper, r.oid "
        "FROM pg_catalog.pg_roles r",
        "SET LOCAL search_path = pg_temp, public, pg_catalog",
    ],
    "temp functions named like the checks": [
        "CREATE FUNCTION pg_temp.pg_has_role(name, name, text) RETURNS boolean "
        "LANGUAGE sql AS 'SELECT true'",
        "CREATE FUNCTION pg_temp.regtui_trusted(oid) RETURNS boolean LANGUAGE sql AS 'SELECT true'",
        "CREATE FUNCTION pg_temp.session_user() RETURNS name LANGUAGE sql AS 'SELECT ''postgres'''",
    ],
    "overloads in the schema (CREATE granted)": [
        "CREATE FUNCTION public.regtui_trusted(regclass) RETURNS boolean "
        "LANGUAGE sql AS 'SELECT true'",
        "CREATE FUNCTION public.regtui_member(name) RETURNS boolean LANGUAGE sql AS 'SELECT true'",
        "CREATE FUNCTION public.regtui_member(varchar) RETURNS boolean "
        "LANGUAGE sql AS 'SELECT true'",
        "CREATE FUNCTION public.regtui_check_actor(varchar) RETURNS void LANGUAGE sql AS 'SELECT'",
        "CREATE FUNCTION public.regtui_refuse(varchar, varchar) RETURNS void "
        "LANGUAGE sql AS 'SELECT'",
        "CREATE FUNCTION public.regtui_protected(varchar) RETURNS boolean "
        "LANGUAGE sql AS 'SELECT false'",
    ],
}
SHADOWED_ATTEMPTS: dict[str, tuple[str, str]] = {
    "approve": (
        "UPDATE public.version SET approval_status = 'approved', approval_by = '{me}', "
        "approval_at = now() WHERE id = {c2}",
        "approver-role",
    ),
    "ship": (
        "UPDATE public.stage SET version_id = {c2}, revision = revision + 1, updated_by = '{me}' "
        "WHERE id = {s_production}",
        "approver-role",
    ),
    "rewrite the audit log": ("UPDATE public.audit_event SET actor = 'nobody'", "append-only"),
    "swap the bytes": (
        "UPDATE public.version SET path = '/tmp/evil', sha256 = repeat('e', 64) WHERE id = {c1}",
        "fixed-after-insert",
    ),
    "claim another name": (
        "UPDATE public.model SET description = 'x', created_by = '{p}erin' WHERE id = {m_churn}",
        "fixed-after-insert",
    ),
}


@pytest.mark.parametrize("attempt", sorted(SHADOWED_ATTEMPTS))
@pytest.mark.parametrize("shadow", sorted(SHADOWS))
def test_a_sessions_own_objects_fool_no_check(world: World, shadow: str, attempt: str) -> None:
    """The issue's bypass was a temporary `pg_roles` view; mallory (CREATE on the
    schema, every table privilege) tries that and its relatives."""
    statement, rule = SHADOWED_ATTEMPTS[attempt]
    world.refused("mallory", rule, *SHADOWS[shadow], statement)


def test_set_role_cannot_change_who_acts(world: World) -> None:
    """erin may SET ROLE regtui_approver (here granted table privileges, as an admin
    granting to the group would), but she still logged in as erin."""
    with admin_conn(world.server, world.dbname) as conn:
        conn.execute("GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA public TO regtui_approver")
    world.refused(
        "erin",
        "actor-is-role",
        "SET LOCAL ROLE regtui_approver",
        "UPDATE version SET approval_status = 'approved', approval_by = 'regtui_approver', "
        "approval_at = now() WHERE id = {c2}",
    )


def test_repeatable_read_is_refused_for_checked_writes(world: World) -> None:
    """Its snapshot could judge a stage move by a version's state from before."""
    world.refused(
        "dana",
        "isolation",
        "UPDATE stage SET version_id = {c7}, revision = revision + 1, updated_by = '{me}' "
        "WHERE id = {s_staging}",
        isolation="REPEATABLE READ",
    )
    world.attempt(
        "dana",
        "UPDATE stage SET version_id = {c7}, revision = revision + 1, updated_by = '{me}' "
        "WHERE id = {s_staging}",
        isolation="SERIALIZABLE",
    )


# ------------------------------------------------ regtui itself, role by role


def test_every_flow_works_for_the_role_it_belongs_to(team_roles: PgServer, tmp_path: Path) -> None:
    """On exactly the README's grants: what each role may do works through regtui,
    what it may not is refused by rule, and the log says who did each thing."""
    url = team_database(team_roles)
    dana, erin, omar = (as_role(url, who) for who in TEAM)
    omar.set_store_location(tmp_path / "store", reason="shared store")
    v1 = dana.register(artifact(tmp_path, "a.safetensors", "one"), "team", metrics={"auc": 0.8})
    assert v1.created_by == PREFIX + "dana"
    dana.register(artifact(tmp_path, "b.safetensors", "two"), "team", tags={"t": "x"})
    dana.log("team:1", metrics={"auc": 0.81, "f1": 0.7}, reason="late eval")
    dana.edit_version("team:2", tags={"t": "y"})
    dana.edit_version("team:2", description="retrained")
    dana.edit_model("team", description="the team model")
    dana.promote("team:2", "staging")
    dana.demote("team", "staging")
    dana.reject("team:2", "not good enough")
    dana.archive("team:2")
    root = dana.add_watch_root(tmp_path)
    dana.remove_watch_root(root.path)
    with pytest.raises(PolicyRefused, match="approver-role"):
        dana.approve("team:1", "my own")
    with pytest.raises(PolicyRefused, match="admin-role"):
        dana.set_store_location(tmp_path / "mine")
    erin.approve("team:1", "reviewed")
    with pytest.raises(PolicyRefused, match="approver-role"):
        dana.promote("team:1", "production")
    erin.promote("team:1", "production", "release")
    v3 = erin.register(artifact(tmp_path, "c.safetensors", "three"), "team")
    assert v3.version == 3
    with pytest.raises(PolicyRefused, match="admin-role"):
        erin.set_policy(erin.policy().__class__(("production",), True))
    omar.set_policy(omar.policy().__class__(("production",), True), reason="two people")
    with pytest.raises(PolicyRefused, match="distinct-approver"):
        erin.approve("team:3", "mine")
    with pytest.raises(PolicyRefused, match="approver-role"):
        omar.approve("team:3", "an admin is no approver")
    dana.log("team:3", params={"lr": 0.1})
    erin.reject("team:3", "fails holdout")
    dana.archive("team:2", archived=False)
    with pytest.raises(PolicyRefused, match="rejected-no-stage"):
        erin.promote("team:2", "production")
    erin.approve("team:2", "second look")
    erin.promote("team:2", "production", "v2")
    with pytest.raises(PolicyRefused, match="approver-role"):
        dana.rollback("team", reason="dana tries")
    with pytest.raises(PolicyRefused, match="approver-role"):
        dana.demote("team", "production", reason="dana tries")
    erin.rollback("team", reason="latency")
    production = dana.resolve("team@production")
    assert production.version == 1
    assert dana.artifact_path(production).read_bytes() == (tmp_path / "a.safetensors").read_bytes()
    omar.set_store_location(tmp_path / "store2", reason="bigger disk")
    assert dana.artifact_path(dana.resolve("team@production")).is_relative_to(tmp_path / "store2")
    assert dana.verify_audit().ok
    assert [c.state for c in erin.verify_artifacts("team")] == ["ok"] * 5
    by = {(e.action, e.target): e.actor for e in dana.audit_events()}
    assert by[("registered", "team:1")] == by[("archived", "team:2")] == PREFIX + "dana"
    assert by[("approved", "team:1")] == by[("rolled_back", "team@production")] == PREFIX + "erin"
    assert by[("policy_changed", "policy")] == by[("store_moved", "store")] == PREFIX + "omar"
    for cat in (dana, erin, omar):
        cat.close()


# The per-database grants (CONNECT is PUBLIC's by default, so not testable here).
GRANTS = [s for s in readme_setup_sql() if s.startswith("GRANT") and "CONNECT" not in s]


@pytest.mark.parametrize("skip", GRANTS)
def test_each_readme_grant_is_needed(team_roles: PgServer, tmp_path: Path, skip: str) -> None:
    """Without any one grant, some everyday command of a team role fails."""
    url = team_database(team_roles, skip=skip)
    with pytest.raises(CatalogError, match="lacks a privilege"):
        dana = as_role(url, "dana")
        dana.register(artifact(tmp_path, "a.safetensors", "one"), "team", metrics={"auc": 1})
        dana.log("team:1", metrics={"auc": 0.5})
        dana.add_watch_root(tmp_path)
        dana.remove_watch_root(tmp_path)


def test_a_trigger_someone_else_made_stops_every_checked_write(world: World) -> None:
    """mallory (granted TRIGGER) hangs her code on a regtui table: it would run in
    erin's session, as erin. Every checked write is refused until it is gone."""
    mallory = world.conn("mallory")
    mallory.execute(
        "CREATE FUNCTION public.te_ride_along() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE public.version SET approval_status = 'approved', approval_by = session_user, "
        "approval_at = now() WHERE id = {c2}; RETURN NULL; END $$".format(**world.ids)
    )
    mallory.execute(
        "CREATE TRIGGER te_ride_along AFTER INSERT ON public.version_metric "
        "FOR EACH ROW EXECUTE FUNCTION public.te_ride_along()"
    )
    mallory.commit()
    try:
        world.refused(
            "erin",
            "foreign-trigger",
            "INSERT INTO version_metric (version_id, name, value) VALUES ({c7}, 'x', 1)",
        )
        world.refused("dana", "foreign-trigger", "UPDATE model SET description = 'x'")
    finally:  # only the owner may drop it
        with admin_conn(world.server, world.dbname) as conn:
            conn.execute("DROP TRIGGER te_ride_along ON public.version_metric")
            conn.execute("DROP FUNCTION public.te_ride_along()")
    world.attempt("dana", "UPDATE model SET description = 'x'")


def test_the_cli_says_which_role_a_refusal_needs(team_roles: PgServer, tmp_path: Path) -> None:
    """A refusal by the server reaches a team member as one line, exit 4 (policy)."""
    import os
    import subprocess
    import sys

    url = team_database(team_roles)
    dana = as_role(url, "dana")
    dana.register(artifact(tmp_path, "a.safetensors", "one"), "team")
    dana.close()
    env = {**os.environ, "REGTUI_DB": url_as(url, PREFIX + "dana", superuser=False)}
    for args, rule in [
        (["approve", "team:1", "--reason", "mine"], "approver-role"),
        (["policy", "--protect", "production,staging"], "admin-role"),
        (["store", "--set", str(tmp_path / "s")], "admin-role"),
    ]:
        proc = subprocess.run(
            [sys.executable, "-m", "regtui", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 4, proc.stderr
        assert len(lines) == 1 and f"'{rule}'" in lines[0], proc.stderr


def test_downgrade_brings_back_0003_and_upgrade_returns(team_roles: PgServer) -> None:
    from alembic import command

    from regtui.catalog.db import make_engine, write_txn
    from regtui.catalog.migrate import _config, upgrade

    url = team_database(team_roles)
    engine = make_engine(url)

    def guards() -> set[str]:
        with admin_conn(team_roles, dbname_of(url)) as conn:
            rows = conn.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
            return {r[0] for r in rows}

    now = guards()
    assert "regtui_guard" in now and "regtui_no_truncate" in now
    with write_txn(engine) as conn:
        cfg = _config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    assert guards() == {
        "regtui_guard_version", "regtui_guard_stage", "regtui_guard_audit_actor",
        "regtui_guard_move_actor", "regtui_guard_approval_actor", "regtui_audit_append_only",
    }  # fmt: skip
    with write_txn(engine) as conn:
        upgrade(conn)
    assert guards() == now
    engine.dispose()
