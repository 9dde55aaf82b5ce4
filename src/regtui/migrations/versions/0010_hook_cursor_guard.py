"""a hook's cursor only moves forward, and goes only with its hook

Revision ID: 0010
Revises: 0009

0008 let any team role UPDATE or DELETE `hook_cursor` rows (deliverers move
cursors and leases): a role could move a cursor back (replaying deploys), past
the log's head or delete it (silencing a hook). Now, on both backends:

- `hook_cursor.hook_id` references `hook.id` ON DELETE CASCADE: a cursor is
  deleted with its hook (`hook remove`, by `regtui_admin` on PostgreSQL), by
  the database itself; cursors of hooks already gone are dropped first.
- a cursor's `seq` never moves backwards nor past the audit log's head, its
  `hook_id` never changes, and a cursor whose hook still exists is never
  deleted (SQLite: triggers that abort; PostgreSQL: a guard in the style of
  0006, for everyone but the trusted, that also starts a new cursor only at
  its hook's `hook_added` event).
- PostgreSQL: DELETE on `hook_cursor` is revoked from every role but the
  owner (0008's README granted it to team roles). The cascade runs with the
  table owner's rights, so removing a hook needs no DELETE on cursors.

Leases (owner, until) still change by any team role: that is delivery.
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_0006 = importlib.import_module("regtui.migrations.versions.0006_team_enforcement")
FK_NAME = "fk_hook_cursor_hook"

GUARD = r"""
CREATE FUNCTION {s}.regtui_guard_hook_cursor() RETURNS trigger
LANGUAGE plpgsql {pin} AS $$
DECLARE
    head integer;
BEGIN
    IF {s}.regtui_unchecked(TG_RELID) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM {s}.hook h WHERE h.id = OLD.hook_id) THEN
            PERFORM {s}.regtui_refuse('cursor-with-hook'::text,
                'a hook''s cursor is deleted only with its hook (hook remove, by regtui_admin)'::text);
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM {s}.hook h
                        WHERE h.id = NEW.hook_id AND h.added_seq = NEW.seq) THEN
            PERFORM {s}.regtui_refuse('cursor-forward'::text,
                'a hook''s cursor starts at its hook_added event'::text);
        END IF;
        RETURN NULL;
    END IF;
    IF NEW.hook_id <> OLD.hook_id THEN
        PERFORM {s}.regtui_refuse('fixed-after-insert'::text,
            'hook_cursor.hook_id cannot change once written'::text);
    END IF;
    IF NEW.seq < OLD.seq THEN
        PERFORM {s}.regtui_refuse('cursor-forward'::text, format(
            'a hook''s cursor only moves forward (from %s, not back to %s)', OLD.seq, NEW.seq));
    END IF;
    SELECT coalesce(max(e.seq), 0) INTO head FROM {s}.audit_event e;
    IF NEW.seq > head THEN
        PERFORM {s}.regtui_refuse('cursor-forward'::text, format(
            'a hook''s cursor cannot pass the audit log''s head (%s, not %s)', head, NEW.seq));
    END IF;
    RETURN NULL;
END $$;
"""

# Every role but the owner loses DELETE on hook_cursor (PUBLIC is grantee 0).
REVOKE = r"""
DO $$
DECLARE
    g record;
BEGIN
    FOR g IN SELECT DISTINCT a.grantee
               FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
              WHERE c.oid = '{s}.hook_cursor'::regclass
                AND a.privilege_type = 'DELETE' AND a.grantee <> c.relowner LOOP
        IF g.grantee = 0 THEN
            EXECUTE 'REVOKE DELETE ON {s}.hook_cursor FROM PUBLIC';
        ELSE
            EXECUTE format('REVOKE DELETE ON {s}.hook_cursor FROM %I',
                           (SELECT rolname FROM pg_catalog.pg_roles WHERE oid = g.grantee));
        END IF;
    END LOOP;
END $$;
"""

# SQLite is single-user, but a stray edit should not replay or silence a hook either.
SQLITE_TRIGGERS = (
    """CREATE TRIGGER regtui_cursor_forward BEFORE UPDATE OF seq, hook_id ON hook_cursor
WHEN NEW.hook_id <> OLD.hook_id OR NEW.seq < OLD.seq
  OR NEW.seq > (SELECT coalesce(max(seq), 0) FROM audit_event)
BEGIN
    SELECT RAISE(ABORT, 'regtui: cursor-forward: a hook''s cursor only moves forward, up to the audit log''s head');
END""",
    """CREATE TRIGGER regtui_cursor_with_hook BEFORE DELETE ON hook_cursor
WHEN EXISTS (SELECT 1 FROM hook WHERE id = OLD.hook_id)
BEGIN
    SELECT RAISE(ABORT, 'regtui: cursor-with-hook: a hook''s cursor is deleted only with its hook');
END""",
)


def upgrade() -> None:
    bind = op.get_bind()
    op.execute("DELETE FROM hook_cursor WHERE hook_id NOT IN (SELECT id FROM hook)")
    if bind.dialect.name == "postgresql":
        s = _0006._schema()
        op.create_foreign_key(
            FK_NAME, "hook_cursor", "hook", ["hook_id"], ["id"], ondelete="CASCADE"
        )
        op.execute(GUARD.format(s=s, pin=_0006.PIN))
        op.execute(
            f"CREATE TRIGGER regtui_guard AFTER INSERT OR UPDATE OR DELETE ON {s}.hook_cursor "
            f"FOR EACH ROW EXECUTE FUNCTION {s}.regtui_guard_hook_cursor()"
        )
        op.execute(REVOKE.format(s=s))
        return
    with op.batch_alter_table("hook_cursor", recreate="always") as batch:
        batch.create_foreign_key(FK_NAME, "hook", ["hook_id"], ["id"], ondelete="CASCADE")
    for statement in SQLITE_TRIGGERS:
        op.execute(sa.text(statement))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        s = _0006._schema()
        op.execute(f"DROP TRIGGER IF EXISTS regtui_guard ON {s}.hook_cursor")
        op.execute(f"DROP FUNCTION IF EXISTS {s}.regtui_guard_hook_cursor()")
        op.drop_constraint(FK_NAME, "hook_cursor", type_="foreignkey")
        return
    op.execute("DROP TRIGGER IF EXISTS regtui_cursor_forward")
    op.execute("DROP TRIGGER IF EXISTS regtui_cursor_with_hook")
    with op.batch_alter_table("hook_cursor", recreate="always") as batch:
        batch.drop_constraint(FK_NAME, type_="foreignkey")
