"""The whole catalog as JSON and back, exactly: export(import(x)) == x, to the byte.

Rows are written with natural keys (model name, version number) instead of
database ids, so the file means the same in any catalog it is imported into.
Every mapping has its keys in sorted order (a JSON column comes back from
PostgreSQL's JSONB in its own key order, from SQLite in the order written), and
every list of rows has one order that import keeps: models by name, versions by
(model, number), stages by (model, name), watch roots by path, audit events by
seq, and stage moves and approvals as they happened (import writes them in the
file's order, so their ids keep it). Lists inside a value (warnings, datasets,
protected stages) are data and keep their order.
Index tables (metrics, tags, dataset identities) are not exported: import
rebuilds them from the versions they index. One exception to "exactly": a
"store" setting naming a folder that does not exist here is dropped (with a
note), so the new catalog keeps its copies in its own default store.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Insert, func, insert, select

from regtui.catalog import audit, store
from regtui.catalog.audit_reads import log_rows
from regtui.catalog.audit_replay import Replay, compare
from regtui.catalog.clock import iso
from regtui.catalog.import_check import check_export
from regtui.catalog.indexes import index_datasets, index_versions
from regtui.catalog.migrate import HEAD_REVISION
from regtui.catalog.schema import (
    ApprovalRow,
    AuditEventRow,
    ModelRow,
    SettingRow,
    StageMoveRow,
    StageRow,
    VersionRow,
    WatchRootRow,
)
from regtui.errors import Conflict, UsageError

FORMAT = "regtui-catalog"
M, V, S = ModelRow.__table__, VersionRow.__table__, StageRow.__table__
SM, A, E = StageMoveRow.__table__, ApprovalRow.__table__, AuditEventRow.__table__
ST, W = SettingRow.__table__, WatchRootRow.__table__

TIME_FIELDS = {"created_at", "approval_at", "updated_at", "at"}
T = TypeVar("T")


def _by_name(row: dict[str, Any]) -> str:
    return str(row["name"])


def _by_model_and_number(row: dict[str, Any]) -> tuple[str, int]:
    return str(row["model"]), int(row["number"])


def _by_model_and_stage(row: dict[str, Any]) -> tuple[str, str]:
    return str(row["model"]), str(row["name"])


def _by_path(row: dict[str, Any]) -> str:
    return str(row["path"])


def canonical(value: T) -> T:
    """`value` with every mapping's keys in sorted (code point) order, at any depth."""
    if isinstance(value, dict):
        return cast(T, {k: canonical(value[k]) for k in sorted(value)})
    if isinstance(value, list):
        return cast(T, [canonical(x) for x in value])
    return value


def _plain(row: Any, drop: set[str]) -> dict[str, Any]:
    out = {}
    for k, v in row._mapping.items():
        if k in drop:
            continue
        out[k] = iso(v) if isinstance(v, datetime) else v
    return out


def _times(d: dict[str, Any]) -> dict[str, Any]:
    return {k: datetime.fromisoformat(v) if k in TIME_FIELDS and v else v for k, v in d.items()}


def export_catalog(conn: Connection) -> dict[str, Any]:
    mname = dict(conn.execute(select(M.c.id, M.c.name)).all())
    vkey = {
        vid: (mname[mid], n)
        for vid, mid, n in conn.execute(select(V.c.id, V.c.model_id, V.c.number))
    }

    def ref(vid: int | None) -> list[Any] | None:
        return list(vkey[vid]) if vid is not None else None

    return canonical(
        {
            "format": FORMAT,
            "schema": HEAD_REVISION,
            # Ordered by name in Python (code points), not by the database's collation or
            # by ids, so an export, its import and the import's export list rows alike.
            "models": sorted((_plain(r, {"id"}) for r in conn.execute(select(M))), key=_by_name),
            "versions": sorted(
                (
                    {"model": mname[r.model_id], **_plain(r, {"id", "model_id"})}
                    for r in conn.execute(select(V))
                ),
                key=_by_model_and_number,
            ),
            "stages": sorted(
                (
                    {
                        "model": mname[r.model_id],
                        **_plain(r, {"id", "model_id", "version_id"}),
                        "version": ref(r.version_id),
                    }
                    for r in conn.execute(select(S))
                ),
                key=_by_model_and_stage,
            ),
            "stage_moves": [
                {
                    "model": mname[r.model_id],
                    **_plain(r, {"id", "model_id", "from_version_id", "to_version_id"}),
                    "from_version": ref(r.from_version_id),
                    "to_version": ref(r.to_version_id),
                }
                for r in conn.execute(select(SM).order_by(SM.c.id))
            ],
            "approvals": [
                {**_plain(r, {"id", "version_id"}), "version": ref(r.version_id)}
                for r in conn.execute(select(A).order_by(A.c.id))
            ],
            "settings": {r.key: r.value for r in conn.execute(select(ST).order_by(ST.c.key))},
            "watch_roots": sorted(
                (_plain(r, {"id"}) for r in conn.execute(select(W))), key=_by_path
            ),
            "audit": [_plain(r, set()) for r in conn.execute(select(E).order_by(E.c.seq))],
        }
    )


def import_catalog(conn: Connection, data: dict[str, Any], notes: list[str] | None = None) -> int:
    """Load an export into an empty catalog; returns the number of versions.
    What a person should know about the import is appended to `notes`."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError(f'not a regtui catalog export (expected "format": "{FORMAT}")')
    if (
        conn.execute(select(func.count()).select_from(M)).scalar_one()
        or conn.execute(select(func.count()).select_from(E)).scalar_one()
    ):
        raise Conflict("import needs an empty catalog; this one already has models or events")
    try:
        check_export(data)
        return _load(conn, data, notes if notes is not None else [])
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"bad catalog export: {type(exc).__name__}: {exc}") from None


def _new_id(conn: Connection, stmt: Insert) -> Any:
    """The id of the one row `stmt` inserts (SQLAlchemy types the key as optional:
    it is None only for statements that insert no single row)."""
    key = conn.execute(stmt).inserted_primary_key
    assert key is not None
    return key[0]


def _load(conn: Connection, data: dict[str, Any], notes: list[str]) -> int:
    mid: dict[str, int] = {}
    for m in data["models"]:
        mid[m["name"]] = _new_id(conn, insert(M).values(**_times(m)))
    vid: dict[tuple[str, int], int] = {}
    index = []
    dataset_index = []
    for v in data["versions"]:
        fields = _times({k: x for k, x in v.items() if k != "model"})
        new = _new_id(conn, insert(V).values(model_id=mid[v["model"]], **fields))
        vid[(v["model"], v["number"])] = new
        index.append((new, v["metrics"] or {}, v["tags"] or {}))
        # Exports made before migration 0005 have no datasets: none to index.
        dataset_index.append((new, v.get("datasets") or []))
    index_versions(conn, index)
    index_datasets(conn, dataset_index)

    def key(ref: list[Any] | None) -> int | None:
        return vid[(ref[0], ref[1])] if ref is not None else None

    for s in data["stages"]:
        fields = _times({k: x for k, x in s.items() if k not in ("model", "version")})
        conn.execute(
            insert(S).values(model_id=mid[s["model"]], version_id=key(s["version"]), **fields)
        )
    for m in data["stage_moves"]:
        fields = _times(
            {k: x for k, x in m.items() if k not in ("model", "from_version", "to_version")}
        )
        conn.execute(
            insert(SM).values(
                model_id=mid[m["model"]],
                from_version_id=key(m["from_version"]),
                to_version_id=key(m["to_version"]),
                **fields,
            )
        )
    for a in data["approvals"]:
        fields = _times({k: x for k, x in a.items() if k != "version"})
        conn.execute(insert(A).values(version_id=key(a["version"]), **fields))
    for k, value in data["settings"].items():
        if k == store.SETTING_KEY and not _keep_store_setting(value, notes):
            continue
        conn.execute(insert(ST).values(key=k, value=value))
    for w in data["watch_roots"]:
        conn.execute(insert(W).values(**_times(w)))
    events = data["audit"]
    for e in events:
        conn.execute(insert(E).values(**_times(e)))
    replay = Replay()
    check = audit.verify_rows(log_rows(conn), on_row=replay.feed_row)
    if not check.ok:
        raise UsageError(
            f"the export's audit chain does not verify at event {check.first_bad}: "
            f"{check.problem}; nothing was imported"
        )
    # The rows must be what the export's own log says they are, as `audit --verify`
    # will hold them to: a row edited beside the log is refused here, not imported.
    # (The store setting is the exception: import keeps or drops it by its own
    # rule, _keep_store_setting, and says which.)
    state = compare(conn, replay.expected)
    wrong = [m for m in state.mismatches if m.row != f"setting {store.SETTING_KEY}"]
    if wrong:
        m = wrong[0]
        raise UsageError(
            f"bad catalog export: {m.row} {m.field} disagrees with the export's audit log "
            f"(log says {m.log_says!r}, row says {m.table_says!r}); nothing was imported"
        )
    return len(data["versions"])


def _keep_store_setting(value: Any, notes: list[str]) -> bool:
    """An export's "store" setting names the old catalog's store folder: kept (and
    said, since both catalogs now share it) when that folder exists here, else
    dropped so kept copies go to this catalog's own default store."""
    where = value.get("location") if isinstance(value, dict) else None
    if isinstance(where, str) and where[:5].lower() == "s3://":
        notes.append(
            f"kept the export's store setting: {where} (a bucket, shared with the catalog "
            "it came from; `regtui store --set` moves it)"
        )
        return True
    if (
        isinstance(where, str)
        and where.strip()
        and Path(where).is_absolute()
        and Path(where).is_dir()
    ):
        notes.append(
            f"kept the export's store setting: {where} (shared with the catalog it came "
            "from; `regtui store --set` moves it)"
        )
        return True
    notes.append(
        f"dropped the export's store setting {where!r}: no such folder here; kept copies "
        "go to this catalog's default store"
    )
    return False
