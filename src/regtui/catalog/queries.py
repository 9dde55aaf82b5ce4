"""The catalog's reads: models, pages of versions (filtered, counted), one version
by reference, diffs, stage history and the typed look-ups the watcher asks.
Each function opens one read transaction."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, func, select, text, true

from regtui.catalog import lookups, reads
from regtui.catalog.core import VERSION_COLUMNS, Core
from regtui.catalog.db import read_txn
from regtui.catalog.diff import Diff, diff_versions
from regtui.catalog.filter import compile_filter
from regtui.catalog.filter_fields import order_field
from regtui.catalog.ordering import order_terms
from regtui.catalog.records import ModelInfo, StageMove, VersionInfo, collector_paused
from regtui.catalog.refs import Ref, parse_ref
from regtui.catalog.schema import ModelRow, VersionMetricRow, VersionRow, VersionTagRow
from regtui.errors import NotFound

M = ModelRow.__table__
V = VersionRow.__table__
VM = VersionMetricRow.__table__
VT = VersionTagRow.__table__


def models(core: Core) -> list[ModelInfo]:
    with read_txn(core.engine) as conn:
        return reads.models(core.run(conn))


def metric_series(
    core: Core, model: str, metric: str | None = None, last: int = 200
) -> tuple[list[str], str | None, list[float]]:
    """For a trend line: the metric names in the model's last `last` versions,
    the chosen metric (`metric`, else the first name) and its values, oldest
    first. Read from the metric index, not from full version rows."""
    with read_txn(core.engine) as conn:
        mid = core.model_id(conn, model)
        top = core.top_number(conn, mid)
        rows = conn.execute(
            select(V.c.number, VM.c.name, VM.c.value)
            .select_from(V.join(VM, VM.c.version_id == V.c.id))
            .where(V.c.model_id == mid, V.c.number > top - last)
            .order_by(V.c.number)
        ).all()
    names = sorted({name for _, name, _ in rows})
    chosen = metric if metric in names else (names[0] if names else None)
    return names, chosen, [value for _, name, value in rows if name == chosen]


def model(core: Core, name: str) -> ModelInfo:
    for info in models(core):
        if info.name == name:
            return info
    raise NotFound(f"no model named {name!r}")


def versions(
    core: Core,
    model: str | None = None,
    *,
    where: str | None = None,
    order_by: str | None = None,
    desc: bool = False,
    newest_first: bool = False,
    include_archived: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> list[VersionInfo]:
    """Versions of one model (or of all), filtered by the filter language and
    ordered as ordering.order_terms says: by `order_by` (a filter field with one
    value per version: `metrics.auc`, `created`, `model`, …; default: model, then
    version), `desc` reversing it (`newest_first` is `desc` without a field);
    versions lacking the value last; ties by model, then version."""
    desc = desc or newest_first
    with read_txn(core.engine) as conn:
        q = _versions_query(core, conn, model, where, include_archived)
        order = _order(core.dialect, order_by, desc, across=model is None, filtered=bool(where))
        q = q.order_by(*order)
        if model is not None and not where and order_by is None and include_archived and offset:
            # Numbers run 1..n without gaps, so a page deep in a long list is a
            # number range (an index seek), not an OFFSET walk over the rows before it.
            top = core.top_number(conn, core.model_id(conn, model))
            q = q.where(V.c.number <= top - offset if desc else V.c.number > offset)
        elif (
            (where or order_by is not None)
            and limit is not None
            and (
                page := _walked_page(
                    core, conn, model, where, order_by, include_archived, desc, offset, limit
                )
            )
            is not None
        ):
            q = (
                select(*VERSION_COLUMNS)
                .select_from(V.join(M, M.c.id == V.c.model_id))
                .where(V.c.id.in_(page))
                .order_by(*order)
            )
        elif (where or order_by is not None) and limit is not None:
            # A page of a broad match (half of 100k versions) would sort every
            # matching full row to keep 100: sort and cut the ids alone, then
            # fetch the page's rows (0.24 s -> well under 0.1 s at 100k).
            ids = _versions_query(core, conn, None, where, include_archived, columns=[V.c.id])
            if model is not None:
                # `+ 0` on SQLite: otherwise an id-only query walks the covering
                # (model_id, number) index over every version of the model, testing
                # each against the filter, instead of fetching the filter's ids.
                owner = V.c.model_id + 0 if core.dialect == "sqlite" and where else V.c.model_id
                ids = ids.where(owner == core.model_id(conn, model))
            page = ids.order_by(*order).offset(offset).limit(limit)
            q = (
                select(*VERSION_COLUMNS)
                .select_from(V.join(M, M.c.id == V.c.model_id))
                .where(V.c.id.in_(page))
                .order_by(*order)
            )
        else:
            q = q.offset(offset)
        if limit is not None:
            q = q.limit(limit)
        # Plain tuples straight from the driver: the columns need no processing
        # (see VERSION_COLUMNS), and Row objects cost more than the query.
        result = conn.execute(q)
        with collector_paused():
            rows = result.cursor.fetchall() if result.cursor is not None else []
            result.close()
            return core.to_infos(conn, rows)


# A first page walks this many versions in its order before it sorts every
# match instead; a page deeper than WALK_UP_TO rows always sorts.
WALK_MIN, WALK_FACTOR, WALK_UP_TO = 500, 10, 1000


def _walked_page(
    core: Core,
    conn: Connection,
    model: str | None,
    where: str | None,
    order_by: str | None,
    include_archived: bool,
    desc: bool,
    offset: int,
    limit: int,
) -> list[int] | None:
    """The ids of a page found by walking the versions in the page's order down
    an index (by model and number; or a metric's or tag's index by value) and
    testing each against the filter by primary key, when enough of the first
    WALK_FACTOR x page versions pass; None: too few did (or no index gives this
    order), and the caller sorts every match instead.

    A broad filter (half of 100k versions) then costs WALK_MIN probes (a few ms)
    instead of sorting 50k matching ids (~100 ms at 100k); a narrow one, those
    probes and then a sort of its few matches. Ordered by a metric, the page is
    the top of the metric's index instead of a sort of every version (~0.5 s)."""
    want = offset + limit
    if want > WALK_UP_TO:
        return None
    walked = max(WALK_MIN, WALK_FACTOR * want)
    mid = None if model is None else core.model_id(conn, model)
    head = _walk(core.dialect, mid, order_by, desc, walked)
    if head is None:
        return None
    matches = select(V.c.id).select_from(V.join(M, M.c.id == V.c.model_id)).where(V.c.id.in_(head))
    if where:
        matches = matches.where(compile_filter(where, core.dialect, probes=True))
    if not include_archived:
        matches = matches.where(V.c.archived.is_(False))
    order = _order(core.dialect, order_by, desc, across=model is None, filtered=True)
    ids = [r[0] for r in conn.execute(matches.order_by(*order).limit(want))]
    return ids[offset:] if len(ids) == want else None


def _walk(
    dialect: str, mid: int | None, order_by: str | None, desc: bool, n: int
) -> Select[Any] | None:
    """The first n version ids in the order `order_by` asks, read down an index,
    so they come without a sort (None: no index gives that order). For a metric
    or tag: only the versions holding it, which come first in that order anyway."""
    if order_by is None and mid is None and dialect == "postgresql":
        return _walk_models(desc, n)
    if order_by is None:
        head = select(V.c.id).select_from(V.join(M, M.c.id == V.c.model_id))
        if mid is not None:
            head = head.where(V.c.model_id == mid)
        order = _order(dialect, None, desc, across=mid is None, filtered=False)
        return head.order_by(*order).limit(n)
    field, key = order_field(order_by)
    if field not in ("metrics", "tags"):
        return None
    table, name = (VM, VM.c.name) if field == "metrics" else (VT, VT.c.key)
    value: ColumnElement[Any] = table.c.value
    if field == "tags" and dialect == "postgresql":
        value = value.collate("C")  # as ordering.py orders text
    head = (
        select(V.c.id)
        .select_from(table.join(V, V.c.id == table.c.version_id).join(M, M.c.id == V.c.model_id))
        .where(name == key)
    )
    if mid is not None:
        head = head.where(V.c.model_id == mid)
    # Ties by model, then version: a sort of each run of equal values only.
    ties = _order(dialect, None, False, across=True, filtered=False)
    return head.order_by(value.desc() if desc else value, *ties).limit(n)


def _walk_models(desc: bool, n: int) -> Select[Any]:
    """PostgreSQL's walk across models (by name, then number): it cannot read that
    order down one index through the join, and sorted every version to keep n
    (0.45 s at 1M). Here the models are sorted first (a small table), each one's
    versions are read down its (model_id, number) index, n at most, and an
    incremental sort by name stops once n came: about 1 ms at 1M. (Sorting the
    models in their own subquery is what lets the planner see them presorted.)"""
    models = select(M.c.id, M.c.name).order_by(M.c.name.collate("C")).subquery("m")
    number = V.c.number.desc() if desc else V.c.number
    each = select(V.c.id, V.c.number).where(V.c.model_id == models.c.id).order_by(number)
    walked = each.limit(n).lateral("walked")
    by_number = walked.c.number.desc() if desc else walked.c.number
    return (
        select(walked.c.id)
        .select_from(models.join(walked, true()))
        .order_by(models.c.name.collate("C"), by_number)
        .limit(n)
    )


def _order(
    dialect: str, order_by: str | None, desc: bool, *, across: bool, filtered: bool
) -> list[Any]:
    """ordering.order_terms as SQLAlchemy text clauses, each binding what it names."""
    terms, params = order_terms(order_by, desc, dialect, across=across, filtered=filtered)
    return [text(t).bindparams(**{k: v for k, v in params.items() if f":{k}" in t}) for t in terms]


def count_versions(
    core: Core, model: str | None = None, *, where: str | None = None, include_archived: bool = True
) -> int:
    with read_txn(core.engine) as conn:
        if model is not None and not where and include_archived:
            # Numbers run 1..n without gaps: the count is the top number.
            mid = core.model_id(conn, model)
            return core.top_number(conn, mid)
        q = _versions_query(core, conn, model, where, include_archived, columns=[V.c.id])
        return conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()


def _versions_query(
    core: Core,
    conn: Connection,
    model: str | None,
    where: str | None,
    include_archived: bool,
    columns: Sequence[Any] = VERSION_COLUMNS,
) -> Any:
    q = select(*columns).select_from(V.join(M, M.c.id == V.c.model_id))
    if model is not None:
        q = q.where(V.c.model_id == core.model_id(conn, model))
    if where:
        q = q.where(compile_filter(where, core.dialect))
    if not include_archived:
        q = q.where(V.c.archived.is_(False))
    return q


def get(core: Core, ref: str | Ref) -> VersionInfo:
    """The version a reference names: MODEL:N, MODEL@STAGE or MODEL (latest)."""
    r = parse_ref(ref) if isinstance(ref, str) else ref
    with read_txn(core.engine) as conn:
        return core.version_by_id(conn, core.resolve_id(conn, r))


def resolve(core: Core, ref: str) -> VersionInfo:
    """What serving code asks: the version in MODEL@STAGE (or any ref)."""
    return get(core, ref)


def diff(
    core: Core, left: str | Ref, right: str | Ref, directions: dict[str, bool] | None = None
) -> Diff:
    return diff_versions(get(core, left), get(core, right), directions)


def stage_history(core: Core, model: str, stage: str | None = None) -> list[StageMove]:
    with read_txn(core.engine) as conn:
        mid = core.model_id(conn, model)
        return reads.stage_moves(core.run(conn), mid, model, stage)


def stage_at(core: Core, model: str, stage: str, when: datetime) -> int | None:
    """The version number `stage` pointed to at `when` (None: nothing then)."""
    holder = None
    for move in stage_history(core, model, stage):
        if move.at > when:
            break
        holder = move.to_version
    return holder


# Typed reads for the watcher (catalog.lookups): no filter text, no length cap.


def _select_versions() -> Select[Any]:
    return select(*VERSION_COLUMNS).select_from(V.join(M, M.c.id == V.c.model_id))


def version_by_sha(core: Core, model: str, sha256: str) -> VersionInfo | None:
    """The version of `model` holding these bytes (None: none, or no such model)."""
    found = versions_by_sha(core, sha256, model)
    return found[0] if found else None


def versions_by_sha(core: Core, sha256: str, model: str | None = None) -> list[VersionInfo]:
    """The versions holding these bytes, oldest first: of `model`, or of every model."""
    with read_txn(core.engine) as conn:
        rows = lookups.by_sha(conn, _select_versions(), sha256, model)
        return core.to_infos(conn, rows)


def versions_at_paths(core: Core, paths: Iterable[str]) -> list[VersionInfo]:
    """Every version (any model) recorded at one of `paths`, oldest first."""
    with read_txn(core.engine) as conn:
        return core.to_infos(conn, lookups.at_paths(conn, _select_versions(), paths))


def newest_in_folder(core: Core, folder: str | os.PathLike[str]) -> VersionInfo | None:
    """The newest version recorded at `folder` itself or at a file right inside it."""
    with read_txn(core.engine) as conn:
        row = lookups.newest_in_folder(conn, _select_versions(), folder)
        return core.to_infos(conn, [row])[0] if row is not None else None
