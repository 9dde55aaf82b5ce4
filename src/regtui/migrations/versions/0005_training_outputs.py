"""versions say whether their artifact is damaged, which data made them, and
which metrics or params were attached after registration

Revision ID: 0005
Revises: 0004

- `version.damage`: why the artifact's own format shows it incomplete or lying
  (truncated data, a header claiming more than the file holds, a Git LFS
  pointer); NULL for a sound artifact. Such a version can never be approved or
  reach a protected stage.
- `version.datasets`: the training and evaluation datasets, each with its
  identity (content hash, or URI with version/etag).
- `version.logged`: `{"metrics.auc": "2026-…Z", …}` for values added or changed
  after the version was registered (`regtui log`, a late sidecar).
- `version_dataset`: each dataset identity as an indexed row, for the filter
  `dataset = '…'` (as version_metric/version_tag do for metrics and tags).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(JSONB(), "postgresql")
    with op.batch_alter_table("version") as batch:
        batch.add_column(sa.Column("damage", sa.Text(), nullable=True))
        batch.add_column(sa.Column("datasets", json_type, nullable=True))
        batch.add_column(sa.Column("logged", json_type, nullable=True))
    op.create_table(
        "version_dataset",
        sa.Column("version_id", sa.Integer(), sa.ForeignKey("version.id"), primary_key=True),
        sa.Column("ident", sa.Text(), primary_key=True, nullable=False),
    )
    op.create_index("ix_version_dataset_ident", "version_dataset", ["ident", "version_id"])


def downgrade() -> None:
    op.drop_table("version_dataset")
    with op.batch_alter_table("version") as batch:
        batch.drop_column("logged")
        batch.drop_column("datasets")
        batch.drop_column("damage")
