"""A hook's cursor on SQLite (migration 0010): it only moves forward, never past the
audit log's head, and goes only with its hook, so an edit of the catalog can neither
replay a hook's deliveries nor silence it. (PostgreSQL, per role:
tests/system/test_hooks_pg.py.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, exc, select, update

from regtui.catalog import hooks
from regtui.catalog.hook_delivery import Retry
from regtui.catalog.service import Catalog
from tests.unit.helpers import catalog_with_versions

FAST = Retry(attempts=2, backoff=0.01)


@pytest.fixture
def cat(tmp_path: Path) -> Catalog:
    return catalog_with_versions(str(tmp_path / "c.sqlite"), tmp_path / "art", 3)


def recorded(out: Path) -> list[str]:
    return [json.loads(x)["reason"] for x in out.read_text().splitlines()] if out.exists() else []


def cursor_of(cat: Catalog) -> tuple[int, int]:
    with cat.engine.connect() as conn:
        row = conn.execute(select(hooks.C.c.hook_id, hooks.C.c.seq)).one()
    return int(row.hook_id), int(row.seq)


# What someone writing the catalog might try, given the hook's id, its cursor and the head.
TAMPERING = {
    "back": lambda hid, seq, head: update(hooks.C).values(seq=seq - 1),
    "back to zero": lambda hid, seq, head: update(hooks.C).values(seq=0),
    "past the head": lambda hid, seq, head: update(hooks.C).values(seq=head + 1),
    "far past the head": lambda hid, seq, head: update(hooks.C).values(seq=2**31 - 1),
    "to another hook": lambda hid, seq, head: update(hooks.C).values(hook_id=hid + 1),
    "deleted": lambda hid, seq, head: delete(hooks.C),
    "deleted by id": lambda hid, seq, head: delete(hooks.C).where(hooks.C.c.hook_id == hid),
}


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_a_cursor_is_not_moved_back_past_the_head_or_deleted(
    cat: Catalog, tmp_path: Path, how: str
) -> None:
    out = tmp_path / "out.jsonl"
    cat.add_hook("h", ["approved"], run=f"cat >> '{out}'; echo >> '{out}'")
    cat.approve("churn:1", "one")
    cat.hook_deliverer(FAST).run_once()
    hid, seq = cursor_of(cat)
    head = cat.audit_head()[0]
    assert seq == head
    with pytest.raises(exc.IntegrityError, match="regtui: cursor-"), cat.engine.begin() as conn:
        conn.execute(TAMPERING[how](hid, seq, head))
    assert cursor_of(cat) == (hid, seq)
    # Delivery goes on as before: the next event once, the first not again.
    cat.approve("churn:2", "two")
    cat.hook_deliverer(FAST).run_once()
    assert recorded(out) == ["one", "two"]


def test_a_cursor_moves_forward_up_to_the_head_and_goes_with_its_hook(cat: Catalog) -> None:
    cat.add_hook("h", ["approved"], run="true")
    cat.approve("churn:1", "one")
    hid, _added = cursor_of(cat)
    head = cat.audit_head()[0]
    with cat.engine.begin() as conn:  # what a deliverer does: forward, to the head at most
        conn.execute(update(hooks.C).values(seq=head, lease_owner="x"))
        conn.execute(update(hooks.C).values(seq=head, lease_owner=None))
    assert cursor_of(cat) == (hid, head)
    cat.remove_hook("h", "done")
    with cat.engine.connect() as conn:
        assert conn.execute(select(hooks.C)).all() == []


def test_upgrading_to_0010_keeps_hooks_cursors_and_drops_those_of_gone_hooks(
    tmp_path: Path,
) -> None:
    from regtui.catalog import migrate
    from regtui.catalog.db import close_engine, make_engine, write_txn
    from regtui.settings import sqlite_url

    engine = make_engine(sqlite_url(tmp_path / "old.sqlite"))
    with write_txn(engine) as conn:
        migrate.upgrade(conn, "0009")
        conn.execute(
            hooks.H.insert().values(
                id=1, name="h", events=["approved"], kind="run", target="true", timeout=60.0,
                added_seq=0, created_at=datetime.now(UTC), created_by="a",
            )
        )  # fmt: skip
        conn.execute(hooks.C.insert(), [{"hook_id": 1, "seq": 0}, {"hook_id": 7, "seq": 0}])
    with write_txn(engine) as conn:
        migrate.upgrade(conn)
        assert conn.execute(select(hooks.C.c.hook_id)).scalars().all() == [1]
        conn.execute(delete(hooks.H))  # the cascade
        assert conn.execute(select(hooks.C)).all() == []
    close_engine(engine)
