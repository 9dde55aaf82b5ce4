"""Alembic migrations of the catalog schema, run in code by regtui.catalog.migrate."""

# The newest revision in versions/ (a test keeps them equal). Kept here, free of
# SQLAlchemy, so the CLI's quick read path can check a catalog's schema cheaply.
HEAD_REVISION = "0010"
