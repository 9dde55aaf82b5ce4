"""The catalog's plain reads, once: SQL text and the mapping of its rows to records.

`Catalog` runs these through SQLAlchemy (SQLite or PostgreSQL) and the CLI's
`QuickReader` through the stdlib sqlite3 driver; the two differ only in the
`Run` they pass, i.e. in how they reach a connection. The SQL is written for
both databases, with `:name` placeholders (sqlite3 takes them as they are;
db.DriverSQL rewrites them for psycopg). Rows are plain driver tuples.

Kept free of SQLAlchemy: the quick path imports it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from regtui.catalog import store
from regtui.catalog.clock import utc
from regtui.catalog.ordering import order_terms, top_by_index
from regtui.catalog.records import ModelInfo, Policy, StageMove, VersionInfo
from regtui.catalog.refs import Ref
from regtui.catalog.stage_rules import bad_policy, policy_from_json
from regtui.catalog.version_fields import AT, COLUMNS, MODEL_AT

# Runs one statement with its parameters in the caller's transaction; all rows.
Run = Callable[[str, Mapping[str, Any]], Sequence[Sequence[Any]]]

SELECT_VERSIONS = (
    "SELECT " + ", ".join(f"version.{c}" for c in COLUMNS) + ", model.name "
    "FROM version JOIN model ON model.id = version.model_id "
)
VERSION_BY_ID = SELECT_VERSIONS + "WHERE version.id = :vid"
MODEL_ID = "SELECT id FROM model WHERE name = :name"
VERSION_ID_BY_NUMBER = "SELECT id FROM version WHERE model_id = :mid AND number = :number"
VERSION_ID_IN_STAGE = "SELECT version_id FROM stage WHERE model_id = :mid AND name = :stage"
# The version a bare MODEL names: its newest one that is not archived.
LATEST_UNARCHIVED = (
    "SELECT id FROM version WHERE model_id = :mid AND NOT archived ORDER BY number DESC LIMIT 1"
)
STAGES_HELD = (
    "SELECT version_id, name FROM stage WHERE model_id = :mid AND version_id IS NOT NULL "
    "ORDER BY name"
)
ALL_STAGES_HELD = "SELECT version_id, name FROM stage WHERE version_id IS NOT NULL ORDER BY name"
# Numbers run 1..n without gaps, so a model's count is its top number: one
# index seek per model instead of counting every version.
MODELS = (
    "SELECT id, name, description, tags, created_at, created_by, "
    "(SELECT max(number) FROM version WHERE version.model_id = model.id) "
    "FROM model ORDER BY name"
)
STAGE_POINTERS = (
    "SELECT stage.model_id, stage.name, version.number FROM stage "
    "LEFT OUTER JOIN version ON version.id = stage.version_id ORDER BY stage.name"
)
STAGE_MOVES = (
    "SELECT m.stage, vf.number, vt.number, m.action, m.at, m.by, m.reason "
    "FROM stage_move AS m "
    "LEFT OUTER JOIN version AS vf ON vf.id = m.from_version_id "
    "LEFT OUTER JOIN version AS vt ON vt.id = m.to_version_id "
    "WHERE m.model_id = :mid "
)
SETTING = "SELECT value FROM setting WHERE key = :key"

_ID, _MODEL_ID = AT["id"], AT["model_id"]


def model_id(run: Run, name: str) -> int | None:
    rows = run(MODEL_ID, {"name": name})
    return int(rows[0][0]) if rows else None


def version_id(run: Run, mid: int, ref: Ref) -> int | None:
    """The id of the version `ref` names in model `mid`: MODEL:N, MODEL@STAGE,
    or MODEL (the latest unarchived one). None: there is none."""
    if ref.version is not None:
        rows = run(VERSION_ID_BY_NUMBER, {"mid": mid, "number": ref.version})
    elif ref.stage is not None:
        rows = run(VERSION_ID_IN_STAGE, {"mid": mid, "stage": ref.stage})
    else:
        rows = run(LATEST_UNARCHIVED, {"mid": mid})
    return rows[0][0] if rows and rows[0][0] is not None else None


def records(rows: Sequence[Sequence[Any]], held: Mapping[int, Sequence[str]]) -> list[VersionInfo]:
    """Rows of SELECT_VERSIONS (or core.VERSION_COLUMNS) as records, with the
    stages each version holds (`held`: version id -> stage names, sorted)."""
    if not held:
        return [VersionInfo.from_db(r, r[MODEL_AT], ()) for r in rows]
    return [VersionInfo.from_db(r, r[MODEL_AT], tuple(held.get(r[_ID], ()))) for r in rows]


def model_ids_of(rows: Sequence[Sequence[Any]]) -> set[int]:
    return {r[_MODEL_ID] for r in rows}


def stages_held(run: Run, mid: int) -> dict[int, list[str]]:
    """Version id -> the stages of model `mid` that point at it, by name."""
    held: dict[int, list[str]] = {}
    for vid, name in run(STAGES_HELD, {"mid": mid}):
        held.setdefault(vid, []).append(name)
    return held


def versions(
    run: Run,
    mid: int | None,
    *,
    order_by: str | None = None,
    desc: bool = False,
    limit: int | None = None,
) -> list[VersionInfo]:
    """Model `mid`'s versions (None: every model's), in ordering.order_terms'
    order (by default oldest first, models by name), the first `limit` of them.
    SQLite's SQL: the quick path is this function's only caller."""
    rows = version_rows(run, SELECT_VERSIONS, mid, order_by=order_by, desc=desc, limit=limit)
    return records(list(rows), stages_held(run, mid) if mid is not None else all_stages_held(run))


def version_rows(
    run: Run,
    select: str,
    mid: int | None,
    *,
    order_by: str | None = None,
    desc: bool = False,
    limit: int | None = None,
    stream: Callable[[str, Mapping[str, Any]], Iterable[Sequence[Any]]] | None = None,
) -> Iterable[Sequence[Any]]:
    """The rows of `versions`, with `select` (a select list over `version` joined
    to `model`, as SELECT_VERSIONS) giving each row's columns. `stream`, if
    given, runs the query whose rows are the answer (lazily, say)."""
    last = stream or run
    if mid is not None and order_by is None and not desc and limit is None:
        return last(select + "WHERE version.model_id = :mid ORDER BY version.number", {"mid": mid})
    terms, params = order_terms(order_by, desc, "sqlite", across=mid is None)
    bound: dict[str, Any] = {**params, "mid": mid, "limit": limit}
    rows: Sequence[Sequence[Any]] = []
    top = top_by_index(order_by, desc, mid) if limit is not None else None
    if top is not None:
        # The first `limit` by a metric or tag, read down its index by value, when
        # that many versions hold it (those that lack it come after them all).
        rows = run(select + f"WHERE version.id IN ({top}) ORDER BY " + ", ".join(terms), bound)
    if top is None or len(rows) < (limit or 0):
        sql = select + ("WHERE version.model_id = :mid " if mid is not None else "")
        sql += "ORDER BY " + ", ".join(terms) + (" LIMIT :limit" if limit is not None else "")
        return last(sql, bound)
    return rows


def all_stages_held(run: Run) -> dict[int, list[str]]:
    """Version id -> the stages (of any model) that point at it, by name."""
    held: dict[int, list[str]] = {}
    for vid, name in run(ALL_STAGES_HELD, {}):
        held.setdefault(vid, []).append(name)
    return held


def version(run: Run, vid: int) -> VersionInfo:
    rows = run(VERSION_BY_ID, {"vid": vid})
    return records(rows, stages_held(run, rows[0][_MODEL_ID]))[0]


def models(run: Run) -> list[ModelInfo]:
    stages: dict[int, dict[str, int | None]] = {}
    rows = run(MODELS, {})
    for mid, name, number in run(STAGE_POINTERS, {}):
        stages.setdefault(mid, {})[name] = number
    return [
        ModelInfo(
            id=mid,
            name=name,
            description=description,
            tags=(json.loads(tags) if isinstance(tags, str) else tags) or {},
            versions=latest or 0,
            stages=stages.get(mid, {}),
            created_at=utc(created_at),
            created_by=created_by,
            latest=latest,
        )
        for mid, name, description, tags, created_at, created_by, latest in rows
    ]


def stage_moves(run: Run, mid: int, model: str, stage: str | None = None) -> list[StageMove]:
    """Every move of model `mid`'s stages (or of one stage), oldest first."""
    if stage is None:
        rows = run(STAGE_MOVES + "ORDER BY m.id", {"mid": mid})
    else:
        rows = run(STAGE_MOVES + "AND m.stage = :stage ORDER BY m.id", {"mid": mid, "stage": stage})
    return [
        StageMove(model, name, from_n, to_n, action, utc(at), by, reason)
        for name, from_n, to_n, action, at, by, reason in rows
    ]


def _setting(run: Run, key: str) -> Any:
    """A catalog setting's JSON value (None: unset). Not JSON at all: ValueError."""
    rows = run(SETTING, {"key": key})
    value = rows[0][0] if rows else None
    # Text on SQLite; PostgreSQL's driver decodes JSONB itself.
    return json.loads(value) if isinstance(value, str) else value


def policy(run: Run) -> Policy:
    """The catalog's policy: its "policy" setting, else the default."""
    try:
        value = _setting(run, "policy")
    except ValueError:  # not JSON at all
        raise bad_policy() from None
    return policy_from_json(value)


def store_location(run: Run, url: str) -> store.StoreLocation:
    """Where the catalog at `url` keeps its copies: its "store" setting, else the
    default (beside a SQLite catalog; host-local for a server catalog)."""
    return store.location_for(url, _setting(run, store.SETTING_KEY))
