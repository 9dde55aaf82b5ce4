"""Alembic environment: regtui always hands in an open connection (see catalog.migrate)."""

from __future__ import annotations

from alembic import context

from regtui.catalog.schema import SQLModel

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
context.run_migrations()
