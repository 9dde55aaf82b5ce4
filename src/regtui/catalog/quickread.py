"""Read-only answers for short CLI commands, straight from SQLite's stdlib driver.

`regtui models`, `versions`, `show` and `resolve` would spend over a second
importing SQLAlchemy and SQLModel for queries that take milliseconds. When the
catalog is an existing SQLite file at this regtui's schema, these commands read
it here instead. Everything else returns None and the command takes the full
path through `Catalog`: a URL, a missing or older catalog, a name or version
that is not there (so error messages have one source), any database error.
`tests/unit/test_quickread.py` holds both paths to the same records.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Iterator
from contextlib import contextmanager

from regtui.catalog import reads
from regtui.catalog.records import ModelInfo, Policy, StageMove, VersionInfo, collector_paused
from regtui.catalog.refs import Ref
from regtui.catalog.store import StoreLocation
from regtui.migrations import HEAD_REVISION

BUSY_TIMEOUT_MS = 5000


class NotHere(Exception):
    """What was asked for is not in the catalog: the full path will say so."""


class QuickReader:
    """A read-only view of a local catalog over one sqlite3 connection."""

    def __init__(self, con: sqlite3.Connection, url: str) -> None:
        self.con = con
        self.url = url  # as Catalog.url names this file: the default store derives from it

    @classmethod
    def open(cls, target: str | None) -> QuickReader | None:
        """A reader for `target` (--db, else REGTUI_DB, else the default file),
        or None when this path cannot answer for it."""
        from regtui.errors import RegtuiError
        from regtui.settings import locate, sqlite_uri

        try:
            where = locate(target)
        except RegtuiError:
            return None  # the full path says what is wrong with it
        if where.given_as_url or where.file is None or not where.file.is_file():
            return None
        try:
            # mode=rw: never create a file; the full path owns creating catalogs.
            con = sqlite3.connect(
                sqlite_uri(where.file.resolve(), "rw"), uri=True, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
        except sqlite3.Error:
            return None
        try:
            con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error:
            row = None
        if row is None or row[0] != HEAD_REVISION:
            con.close()
            return None
        return cls(con, where.url)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> QuickReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """One read transaction, so several queries see one state of the catalog."""
        self.con.execute("BEGIN")
        try:
            yield self.con
        finally:
            self.con.execute("COMMIT")

    @staticmethod
    def _run(con: sqlite3.Connection) -> reads.Run:
        return lambda sql, params: con.execute(sql, params).fetchall()

    def _model_id(self, run: reads.Run, name: str) -> int:
        mid = reads.model_id(run, name)
        if mid is None:
            raise NotHere(name)
        return mid

    def models(self) -> list[ModelInfo]:
        """As Catalog.models()."""
        with self._snapshot() as con:
            return reads.models(self._run(con))

    def versions(
        self,
        model: str | None,
        *,
        order_by: str | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[VersionInfo]:
        """As Catalog.versions(model, order_by=, desc=, limit=): one model's
        versions, or every model's (`model` None), in ordering.order_terms' order."""
        with self._snapshot() as con:
            run = self._run(con)
            mid = None if model is None else self._model_id(run, model)
            with collector_paused():
                return reads.versions(run, mid, order_by=order_by, desc=desc, limit=limit)

    def versions_json(
        self,
        model: str | None,
        *,
        order_by: str | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Generator[str, None, None]:
        """`versions_json_text(self.versions(...))` in pieces, the rows' text built
        by SQLite (version_json_sql) and written as they are fetched. A model that
        is not there raises NotHere here, before any piece."""
        self.con.execute("BEGIN")
        try:
            run = self._run(self.con)
            mid = None if model is None else self._model_id(run, model)
        except BaseException:
            self.con.execute("COMMIT")
            raise
        return self._json_pieces(run, mid, order_by, desc, limit)

    def _json_pieces(
        self, run: reads.Run, mid: int | None, order_by: str | None, desc: bool, limit: int | None
    ) -> Generator[str, None, None]:
        from regtui.catalog.version_json import ascii_json
        from regtui.catalog.version_json_sql import SELECT_JSON
        from regtui.text import json_text

        try:
            held = reads.stages_held(run, mid) if mid is not None else reads.all_stages_held(run)
            rows = reads.version_rows(
                run,
                SELECT_JSON,
                mid,
                order_by=order_by,
                desc=desc,
                limit=limit,
                stream=lambda sql, params: self.con.execute(sql, params),
            )
            sep = "[\n"
            for vid, before, after in rows:
                if before is None or after is None:  # a value only Python renders alike
                    text = ascii_json(reads.version(run, vid).to_json_text())
                else:
                    text = ascii_json(before + json_text(held.get(vid, [])) + after)
                yield sep + text
                sep = ",\n"
            yield ("[\n" if sep == "[\n" else "") + "\n]"
        finally:
            self.con.execute("COMMIT")

    def get(self, ref: Ref) -> VersionInfo:
        """As Catalog.get(ref): MODEL:N, MODEL@STAGE or MODEL (latest unarchived)."""
        with self._snapshot() as con:
            run = self._run(con)
            vid = reads.version_id(run, self._model_id(run, ref.model), ref)
            if vid is None:
                raise NotHere(str(ref))
            return reads.version(run, vid)

    def store_location(self) -> StoreLocation:
        """As Catalog.store_location(): the "store" setting, else the default."""
        return reads.store_location(self._run(self.con), self.url)

    def policy(self) -> Policy:
        """As Catalog.policy()."""
        return reads.policy(self._run(self.con))

    def stage_history(self, model: str) -> list[StageMove]:
        """As Catalog.stage_history(model): every stage move, oldest first."""
        with self._snapshot() as con:
            run = self._run(con)
            return reads.stage_moves(run, self._model_id(run, model), model)
