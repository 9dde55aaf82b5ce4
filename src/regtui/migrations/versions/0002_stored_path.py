"""versions remember their copy in the content-addressed store

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("version") as batch:
        batch.add_column(sa.Column("stored_path", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("version") as batch:
        batch.drop_column("stored_path")
