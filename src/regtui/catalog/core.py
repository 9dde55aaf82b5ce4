"""What every catalog operation stands on: the engine, who acts, the dialect's
prepared SQL, and the small reads and writes they all share (a model's id, a
version by id or reference, an audit event, the policy and store settings).

`Catalog` (catalog.service) holds one `Core`; the modules beside it
(new_versions, queries, review, stages, edits, ...) are functions taking it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Dialect, Text, insert, select, text, type_coerce, update

from regtui.catalog import audit, clock, reads, store
from regtui.catalog.db import DriverSQL, MultiRowInsert, make_engine, read_txn
from regtui.catalog.json_columns import json_undecoded
from regtui.catalog.migrate import ensure_schema
from regtui.catalog.records import Policy, VersionInfo
from regtui.catalog.refs import Ref
from regtui.catalog.schema import ModelRow, SettingRow, StageRow, VersionRow
from regtui.catalog.version_fields import COLUMNS, INSERT_COLUMNS, JSON_COLUMNS, RAW_COLUMNS
from regtui.errors import CatalogError, NotFound, UsageError
from regtui.path_problems import folder_problem
from regtui.settings import current_user, locate

M = ModelRow.__table__
V = VersionRow.__table__
S = StageRow.__table__
ST = SettingRow.__table__

# The version record's columns (version_fields.COLUMNS, in that order) and the
# model's name, as reads.SELECT_VERSIONS selects them: JSON and timestamp
# columns handed over undecoded, for VersionInfo.from_db to decode on use.
VERSION_COLUMNS = [
    json_undecoded(V.c[c]).label(c)
    if c in JSON_COLUMNS
    else (type_coerce(V.c[c], Text) if c in RAW_COLUMNS else V.c[c])
    for c in COLUMNS
] + [M.c.name.label("model_name")]

_IN_CHUNK = 256  # sha256 values per IN list when looking up bytes already held


def _check_catalog_path(file: Path, read_only: bool) -> None:
    """Refuse, naming the path, a catalog file SQLite could only call "unable to
    open database file": its folder missing, or no catalog where one must be read."""
    if file.exists():
        if not os.access(file, os.R_OK):
            raise CatalogError(f"cannot read the catalog {file}: permission denied")
        return
    if read_only:
        raise CatalogError(
            f"cannot open the catalog {file}: no such file (read-only: none is made)"
        )
    problem = folder_problem(file)
    if problem is None and not os.access(file.parent, os.W_OK):
        problem = f"its folder {file.parent} is not writable"
    if problem is not None:
        raise CatalogError(f"cannot create the catalog {file}: {problem}")


class Core:
    """One open catalog: its engine, the actor, and the shared steps of its operations."""

    def __init__(
        self,
        db: str | os.PathLike[str] | None = None,
        *,
        user: str | None = None,
        read_only: bool = False,
    ) -> None:
        where = locate(db)
        if where.default and where.file is not None and not read_only:
            where.file.parent.mkdir(parents=True, exist_ok=True)  # the data dir, made on first use
        if where.file is not None:
            _check_catalog_path(where.file, read_only)
        self.url = where.url
        self.read_only = read_only
        self.engine = make_engine(self.url, read_only=read_only)
        ensure_schema(
            self.engine, read_only=read_only, name=str(where.file) if where.file else None
        )
        self.dialect = self.engine.dialect.name
        self.actor = (
            self._session_role(user) if self.dialect == "postgresql" else current_user(user)
        )
        self.sql = VersionSQL(self.engine.dialect)
        self._model_ids: dict[str, int] = {}
        self._reads: dict[str, DriverSQL] = {}  # reads' statements, prepared once each

    def _session_role(self, claimed: str | None) -> str:
        """On PostgreSQL the actor is the database role the session logged in as:
        the server vouches for it, and its triggers refuse any other name."""
        with read_txn(self.engine) as conn:
            role = conn.execute(text("SELECT current_user")).scalar_one()
        if claimed and claimed != role:
            raise UsageError(
                f"on a PostgreSQL catalog you act as your database role {role!r}; "
                f"--user {claimed!r} cannot change that (connect as that role instead)"
            )
        return str(role)

    def writable(self) -> None:
        if self.read_only:
            raise CatalogError("catalog is open read-only")

    def run(self, conn: Connection) -> reads.Run:
        """How the shared reads (catalog.reads) run here: on the driver, inside
        `conn`'s transaction; QuickReader runs the same SQL through sqlite3."""
        prepared = self._reads

        def run(sql: str, params: Any) -> list[Any]:
            stmt = prepared.get(sql)
            if stmt is None:
                stmt = prepared[sql] = DriverSQL(self.engine.dialect, sql)
            return stmt.all(conn, params)

        return run

    # -------------------------------------------------------------- settings

    def policy(self, conn: Connection) -> Policy:
        return reads.policy(self.run(conn))

    def store_location(self, conn: Connection) -> store.StoreLocation:
        return reads.store_location(self.run(conn), self.url)

    @staticmethod
    def write_setting(conn: Connection, key: str, value: Any) -> None:
        """Set a catalog-wide setting, in the transaction of the change it is part of."""
        if conn.execute(select(ST.c.key).where(ST.c.key == key)).first():
            conn.execute(update(ST).where(ST.c.key == key).values(value=value))
        else:
            conn.execute(insert(ST).values(key=key, value=value))

    # ---------------------------------------------------------- models, refs

    def top_number(self, conn: Connection, mid: int) -> int:
        """The model's highest version number, 0 if none. Numbers run 1..n without
        gaps, so this is also its count (an index seek, not a count)."""
        row = self.sql.top_number.first(conn, {"mid": mid})
        return (row[0] if row else None) or 0

    def model_id(
        self,
        conn: Connection,
        name: str,
        *,
        create: bool = False,
        ts: datetime | None = None,
        chain: audit.Appender | None = None,
    ) -> int:
        cached = self._model_ids.get(name)
        if cached is not None:
            return cached
        found = reads.model_id(self.run(conn), name)
        if found is not None:
            # Models are never deleted, so a found id stays right for this catalog.
            self._model_ids[name] = found
            return found
        if not create:
            raise NotFound(f"no model named {name!r}")
        ts = ts or clock.now()
        key = conn.execute(
            insert(M).values(
                name=name, description="", tags={}, created_at=ts, created_by=self.actor
            )
        ).inserted_primary_key
        assert key is not None  # a single-row INSERT always has one
        mid = int(key[0])
        if chain is None:
            self.event(conn, "model_created", name, name, None, {"name": name}, None, ts)
        else:
            chain.add(
                at=ts,
                actor=self.actor,
                action="model_created",
                model=name,
                target=name,
                before=None,
                after={"name": name},
                reason=None,
            )
        return mid

    def version_by_id(self, conn: Connection, vid: int) -> VersionInfo:
        return reads.version(self.run(conn), vid)

    def resolve_id(self, conn: Connection, ref: Ref) -> int:
        found = reads.version_id(self.run(conn), self.model_id(conn, ref.model), ref)
        if found is not None:
            return int(found)
        if ref.version is not None:
            raise NotFound(f"{ref.model} has no version {ref.version}")
        if ref.stage is not None:
            raise NotFound(f"{ref.model} has nothing in stage {ref.stage!r}")
        raise NotFound(f"{ref.model} has no versions")

    def to_infos(self, conn: Connection, rows: Sequence[Any]) -> list[VersionInfo]:
        """Rows of VERSION_COLUMNS as records, each with the stages it holds."""
        if not rows:
            return []
        stage_map: dict[int, list[str]] = {}
        model_ids = reads.model_ids_of(rows)
        q = select(S.c.version_id, S.c.name).where(S.c.version_id.is_not(None))
        if len(model_ids) <= 500:
            q = q.where(S.c.model_id.in_(model_ids))
        for vid, name in conn.execute(q.order_by(S.c.name)):
            stage_map.setdefault(vid, []).append(name)
        return reads.records(rows, stage_map)

    # ----------------------------------------------------------------- audit

    def event(
        self,
        conn: Connection,
        action: str,
        model: str | None,
        target: str,
        before: Any,
        after: Any,
        reason: str | None,
        ts: datetime | None = None,
    ) -> None:
        """Append one audit event, in `conn`'s transaction (the change's own)."""
        chain = audit.Appender(conn)
        chain.add(
            at=ts or clock.now(),
            actor=self.actor,
            action=action,
            model=model,
            target=target,
            before=before,
            after=after,
            reason=reason,
        )
        chain.flush()


class VersionSQL:
    """The registration path's own statements, as driver-level SQL (see DriverSQL)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        q = dialect.identifier_preparer
        self._table, self._mid = q.format_table(V), q.quote("model_id")
        self.top_number = DriverSQL(
            dialect,
            f"SELECT max({q.quote('number')}) FROM {self._table} WHERE {self._mid} = :mid",
        )
        # No ON CONFLICT: same bytes were looked up under the write lock, so a
        # conflict here is a bug, and it fails loudly instead of leaving a gap.
        self.insert = MultiRowInsert(dialect, V, INSERT_COLUMNS, ("id", "model_id", "sha256"))
        self._same_bytes: dict[int, DriverSQL] = {}

    def same_bytes(self, conn: Connection, mid: int, shas: Sequence[str]) -> list[tuple[int, str]]:
        """(version id, sha256) of the versions of model `mid` that have one of `shas`."""
        out: list[tuple[int, str]] = []
        for start in range(0, len(shas), _IN_CHUNK):
            part = list(shas[start : start + _IN_CHUNK])
            # Padded to a power of two (repeats change nothing in IN): few distinct statements.
            n = 1 << (len(part) - 1).bit_length()
            part += part[-1:] * (n - len(part))
            stmt = self._same_bytes.get(n)
            if stmt is None:
                marks = ", ".join(f":s{j}" for j in range(n))
                stmt = self._same_bytes[n] = DriverSQL(
                    self.dialect,
                    f"SELECT id, sha256 FROM {self._table} "
                    f"WHERE {self._mid} = :mid AND sha256 IN ({marks})",
                )
            out.extend(stmt.all(conn, {"mid": mid, **{f"s{j}": x for j, x in enumerate(part)}}))
        return out
