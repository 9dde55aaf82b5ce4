"""the store setting may name an S3 bucket

Revision ID: 0009
Revises: 0008

- PostgreSQL: 0006's setting guard accepted only `{"location": "/an/absolute/folder"}`
  as the store; a store may now also be `s3://bucket[/prefix]` (no credentials in it:
  no `@`, no `?` or `#`). Its function is replaced by the same text with that allowed.
  SQLite has no guards: nothing changes there.
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_0006 = importlib.import_module("regtui.migrations.versions.0006_team_enforcement")
_FOLDER_ONLY = "OR left(v ->> 'location', 1) <> '/' THEN"
_FOLDER_OR_BUCKET = (
    "OR (left(v ->> 'location', 1) <> '/'\n"
    "               AND (v ->> 'location') !~ '^s3://[a-z0-9][a-z0-9.-]{{1,61}}[a-z0-9](/[^@?#]*)?$') THEN"
)
_SAID = '\'the store setting is {{"location": "/an/absolute/folder"}}\''
_SAID_NOW = '\'the store setting is {{"location": "/an/absolute/folder" or "s3://bucket/prefix"}}\''


def _setting_guard(buckets: bool) -> str:
    """0006's regtui_guard_setting, as CREATE OR REPLACE, with or without buckets."""
    start = _0006.GUARDS.index("CREATE FUNCTION {s}.regtui_guard_setting()")
    end = _0006.GUARDS.index("CREATE FUNCTION {s}.regtui_guard_created_by()")
    body = _0006.GUARDS[start:end]
    if body.count(_FOLDER_ONLY) != 1 or body.count(_SAID) != 1:
        raise RuntimeError("0006's setting guard is not the text this migration edits")
    if buckets:
        body = body.replace(_FOLDER_ONLY, _FOLDER_OR_BUCKET).replace(_SAID, _SAID_NOW)
    fmt = {
        "s": _0006._schema(),
        "pin": _0006.PIN,
        "lock": _0006.PG_WRITE_LOCK_KEY,
        "tables": _0006._sql_names(_0006.ALL_TABLES),
    }
    return body.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1).format(**fmt)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_setting_guard(buckets=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_setting_guard(buckets=False))
