"""How a command reaches the catalog: the full `Catalog`, or the stdlib-sqlite3
reader (catalog.quickread) that answers reads without importing SQLAlchemy."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from regtui.catalog.quickread import QuickReader
    from regtui.catalog.service import Catalog

T = TypeVar("T")


def open_catalog(args: argparse.Namespace, read_only: bool = False) -> Catalog:
    """The catalog `--db` names; read-only when asked, or when it is an SQLite file
    this process may not write (reads then work, and a change is a catalog error)."""
    from regtui import settings
    from regtui.catalog.service import Catalog

    db = getattr(args, "db", None)
    read_only = read_only or settings.sqlite_is_read_only(db)
    return Catalog(db, user=getattr(args, "user", None), read_only=read_only)


def read_quickly(args: argparse.Namespace, fn: Callable[[QuickReader], T]) -> T | None:
    """`fn` over the stdlib-sqlite3 reader, or None when that path cannot answer
    and the command must open the full Catalog."""
    import sqlite3

    from regtui.catalog.quickread import NotHere, QuickReader

    reader = QuickReader.open(getattr(args, "db", None))
    if reader is None:
        return None
    try:
        with reader:
            return fn(reader)
    except (NotHere, sqlite3.Error):
        return None
