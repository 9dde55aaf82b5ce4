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

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from regtui.catalog import store
from regtui.catalog.records import (
    ModelInfo,
    Policy,
    StageMove,
    VersionInfo,
    _utc,
    collector_paused,
)
from regtui.catalog.refs import Ref
from regtui.catalog.store import StoreLocation
from regtui.migrations import HEAD_REVISION

# The `version` table's columns in schema order (VersionInfo reads them by
# position); named, because `version.*` follows the file's history of ALTERs.
VERSION_COLUMNS = (
    "id", "model_id", "number", "path", "sha256", "size_bytes", "format", "framework",
    "metrics", "params", "tags", "meta", "lineage", "warnings", "created_at", "created_by",
    "approval_status", "approval_by", "approval_at", "approval_reason", "archived",
    "artifact_state", "stored_path", "damage", "datasets", "logged",
)  # fmt: skip
_SELECT_VERSIONS = (
    "SELECT " + ", ".join(f"version.{c}" for c in VERSION_COLUMNS) + ", model.name "
    "FROM version JOIN model ON model.id = version.model_id "
)
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
        from regtui.settings import default_db_path, is_url, sqlite_url

        if target is None:
            target = os.environ.get("REGTUI_DB") or None
        path = default_db_path() if target is None else Path(target).expanduser()
        if is_url(str(path)) or not path.is_file():
            return None
        from urllib.parse import quote

        try:
            # mode=rw: never create a file; the full path owns creating catalogs.
            con = sqlite3.connect(
                f"file:{quote(str(path.resolve()))}?mode=rw", uri=True, isolation_level=None,
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
        return cls(con, sqlite_url(path.resolve()))

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

    def _model_id(self, con: sqlite3.Connection, name: str) -> int:
        row = con.execute("SELECT id FROM model WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotHere(name)
        return int(row[0])

    def models(self) -> list[ModelInfo]:
        """As Catalog.models(): counts are the top numbers (they run 1..n)."""
        import json

        with self._snapshot() as con:
            rows = con.execute(
                "SELECT id, name, description, tags, created_at, created_by, "
                "(SELECT max(number) FROM version WHERE version.model_id = model.id) "
                "FROM model ORDER BY name"
            ).fetchall()
            stages: dict[int, dict[str, int | None]] = {}
            for mid, name, number in con.execute(
                "SELECT stage.model_id, stage.name, version.number FROM stage "
                "LEFT OUTER JOIN version ON version.id = stage.version_id ORDER BY stage.name"
            ):
                stages.setdefault(mid, {})[name] = number
        return [
            ModelInfo(
                id=mid,
                name=name,
                description=description,
                tags=(json.loads(tags) if tags else None) or {},
                versions=latest or 0,
                stages=stages.get(mid, {}),
                created_at=_utc(created_at),
                created_by=created_by,
                latest=latest,
            )
            for mid, name, description, tags, created_at, created_by, latest in rows
        ]

    def versions(self, model: str) -> list[VersionInfo]:
        """As Catalog.versions(model): all of one model's versions, oldest first."""
        with self._snapshot() as con:
            mid = self._model_id(con, model)
            with collector_paused():
                rows = con.execute(
                    _SELECT_VERSIONS + "WHERE version.model_id = ? ORDER BY version.number",
                    (mid,),
                ).fetchall()
                return self._with_stages(con, mid, rows)

    def get(self, ref: Ref) -> VersionInfo:
        """As Catalog.get(ref): MODEL:N, MODEL@STAGE or MODEL (latest unarchived)."""
        with self._snapshot() as con:
            mid = self._model_id(con, ref.model)
            if ref.version is not None:
                where, args = "version.number = ?", (ref.version,)
            elif ref.stage is not None:
                where = (
                    "version.id = (SELECT version_id FROM stage WHERE model_id = ? AND name = ?)"
                )
                args = (mid, ref.stage)
            else:
                where = (
                    "version.id = (SELECT id FROM version WHERE model_id = ? AND NOT archived "
                    "ORDER BY number DESC LIMIT 1)"
                )
                args = (mid,)
            rows = con.execute(
                _SELECT_VERSIONS + f"WHERE version.model_id = ? AND {where}", (mid, *args)
            ).fetchall()
            if not rows:
                raise NotHere(str(ref))
            return self._with_stages(con, mid, rows)[0]

    def store_location(self) -> StoreLocation:
        """As Catalog.store_location(): the "store" setting, else the default."""
        import json

        row = self.con.execute(
            "SELECT value FROM setting WHERE key = ?", (store.SETTING_KEY,)
        ).fetchone()
        return store.location_for(self.url, json.loads(row[0]) if row and row[0] else None)

    def policy(self) -> Policy:
        """As Catalog.policy()."""
        import json

        from regtui.catalog.stage_rules import bad_policy, policy_from_json

        row = self.con.execute("SELECT value FROM setting WHERE key = 'policy'").fetchone()
        try:
            return policy_from_json(json.loads(row[0]) if row and row[0] else None)
        except ValueError:
            raise bad_policy() from None

    def stage_history(self, model: str) -> list[StageMove]:
        """As Catalog.stage_history(model): every stage move, oldest first."""
        with self._snapshot() as con:
            mid = self._model_id(con, model)
            rows = con.execute(
                "SELECT m.stage, vf.number, vt.number, m.action, m.at, m.by, m.reason "
                "FROM stage_move AS m "
                "LEFT OUTER JOIN version AS vf ON vf.id = m.from_version_id "
                "LEFT OUTER JOIN version AS vt ON vt.id = m.to_version_id "
                "WHERE m.model_id = ? ORDER BY m.id",
                (mid,),
            ).fetchall()
        return [
            StageMove(model, stage, from_n, to_n, action, _utc(at), by, reason)
            for stage, from_n, to_n, action, at, by, reason in rows
        ]

    @staticmethod
    def _with_stages(con: sqlite3.Connection, mid: int, rows: list[Any]) -> list[VersionInfo]:
        held: dict[int, list[str]] = {}
        for vid, name in con.execute(
            "SELECT version_id, name FROM stage WHERE model_id = ? AND version_id IS NOT NULL "
            "ORDER BY name",
            (mid,),
        ):
            held.setdefault(vid, []).append(name)
        return [VersionInfo.from_db(r, r[-1], tuple(held.get(r[0], ()))) for r in rows]
