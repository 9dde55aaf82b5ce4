"""team mode on PostgreSQL: the database enforces who acts and who may approve

Revision ID: 0003
Revises: 0002

On PostgreSQL the actor recorded in every row is the session's own role, and
approving a version or pointing a protected stage at one needs membership in
the role `regtui_approver`. Triggers check both on the server, so a client
cannot claim another name or skip the check. Superusers are trusted (they can
disable triggers anyway); that is also what lets `regtui import` restore
history written by others. SQLite has no roles: nothing changes there.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION regtui_trusted() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT rolsuper FROM pg_roles WHERE rolname = current_user
$$;

CREATE OR REPLACE FUNCTION regtui_is_approver() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT regtui_trusted() OR (
        EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regtui_approver')
        AND pg_has_role(current_user, 'regtui_approver', 'MEMBER'))
$$;

CREATE OR REPLACE FUNCTION regtui_check_actor(claimed text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF claimed IS DISTINCT FROM current_user::text AND NOT regtui_trusted() THEN
        RAISE EXCEPTION 'regtui: actor-is-role: you act as database role %, not %',
            current_user, claimed USING ERRCODE = '42501';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION regtui_guard_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM regtui_check_actor(NEW.created_by);
    ELSIF NEW.approval_status IS DISTINCT FROM OLD.approval_status
          OR NEW.approval_by IS DISTINCT FROM OLD.approval_by THEN
        PERFORM regtui_check_actor(NEW.approval_by);
        IF NEW.approval_status = 'approved' AND NOT regtui_is_approver() THEN
            RAISE EXCEPTION 'regtui: approver-role: approving needs membership in role regtui_approver'
                USING ERRCODE = '42501';
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION regtui_guard_stage() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    protected jsonb;
BEGIN
    PERFORM regtui_check_actor(NEW.updated_by);
    SELECT value::jsonb -> 'protected_stages' INTO protected FROM setting WHERE key = 'policy';
    IF protected IS NULL THEN
        protected := '["production"]'::jsonb;
    END IF;
    IF NEW.version_id IS NOT NULL AND protected ? NEW.name AND NOT regtui_is_approver() THEN
        RAISE EXCEPTION 'regtui: approver-role: moving protected stage % needs membership in role regtui_approver', NEW.name
            USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION regtui_guard_actor_column() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM regtui_check_actor(to_jsonb(NEW) ->> TG_ARGV[0]);
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION regtui_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT regtui_trusted() THEN
        RAISE EXCEPTION 'regtui: append-only: the audit log cannot be changed or deleted'
            USING ERRCODE = '42501';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER regtui_guard_version BEFORE INSERT OR UPDATE ON version
    FOR EACH ROW EXECUTE FUNCTION regtui_guard_version();
CREATE TRIGGER regtui_guard_stage BEFORE INSERT OR UPDATE ON stage
    FOR EACH ROW EXECUTE FUNCTION regtui_guard_stage();
CREATE TRIGGER regtui_guard_audit_actor BEFORE INSERT ON audit_event
    FOR EACH ROW EXECUTE FUNCTION regtui_guard_actor_column('actor');
CREATE TRIGGER regtui_guard_move_actor BEFORE INSERT ON stage_move
    FOR EACH ROW EXECUTE FUNCTION regtui_guard_actor_column('by');
CREATE TRIGGER regtui_guard_approval_actor BEFORE INSERT ON approval
    FOR EACH ROW EXECUTE FUNCTION regtui_guard_actor_column('by');
CREATE TRIGGER regtui_audit_append_only BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION regtui_append_only();
"""

DROP = r"""
DROP TRIGGER IF EXISTS regtui_guard_version ON version;
DROP TRIGGER IF EXISTS regtui_guard_stage ON stage;
DROP TRIGGER IF EXISTS regtui_guard_audit_actor ON audit_event;
DROP TRIGGER IF EXISTS regtui_guard_move_actor ON stage_move;
DROP TRIGGER IF EXISTS regtui_guard_approval_actor ON approval;
DROP TRIGGER IF EXISTS regtui_audit_append_only ON audit_event;
DROP FUNCTION IF EXISTS regtui_guard_version, regtui_guard_stage, regtui_guard_actor_column,
    regtui_append_only, regtui_check_actor, regtui_is_approver, regtui_trusted;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTIONS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DROP)
