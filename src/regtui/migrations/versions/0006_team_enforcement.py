"""team mode on PostgreSQL, enforced by the server on every write path

Revision ID: 0006
Revises: 0005

Replaces the triggers of 0003, which checked INSERT or UPDATE (not both),
trusted whatever `pg_roles` and `setting` meant in the caller's search_path,
and left the policy, version identity and actor columns to the client.

Who is trusted: superusers and members of the role owning the catalog's
tables (either can disable triggers anyway). Everyone else meets these rules,
whatever SQL they send:

- actor columns (`created_by`, `approval_by`, `updated_by`, `by`, `actor`)
  equal the role the session logged in as (`session_user`: SET ROLE cannot
  change it) when written, and never change afterwards;
- a version is inserted pending, without a kept copy, numbered right after its
  model's previous one; afterwards only its metrics, params, tags, datasets,
  `logged`, archived flag, artifact state, approval and kept copy change: path,
  sha256, size, format, facts, damage and creator are fixed;
- approving needs membership in `regtui_approver`, an undamaged version and,
  under the distinct-approver rule, an approver other than its creator; a
  decision is only ever "approved" or "rejected";
- a kept copy (`stored_path`) is recorded by an approver (it comes with moving
  a protected stage) and is a key inside the store named by the version's own
  sha256 (`sha256/ab/<sha256>/<name>`), never a path elsewhere;
- any write to a protected stage (promote, rollback, demote) needs
  `regtui_approver`; no stage holds another model's version, an archived or a
  rejected one, and a protected stage holds approved, undamaged versions only:
  checked when the stage moves, when the version changes and when the policy
  changes;
- approval, stage history and audit rows are append-only; a history row must
  describe the change it records (the version's decision, the stage's move);
  audit rows extend the chain (next seq, linked to the previous hash);
- the `policy` and `store` settings (all settings) change only by members of
  `regtui_admin`, and must have their documented shape;
- `version_metric` / `version_tag` rows repeat their version's metrics / tags
  (`version_dataset` rows are not checked);
- nothing is deleted or truncated, except the index rows regtui rebuilds
  (`version_metric`, `version_tag`, `version_dataset`) and `watch_root` rows;
  `alembic_version` is the owner's alone.

How the checks resist a hostile session: every function pins
`search_path = pg_catalog, pg_temp` (pg_temp last, so a temporary `pg_roles`
view or `setting` table shadows nothing; functions and operators are never
looked up in pg_temp) and names regtui's own tables and functions with the
schema they were created in. Helpers take exactly typed arguments, so an
overload someone creates cannot be preferred. The checks run in AFTER
triggers, so they see the row as finally written, even if another BEFORE
trigger changed it. They run with the caller's rights (no SECURITY DEFINER:
nothing they read needs more than the SELECT every team role has). Checks
take regtui's write lock first (every regtui writer holds it already) and
refuse REPEATABLE READ, where they would judge a stale snapshot (SERIALIZABLE
is safe on its own). And they refuse every write while a regtui table has a
trigger whose function its owner did not make: a role granted TRIGGER could
otherwise have its code run in an approver's session, with an approver's rights.
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

from regtui.catalog.db import PG_WRITE_LOCK_KEY

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PIN = "SET search_path = pg_catalog, pg_temp"

# {s} is the quoted schema the catalog's tables live in; {lock} regtui's write lock.
HELPERS = r"""
CREATE FUNCTION {s}.regtui_trusted(rel oid) RETURNS boolean
LANGUAGE sql STABLE {pin} AS $$
    SELECT coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r
                     WHERE r.rolname = session_user), false)
        OR coalesce((SELECT pg_catalog.pg_has_role(session_user, c.relowner, 'MEMBER')
                     FROM pg_catalog.pg_class c WHERE c.oid = rel), false)
$$;

CREATE FUNCTION {s}.regtui_member(grp text) RETURNS boolean
LANGUAGE sql STABLE {pin} AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = grp)
                THEN pg_catalog.pg_has_role(session_user, grp::name, 'MEMBER')
                ELSE false END
$$;

CREATE FUNCTION {s}.regtui_refuse(rule text, why text) RETURNS void
LANGUAGE plpgsql {pin} AS $$
BEGIN
    RAISE EXCEPTION 'regtui: %: %', rule, why USING ERRCODE = '42501';
END $$;

CREATE FUNCTION {s}.regtui_check_actor(claimed text) RETURNS void
LANGUAGE plpgsql {pin} AS $$
BEGIN
    IF claimed IS DISTINCT FROM session_user::text THEN
        PERFORM {s}.regtui_refuse('actor-is-role'::text, format(
            'you act as database role %s, not %s', session_user, claimed));
    END IF;
END $$;

CREATE FUNCTION {s}.regtui_unchecked(rel oid) RETURNS boolean
LANGUAGE plpgsql {pin} AS $$
-- True for a trusted session: nothing to check. Otherwise readies the checks.
BEGIN
    IF {s}.regtui_trusted(rel) THEN
        RETURN true;
    END IF;
    IF current_setting('transaction_isolation') = 'repeatable read' THEN
        PERFORM {s}.regtui_refuse('isolation'::text,
            'team-mode writes run in READ COMMITTED or SERIALIZABLE transactions'::text);
    END IF;
    -- After this, READ COMMITTED statements see every regtui write committed before.
    PERFORM pg_advisory_xact_lock({lock});
    -- A trigger whose function the tables' owner did not make runs in every
    -- writer's session with that writer's rights (an approver's, say).
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                 JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
                 JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
                WHERE c.relnamespace = (SELECT relnamespace FROM pg_catalog.pg_class
                                         WHERE oid = rel)
                  AND c.relname IN ({tables})
                  AND NOT t.tgisinternal AND p.proowner <> c.relowner) THEN
        PERFORM {s}.regtui_refuse('foreign-trigger'::text,
            'a regtui table has a trigger its owner did not make; the admin must drop it'::text);
    END IF;
    RETURN false;
END $$;

CREATE FUNCTION {s}.regtui_policy() RETURNS jsonb
LANGUAGE sql STABLE {pin} AS $$
    SELECT value::jsonb FROM {s}.setting WHERE key = 'policy'
$$;

CREATE FUNCTION {s}.regtui_protected(stage text) RETURNS boolean
LANGUAGE sql STABLE {pin} AS $$
    -- As regtui reads it: no policy, or one without the key, protects production.
    SELECT CASE WHEN p IS NULL OR NOT p ? 'protected_stages' THEN stage = 'production'
                ELSE p -> 'protected_stages' ? stage END
    FROM (SELECT {s}.regtui_policy() AS p) AS x
$$;

CREATE FUNCTION {s}.regtui_check_holder(stage text, model integer, vid integer) RETURNS void
LANGUAGE plpgsql {pin} AS $$
DECLARE
    v record;
    ref text;
    protected boolean := {s}.regtui_protected(stage);
BEGIN
    SELECT ver.model_id, ver.archived, ver.approval_status, ver.damage,
           m.name || ':' || ver.number AS label
      INTO v FROM {s}.version ver JOIN {s}.model m ON m.id = ver.model_id
     WHERE ver.id = vid;
    IF NOT FOUND THEN
        RETURN;  -- the foreign key refuses it
    END IF;
    ref := v.label;
    IF v.model_id <> model THEN
        PERFORM {s}.regtui_refuse('stage-of-model'::text,
            format('stage %s cannot hold %s, a version of another model', stage, ref));
    ELSIF v.archived THEN
        PERFORM {s}.regtui_refuse('archived-no-stage'::text,
            format('%s is archived and can hold no stage (%s)', ref, stage));
    ELSIF v.approval_status = 'rejected' THEN
        PERFORM {s}.regtui_refuse('rejected-no-stage'::text,
            format('%s is rejected and can hold no stage (%s)', ref, stage));
    ELSIF protected AND v.damage IS NOT NULL THEN
        PERFORM {s}.regtui_refuse('artifact-damaged'::text,
            format('%s is protected and %s is damaged (%s)', stage, ref, v.damage));
    ELSIF protected AND v.approval_status <> 'approved' THEN
        PERFORM {s}.regtui_refuse('protected-stage-needs-approval'::text,
            format('%s is protected and %s is %s', stage, ref, v.approval_status));
    END IF;
END $$;

CREATE FUNCTION {s}.regtui_changed(new_row jsonb, old_row jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE {pin} AS $$
    SELECT coalesce(array_agg(n.key ORDER BY n.key), '{{}}')
    FROM jsonb_each(new_row) n JOIN jsonb_each(old_row) o ON o.key = n.key
    WHERE n.value IS DISTINCT FROM o.value
$$;

CREATE FUNCTION {s}.regtui_keep_fixed(tbl text, changed text[], may_change text[]) RETURNS void
LANGUAGE plpgsql {pin} AS $$
DECLARE
    fixed text[] := ARRAY(SELECT c FROM unnest(changed) AS c WHERE c <> ALL (may_change));
BEGIN
    IF cardinality(fixed) > 0 THEN
        PERFORM {s}.regtui_refuse('fixed-after-insert'::text, format(
            '%s.%s cannot change once written', tbl, array_to_string(fixed, ', ')));
    END IF;
END $$;
"""

GUARDS = r"""
CREATE FUNCTION {s}.regtui_guard_version() RETURNS trigger
LANGUAGE plpgsql {pin} AS $$
DECLARE
    changed text[];
    held record;
    approver boolean;
BEGIN
    IF {s}.regtui_unchecked(TG_RELID) THEN
        RETURN NULL;
    END IF;
    approver := {s}.regtui_member('regtui_approver'::text);
    IF TG_OP = 'INSERT' THEN
        PERFORM {s}.regtui_check_actor(NEW.created_by::text);
        IF NEW.approval_status <> 'pending' OR NEW.approval_by IS NOT NULL
           OR NEW.approval_at IS NOT NULL OR NEW.approval_reason IS NOT NULL THEN
            PERFORM {s}.regtui_refuse('approval-by-review'::text,
                'a new version starts pending; decisions are made by approve or reject'::text);
        END IF;
        IF NEW.stored_path IS NOT NULL THEN
            PERFORM {s}.regtui_refuse('kept-copy'::text,
                'a new version has no kept copy; one is made when it reaches a protected stage'::text);
        END IF;
        IF NEW.number < 1 OR (NEW.number > 1 AND NOT EXISTS (
                SELECT 1 FROM {s}.version p
                 WHERE p.model_id = NEW.model_id AND p.number = NEW.number - 1)) THEN
            PERFORM {s}.regtui_refuse('gapless-numbers'::text, format(
                'version %s would leave a gap in its model''s numbers', NEW.number));
        END IF;
        RETURN NULL;
    END IF;
    changed := {s}.regtui_changed(to_jsonb(NEW), to_jsonb(OLD));
    PERFORM {s}.regtui_keep_fixed('version'::text, changed, ARRAY[
        'metrics', 'params', 'tags', 'datasets', 'logged', 'archived', 'artifact_state',
        'approval_status', 'approval_by', 'approval_at', 'approval_reason', 'stored_path']);
    IF changed && ARRAY['approval_status', 'approval_by', 'approval_at', 'approval_reason'] THEN
        PERFORM {s}.regtui_check_actor(NEW.approval_by::text);
        IF NOT 'approval_status' = ANY (changed) OR NEW.approval_at IS NULL THEN
            PERFORM {s}.regtui_refuse('approval-by-review'::text,
                'who decided, when and why change only with a new decision'::text);
        END IF;
        IF NEW.approval_status NOT IN ('approved', 'rejected') THEN
            PERFORM {s}.regtui_refuse('approval-by-review'::text, format(
                'a decision is approved or rejected, not %s', NEW.approval_status));
        END IF;
        IF NEW.approval_status = 'approved' THEN
            IF NOT approver THEN
                PERFORM {s}.regtui_refuse('approver-role'::text,
                    'approving needs membership in role regtui_approver'::text);
            END IF;
            IF NEW.damage IS NOT NULL THEN
                PERFORM {s}.regtui_refuse('artifact-damaged'::text, format(
                    'a damaged version cannot be approved (%s)', NEW.damage));
            END IF;
            IF NEW.approval_by = NEW.created_by
               AND coalesce(({s}.regtui_policy() ->> 'distinct_approver')::boolean, false) THEN
                PERFORM {s}.regtui_refuse('distinct-approver'::text, format(
                    '%s registered this version and cannot also approve it', NEW.created_by));
            END IF;
        END IF;
    END IF;
    IF 'stored_path' = ANY (changed) THEN
        IF NOT approver THEN
            PERFORM {s}.regtui_refuse('approver-role'::text,
                'keeping a copy comes with moving a protected stage: it needs membership in role regtui_approver'::text);
        END IF;
        IF NEW.stored_path IS NULL
           OR left(NEW.stored_path, 75) <> 'sha256/' || left(NEW.sha256, 2) || '/' || NEW.sha256 || '/'
           OR substr(NEW.stored_path, 76) !~ '^[^/\x01-\x1f]+$'
           OR substr(NEW.stored_path, 76) IN ('.', '..') THEN
            PERFORM {s}.regtui_refuse('kept-copy'::text,
                'a kept copy is recorded as sha256/<ab>/<the version''s sha256>/<name>'::text);
        END IF;
    END IF;
    IF changed && ARRAY['archived', 'approval_status'] THEN
        FOR held IN SELECT name, model_id FROM {s}.stage WHERE version_id = NEW.id LOOP
            PERFORM {s}.regtui_check_holder(held.name::text, held.model_id, NEW.id);
        END LOOP;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION {s}.regtui_guard_stage() RETURNS trigger
LANGUAGE plpgsql {pin} AS $$
BEGIN
    IF {s}.regtui_unchecked(TG_RELID) THEN
        RETURN NULL;
    END IF;
    PERFORM {s}.regtui_check_actor(NEW.updated_by::text);
    IF TG_OP = 'UPDATE' THEN
        PERFORM {s}.regtui_keep_fixed('stage'::text,
            {s}.regtui_changed(to_jsonb(NEW), to_jsonb(OLD)),
            ARRAY['version_id', 'revision', 'updated_at', 'updated_by']);
    END IF;
    IF NEW.revision <> (CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE OLD.revision + 1 END) THEN
        PERFORM {s}.regtui_refuse('stage-revision'::text,
            'every move of a stage adds one to its revision'::text);
    END IF;
    IF {s}.regtui_protected(NEW.name::text)
       AND NOT {s}.regtui_member('regtui_approver'::text) THEN
        PERFORM {s}.regtui_refuse('approver-role'::text, format(
            'moving protected stage %s needs membership in role regtui_approver', NEW.name));
    END IF;
    IF NEW.version_id IS NOT NULL THEN
        PERFORM {s}.regtui_check_holder(NEW.name::text, NEW.model_id, NEW.version_id);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION {s}.regtui_guard_stage_move() RETURNS trigger
LANGUAGE plpgsql {pin} AS $$
BEGIN
    IF {s}.regtui_unchecked(TG_RELID) THEN
        RETURN NULL;
    END IF;
    PERFORM {s}.regtui_check_actor(NEW."by"::text);
    IF {s}.regtui_protected(NEW.stage::text)
       AND NOT {s}.regtui_member('regtui_approver'::text) THEN
        PERFORM {s}.regtui_refuse('approver-role'::text, format(
            'moving protected stage %s needs membership in role regtui_approver', NEW.stage));
    END IF;
    IF NEW.action NOT IN ('promote', 'rollback', 'demote') OR NOT EXISTS (
            SELECT 1 FROM {s}.stage s
             WHERE s.model_id = NEW.model_id AND s.name = NEW.stage
               AND s.version_id IS NOT DISTINCT FROM NEW.to_version_id
               AND s.updated_by = NEW."by" AND s.updated_at = NEW."at") THEN
        PERFORM {s}.regtui_refuse('history-is-true'::text,
            'a stage move is recorded together with the move itself'::text);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION {s}.regtui_guard_approval() RETURNS trigger
LANGUAGE plpgsql {pin} AS $$
BEGIN
    IF {s}.regtui_unchecked(TG_RELID) THEN
        RETURN NULL;
    END IF;
    PERFORM {s}.regtui_check_actor(NEW."by"::text);
    IF NOT EXISTS (
            SELECT 1 FROM {s}.version v
             WHERE v.id = NEW.version_id AND v.approval_status = NEW.status
               AND v.approval_by = NEW."by" AND v.approval_at = NEW."at"
               AND v.approval_reason IS NOT DISTINCT FROM NEW.reason) THEN
        PERFORM {s}.regtui_refuse('history-is-true'::text,
            'a decision is recorded together with the decision on the version itself'::text);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION {s}.regtui_guard_audit() RETURNS trigger
LANGUAGE plpgsql {pin} AS $$
BEGIN
    IF {s}.regtui_unchecked(TG_RELID) THEN
        RETURN NULL;
    END IF;
    PERFORM {s}.regtui_check_actor(NEW.actor::text);
    IF (CASE WHEN NEW.seq = 1 THEN NEW.prev_hash <> repeat('0', 64)
             ELSE NOT EXISTS (SELECT 1 FROM {s}.audit_event e
                               WHERE e.seq = NEW.seq - 1 AND e.hash = NEW.prev_hash) END)
       OR EXISTS (SELECT 1 FROM {s}.audit_event e WHERE e.seq > NEW.seq) THEN
        PERFORM {s}.regtui_refuse('audit-chain'::text, format(
            'event %s must follow the newest event and link to its hash', NEW.seq));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION {s}.regtui_guard_setting() RETURNS trigger
LANGUAGE plpgsql {pin} AS $$
DECLARE
    v jsonb := NEW.value::jsonb;
    held record;
BEGIN
    IF {s}.regtui_unchecked(TG_RELID) THEN
        RETURN NULL;
    END IF;
    IF NOT {s}.regtui_member('regtui_admin'::text) THEN
        PERFORM {s}.regtui_refuse('admin-role'::text, format(
            'changing the catalog''s %s setting needs membership in role regtui_admin', NEW.key));
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.key <> OLD.key THEN
        PERFORM {s}.regtui_refuse('fixed-after-insert'::text, 'setting.key cannot change'::text);
    END IF;
    IF NEW.key = 'policy' THEN
        IF jsonb_typeof(v) <> 'object'
           OR (v ? 'protected_stages' AND (jsonb_typeof(v -> 'protected_stages') <> 'array'
               OR EXISTS (SELECT 1 FROM jsonb_array_elements(v -> 'protected_stages') e
                           WHERE jsonb_typeof(e) <> 'string')))
           OR (v ? 'distinct_approver' AND jsonb_typeof(v -> 'distinct_approver') <> 'boolean') THEN
            PERFORM {s}.regtui_refuse('policy-shape'::text,
                'the policy is {{"protected_stages": [names], "distinct_approver": true|false}}'::text);
        END IF;
        FOR held IN SELECT name, model_id, version_id FROM {s}.stage
                     WHERE version_id IS NOT NULL ORDER BY model_id, name LOOP
            PERFORM {s}.regtui_check_holder(held.name::text, held.model_id, held.version_id);
        END LOOP;
    ELSIF NEW.key = 'store' THEN
        IF jsonb_typeof(v) <> 'object' OR jsonb_typeof(v -> 'location') <> 'string'
           OR left(v ->> 'location', 1) <> '/' THEN
            PERFORM {s}.regtui_refuse('store-shape'::text,
                'the store setting is {{"location": "/an/absolute/folder"}}'::text);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION {s}.regtui_guard_created_by() RETURNS trigger
LANGUAGE plpgsql {pin} AS $$
-- Rows that record who made them (model, watch_root): that column is the session's
-- role, and only the columns named in TG_ARGV ever change.
BEGIN
    IF {s}.regtui_unchecked(TG_RELID) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM {s}.regtui_check_actor(NEW.created_by::text);
    ELSE
        PERFORM {s}.regtui_keep_fixed(TG_TABLE_NAME::text,
            {s}.regtui_changed(to_jsonb(NEW), to_jsonb(OLD)), TG_ARGV::text[]);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION {s}.regtui_guard_index() RETURNS trigger
LANGUAGE plpgsql {pin} AS $$
-- version_metric / version_tag repeat version.metrics / version.tags for filters:
-- a row says what its version says, or a filter would find what is not there.
DECLARE
    held jsonb;
BEGIN
    IF {s}.regtui_unchecked(TG_RELID) THEN
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME = 'version_metric' THEN
        SELECT v.metrics::jsonb -> NEW.name::text INTO held FROM {s}.version v
         WHERE v.id = NEW.version_id;
        IF held IS NOT NULL AND jsonb_typeof(held) = 'number' AND held::float8 = NEW.value THEN
            RETURN NULL;
        END IF;
    ELSE
        SELECT v.tags::jsonb -> NEW.key::text INTO held FROM {s}.version v
         WHERE v.id = NEW.version_id;
        IF held IS NOT NULL AND held #>> '{{}}' = NEW.value::text THEN
            RETURN NULL;
        END IF;
    END IF;
    PERFORM {s}.regtui_refuse('index-is-true'::text, format(
        '%s rows repeat what their version holds', TG_TABLE_NAME));
    RETURN NULL;
END $$;

CREATE FUNCTION {s}.regtui_refuse_change() RETURNS trigger
LANGUAGE plpgsql {pin} AS $$
-- TG_ARGV[0]: the rule; refuses the statement or row for everyone but the trusted.
BEGIN
    IF NOT {s}.regtui_trusted(TG_RELID) THEN
        PERFORM {s}.regtui_refuse(TG_ARGV[0]::text, format(
            '%s on %s is not allowed: %s', TG_OP, TG_TABLE_NAME, TG_ARGV[1]));
    END IF;
    RETURN NULL;
END $$;
"""

# (table, trigger name suffix, when, function call)
TRIGGERS: list[tuple[str, str, str, str]] = [
    ("version", "guard", "AFTER INSERT OR UPDATE", "regtui_guard_version()"),
    ("stage", "guard", "AFTER INSERT OR UPDATE", "regtui_guard_stage()"),
    ("stage_move", "guard", "AFTER INSERT", "regtui_guard_stage_move()"),
    ("approval", "guard", "AFTER INSERT", "regtui_guard_approval()"),
    ("audit_event", "guard", "AFTER INSERT", "regtui_guard_audit()"),
    ("setting", "guard", "AFTER INSERT OR UPDATE", "regtui_guard_setting()"),
    (
        "model",
        "guard",
        "AFTER INSERT OR UPDATE",
        "regtui_guard_created_by('description', 'tags')",
    ),
    ("version_metric", "guard", "AFTER INSERT OR UPDATE", "regtui_guard_index()"),
    ("version_tag", "guard", "AFTER INSERT OR UPDATE", "regtui_guard_index()"),
    (
        "watch_root",
        "guard",
        "AFTER INSERT OR UPDATE",
        "regtui_guard_created_by('model', 'settle_seconds')",
    ),
]
APPEND_ONLY = ("audit_event", "approval", "stage_move")
NO_DELETE = ("version", "stage", "model", "setting")
ALL_TABLES = (
    "version", "stage", "stage_move", "approval", "audit_event", "setting", "model",
    "watch_root", "version_metric", "version_tag", "version_dataset", "alembic_version",
)  # fmt: skip
FUNCTIONS = (
    "regtui_guard_version()", "regtui_guard_stage()", "regtui_guard_stage_move()",
    "regtui_guard_approval()", "regtui_guard_audit()", "regtui_guard_setting()",
    "regtui_guard_created_by()", "regtui_guard_index()", "regtui_refuse_change()",
    "regtui_check_holder(text, integer, integer)", "regtui_protected(text)", "regtui_policy()",
    "regtui_unchecked(oid)", "regtui_check_actor(text)", "regtui_refuse(text, text)",
    "regtui_member(text)", "regtui_trusted(oid)", "regtui_changed(jsonb, jsonb)",
    "regtui_keep_fixed(text, text[], text[])",
)  # fmt: skip


def _refusals() -> list[tuple[str, str, str, str]]:
    """Row and statement triggers that refuse a change outright."""
    out = []
    for t in APPEND_ONLY:
        why = "its rows are history, append-only"
        out.append((t, "append_only", "AFTER UPDATE OR DELETE", f"'append-only', '{why}'"))
    for t in NO_DELETE:
        out.append((t, "no_delete", "AFTER DELETE", "'no-delete', 'regtui never deletes these'"))
    out.append(
        (
            "alembic_version",
            "owner_only",
            "AFTER INSERT OR UPDATE OR DELETE",
            "'schema-owner', 'only the catalog owner migrates it'",
        )
    )
    for t in ALL_TABLES:
        out.append((t, "no_truncate", "BEFORE TRUNCATE", "'no-delete', 'regtui never truncates'"))
    return out


def _sql_names(names: tuple[str, ...]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _schema() -> str:
    return str(op.get_bind().execute(sa.text("SELECT quote_ident(current_schema())")).scalar_one())


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    s = _schema()
    op.execute(_DROP_0003.format(s=s))
    fmt = {"s": s, "pin": PIN, "lock": PG_WRITE_LOCK_KEY, "tables": _sql_names(ALL_TABLES)}
    op.execute(HELPERS.format(**fmt))
    op.execute(GUARDS.format(**fmt))
    for table, name, when, call in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER regtui_{name} {when} ON {s}.{table} "
            f"FOR EACH ROW EXECUTE FUNCTION {s}.{call}"
        )
    for table, name, when, args in _refusals():
        each = "STATEMENT" if "TRUNCATE" in when else "ROW"
        op.execute(
            f"CREATE TRIGGER regtui_{name} {when} ON {s}.{table} "
            f"FOR EACH {each} EXECUTE FUNCTION {s}.regtui_refuse_change({args})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    s = _schema()
    for table, name, _, _ in [*TRIGGERS, *_refusals()]:
        op.execute(f"DROP TRIGGER IF EXISTS regtui_{name} ON {s}.{table}")
    op.execute(f"DROP FUNCTION IF EXISTS {', '.join(f'{s}.{f}' for f in FUNCTIONS)}")
    team_mode = importlib.import_module("regtui.migrations.versions.0003_team_mode")
    op.execute(team_mode.FUNCTIONS)


# 0003's triggers and functions, replaced by the ones above.
_DROP_0003 = r"""
DROP TRIGGER IF EXISTS regtui_guard_version ON {s}.version;
DROP TRIGGER IF EXISTS regtui_guard_stage ON {s}.stage;
DROP TRIGGER IF EXISTS regtui_guard_audit_actor ON {s}.audit_event;
DROP TRIGGER IF EXISTS regtui_guard_move_actor ON {s}.stage_move;
DROP TRIGGER IF EXISTS regtui_guard_approval_actor ON {s}.approval;
DROP TRIGGER IF EXISTS regtui_audit_append_only ON {s}.audit_event;
DROP FUNCTION IF EXISTS {s}.regtui_guard_version(), {s}.regtui_guard_stage(),
    {s}.regtui_guard_actor_column(), {s}.regtui_append_only(), {s}.regtui_check_actor(text),
    {s}.regtui_is_approver(), {s}.regtui_trusted();
"""
