"""hooks: commands and URLs told of audit events, their cursors and attempts

Revision ID: 0008
Revises: 0007

- `hook`: a hook's configuration (events, model/stage filter, command or URL,
  its secret, timeout) and the seq of the `hook_added` event that repeats it
  (the deliverer refuses a row that differs from that event).
- `hook_cursor`: per hook, the last seq delivered or given up, and a lease
  (owner, until) that deliverers claim by compare-and-set.
- `hook_attempt`: every attempt to deliver an event to a hook.
- PostgreSQL: only members of `regtui_admin` (and the trusted: superusers, the
  tables' owner) insert, change or delete hook rows; the actor of a new one is
  the session's role. Cursors and attempts are the deliverer's, any team role;
  attempts are append-only, none of the three is truncated, and 0006's check for
  triggers the owner did not make looks at these tables too.
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_0006 = importlib.import_module("regtui.migrations.versions.0006_team_enforcement")

GUARD = r"""
CREATE FUNCTION {s}.regtui_guard_hook() RETURNS trigger
LANGUAGE plpgsql {pin} AS $$
BEGIN
    IF {s}.regtui_unchecked(TG_RELID) THEN
        RETURN NULL;
    END IF;
    IF NOT {s}.regtui_member('regtui_admin'::text) THEN
        PERFORM {s}.regtui_refuse('admin-role'::text, format(
            '%s on hook needs membership in role regtui_admin', TG_OP));
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM {s}.regtui_check_actor(NEW.created_by::text);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM {s}.regtui_refuse('fixed-after-insert'::text,
            'a hook is removed and added again, never changed'::text);
    END IF;
    RETURN NULL;
END $$;
"""


HOOK_TABLES = ("hook", "hook_cursor", "hook_attempt")


def _unchecked(tables: tuple[str, ...]) -> str:
    """0006's regtui_unchecked, as CREATE OR REPLACE, its foreign-trigger check
    looking at `tables` (0006's, and with this revision the hook tables too)."""
    start = _0006.HELPERS.index("CREATE FUNCTION {s}.regtui_unchecked(rel oid)")
    end = _0006.HELPERS.index("CREATE FUNCTION {s}.regtui_policy()")
    body = _0006.HELPERS[start:end]
    fmt = {
        "s": _0006._schema(),
        "pin": _0006.PIN,
        "lock": _0006.PG_WRITE_LOCK_KEY,
        "tables": _0006._sql_names(tables),
    }
    return body.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1).format(**fmt)


# (table, trigger name suffix, when, regtui_refuse_change arguments), as 0006's refusals
REFUSALS = [
    ("hook_attempt", "append_only", "AFTER UPDATE OR DELETE",
     "'append-only', 'its rows are history, append-only'"),
    *((t, "no_truncate", "BEFORE TRUNCATE", "'no-delete', 'regtui never truncates'")
      for t in HOOK_TABLES),
]  # fmt: skip


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.create_table(
        "hook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("events", json_type, nullable=False),
        sa.Column("model", sa.String(length=128), nullable=True),
        sa.Column("stage", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("timeout", sa.Float(), nullable=False),
        sa.Column("added_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "hook_cursor",
        sa.Column("hook_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("hook_id"),
    )
    op.create_table(
        "hook_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hook_name", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_hook_attempt_seq", "hook_attempt", ["seq"])
    op.create_index("ix_hook_attempt_hook", "hook_attempt", ["hook_name", "id"])
    if op.get_bind().dialect.name == "postgresql":
        s = _0006._schema()
        op.execute(GUARD.format(s=s, pin=_0006.PIN))
        op.execute(
            f"CREATE TRIGGER regtui_guard AFTER INSERT OR UPDATE OR DELETE ON {s}.hook "
            f"FOR EACH ROW EXECUTE FUNCTION {s}.regtui_guard_hook()"
        )
        for table, name, when, args in REFUSALS:
            each = "STATEMENT" if "TRUNCATE" in when else "ROW"
            op.execute(
                f"CREATE TRIGGER regtui_{name} {when} ON {s}.{table} "
                f"FOR EACH {each} EXECUTE FUNCTION {s}.regtui_refuse_change({args})"
            )
        op.execute(_unchecked((*_0006.ALL_TABLES, *HOOK_TABLES)))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        s = _0006._schema()
        op.execute(_unchecked(_0006.ALL_TABLES))
        for table, name, _when, _args in REFUSALS:
            op.execute(f"DROP TRIGGER IF EXISTS regtui_{name} ON {s}.{table}")
        op.execute(f"DROP TRIGGER IF EXISTS regtui_guard ON {s}.hook")
        op.execute(f"DROP FUNCTION IF EXISTS {s}.regtui_guard_hook()")
    op.drop_table("hook_attempt")
    op.drop_table("hook_cursor")
    op.drop_table("hook")
