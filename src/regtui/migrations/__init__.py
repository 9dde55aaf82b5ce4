"""Alembic migrations of the catalog schema, run in code by regtui.catalog.migrate."""
