"""index tables for metrics and tags, so filters on 100k versions stay fast

Revision ID: 0004
Revises: 0003

`version.metrics` and `version.tags` stay the record; these tables repeat
them as rows with (name, value) indexes, which a filter such as
`metrics.auc > 0.9 and tags.team = 'growth'` can use instead of reading the
JSON of every version.
"""

from __future__ import annotations

import json
import math

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "version_metric",
        sa.Column("version_id", sa.Integer(), sa.ForeignKey("version.id"), primary_key=True),
        sa.Column("name", sa.String(), primary_key=True, nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
    )
    # Covering: a filter reads (name, value) -> version_id from the index alone.
    op.create_index(
        "ix_version_metric_name_value", "version_metric", ["name", "value", "version_id"]
    )
    op.create_table(
        "version_tag",
        sa.Column("version_id", sa.Integer(), sa.ForeignKey("version.id"), primary_key=True),
        sa.Column("key", sa.String(), primary_key=True, nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_index("ix_version_tag_key_value", "version_tag", ["key", "value", "version_id"])
    _backfill()


def _backfill() -> None:
    conn = op.get_bind()
    metrics, tags = [], []
    for vid, m, t in conn.execute(sa.text("SELECT id, metrics, tags FROM version")):
        m = json.loads(m) if isinstance(m, str) else (m or {})
        t = json.loads(t) if isinstance(t, str) else (t or {})
        metrics += [
            {"v": vid, "n": k, "x": float(x)}
            for k, x in m.items()
            if isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
        ]
        tags += [{"v": vid, "k": k, "x": str(x)} for k, x in t.items()]
    if metrics:
        conn.execute(sa.text("INSERT INTO version_metric VALUES (:v, :n, :x)"), metrics)
    if tags:
        conn.execute(sa.text("INSERT INTO version_tag VALUES (:v, :k, :x)"), tags)


def downgrade() -> None:
    op.drop_table("version_tag")
    op.drop_table("version_metric")
