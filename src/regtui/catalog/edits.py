"""Edits after registration: a model's or a version's description and tags,
metrics and params logged later (`log`), and the artifact's observed state.
Tags are read and merged inside the write transaction, so concurrent edits of
different keys both land."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from regtui.catalog import audit, clock, queries
from regtui.catalog.clock import iso
from regtui.catalog.core import Core
from regtui.catalog.db import write_txn
from regtui.catalog.indexes import index_datasets, index_versions
from regtui.catalog.input_checks import (
    clean_description,
    clean_metrics,
    clean_params,
    clean_reason,
    clean_tags,
)
from regtui.catalog.records import ModelInfo, VersionInfo
from regtui.catalog.refs import Ref, parse_ref
from regtui.catalog.schema import (
    ModelRow,
    VersionDatasetRow,
    VersionMetricRow,
    VersionRow,
    VersionTagRow,
)
from regtui.errors import Conflict, UsageError

M = ModelRow.__table__
V = VersionRow.__table__
VT = VersionTagRow.__table__
VM = VersionMetricRow.__table__
VD = VersionDatasetRow.__table__


# New tags for a model or version: the whole set, or a function from the tags it
# holds to the new set, applied inside the write transaction (see Catalog.edit).
TagsEdit = Mapping[str, Any] | Callable[[dict[str, Any]], Mapping[str, Any]]
_ABSENT = object()  # a value no version holds (None may be one)


def edit(
    core: Core,
    target: str | Ref,
    *,
    description: str | None = None,
    tags: Mapping[str, Any] | None = None,
    untag: Iterable[str] = (),
    reason: str | None = None,
) -> ModelInfo | VersionInfo:
    """Merge `tags` into the tags of MODEL or a version ref, drop the keys in
    `untag`, and set its description. The tags are read inside the write
    transaction: a concurrent edit is kept, and MODEL@STAGE is the version the
    stage holds when the change is written."""
    ref = parse_ref(target) if isinstance(target, str) else target
    gone = tuple(untag)

    def merged(held: dict[str, Any]) -> dict[str, Any]:
        out = {**held, **(tags or {})}
        for key in gone:
            out.pop(key, None)
        return out

    if ref.version is None and ref.stage is None:
        edit = merged if tags or gone else None  # else: the description only
        return edit_model(core, ref.model, description=description, tags=edit, reason=reason)
    edit = merged if tags or gone else None  # else: the description only
    return edit_version(core, str(ref), description=description, tags=edit, reason=reason)


def edit_model(
    core: Core,
    model: str,
    *,
    description: str | None = None,
    tags: TagsEdit | None = None,
    reason: str | None = None,
) -> ModelInfo:
    """Replace the model's description and/or tags."""
    reason = clean_reason(reason)
    description = clean_description(description)
    with write_txn(core.engine) as conn:
        mid = core.model_id(conn, model)
        row = conn.execute(select(M).where(M.c.id == mid)).one()
        new = tags(dict(row.tags or {})) if callable(tags) else tags
        values: dict[str, Any] = {}
        if description is not None and description != row.description:
            values["description"] = description
        if new is not None and clean_tags(new) != (row.tags or {}):
            values["tags"] = clean_tags(new)
        if not values:
            raise Conflict(f"nothing to change on {model}: it is already so")
        before = {k: getattr(row, k) for k in values}
        conn.execute(update(M).where(M.c.id == mid).values(**values))
        core.event(conn, "edited", model, model, before, values, reason)
    return queries.model(core, model)


def log_changes(
    core: Core,
    ref: str,
    *,
    metrics: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    reason: str | None = None,
) -> tuple[VersionInfo, dict[str, Any] | None]:
    """`log`, also returning what changed (`{"metrics": {...}, "params": {...}}`,
    None when nothing did), decided in the same transaction as the change."""
    core.writable()
    metrics, params = clean_metrics(metrics), clean_params(params)
    if not metrics and not params:
        raise UsageError("name at least one metric or param to log")
    reason = clean_reason(reason)
    with write_txn(core.engine) as conn:
        vid = core.resolve_id(conn, parse_ref(ref))
        v = core.version_by_id(conn, vid)
        changes = log_values(core, conn, v, metrics, params, reason, clock.now())
        if changes:
            v = core.version_by_id(conn, vid)
        return v, changes


def log_values(
    core: Core,
    conn: Connection,
    v: VersionInfo,
    metrics: dict[str, float],
    params: dict[str, Any],
    reason: str | None,
    ts: datetime,
    how: str | None = None,
    chain: audit.Appender | None = None,
    datasets: Sequence[dict[str, Any]] = (),
) -> dict[str, Any] | None:
    """Merge values (and datasets it does not name yet) into version `v` with
    their `logged` times, reindex them and append one `logged` event; None if
    nothing changed."""
    from regtui.catalog import datasets as data

    new_m = {k: x for k, x in metrics.items() if v.metrics.get(k, _ABSENT) != x}
    new_p = {k: x for k, x in params.items() if v.params.get(k, _ABSENT) != x}
    known = {data.key(d) for d in v.datasets}
    new_d = [d for d in data.merge(datasets) if data.key(d) not in known]
    if not new_m and not new_p and not new_d:
        return None
    stamp = iso(ts)
    logged = {
        **v.logged,
        **{f"metrics.{k}": stamp for k in new_m},
        **{f"params.{k}": stamp for k in new_p},
    }
    values: dict[str, Any] = {
        "metrics": {**v.metrics, **new_m},
        "params": {**v.params, **new_p},
        "logged": logged,
    }
    if new_d:
        values["datasets"] = data.merge(v.datasets, new_d)
    conn.execute(update(V).where(V.c.id == v.id).values(**values))
    if new_m:
        conn.execute(VM.delete().where(VM.c.version_id == v.id, VM.c.name.in_(list(new_m))))
        index_versions(conn, [(v.id, new_m, {})])
    if new_d:
        # Rebuilt from the merged list: a new identity may share a hash with an old one.
        conn.execute(VD.delete().where(VD.c.version_id == v.id))
        index_datasets(conn, [(v.id, values["datasets"])])
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for kind, new, old in (("metrics", new_m, v.metrics), ("params", new_p, v.params)):
        if new:
            before[kind] = {k: old.get(k) for k in new}
            after[kind] = new
    if new_d:
        before["datasets"] = v.datasets
        after["datasets"] = new_d
    if how:
        after["how"] = how
    if chain is None:
        core.event(conn, "logged", v.model, v.target, before, after, reason, ts)
    else:  # inside a batch: its appender holds the chain's tail
        chain.add(
            at=ts,
            actor=core.actor,
            action="logged",
            model=v.model,
            target=v.target,
            before=before,
            after=after,
            reason=reason,
        )
    return after


def edit_version(
    core: Core,
    ref: str,
    *,
    description: str | None = None,
    tags: TagsEdit | None = None,
    reason: str | None = None,
) -> VersionInfo:
    """Replace a version's description and/or tags (an empty description clears it)."""
    reason = clean_reason(reason)
    description = clean_description(description)
    with write_txn(core.engine) as conn:
        vid = core.resolve_id(conn, parse_ref(ref))
        v = core.version_by_id(conn, vid)
        values: dict[str, Any] = {}
        if description is not None and (description or None) != v.description:
            values["description"] = description or None
        if tags is not None:
            new = clean_tags(tags(dict(v.tags)) if callable(tags) else tags)
            if new != v.tags:
                values["tags"] = new
        if not values:
            raise Conflict(f"nothing to change on {v.ref}: it is already so")
        conn.execute(update(V).where(V.c.id == vid).values(**values))
        if "tags" in values:
            conn.execute(VT.delete().where(VT.c.version_id == vid))
            index_versions(conn, [(vid, {}, values["tags"])])
        before = {k: getattr(v, k) for k in values}
        core.event(conn, "edited", v.model, v.target, before, values, reason)
        return core.version_by_id(conn, vid)


def mark_artifact(core: Core, ref: str, state: str, detail: str | None = None) -> VersionInfo:
    """Record that a version's file no longer matches (changed/missing) or does again."""
    if state not in ("ok", "changed", "missing"):
        raise UsageError(f"bad artifact state {state!r}")
    with write_txn(core.engine) as conn:
        vid = core.resolve_id(conn, parse_ref(ref))
        v = core.version_by_id(conn, vid)
        if v.artifact_state != state:
            conn.execute(update(V).where(V.c.id == vid).values(artifact_state=state))
            core.event(
                conn,
                "artifact_" + state,
                v.model,
                v.target,
                {"artifact_state": v.artifact_state},
                {"artifact_state": state},
                detail,
            )
        return core.version_by_id(conn, vid)
