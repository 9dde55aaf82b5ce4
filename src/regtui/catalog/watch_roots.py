"""Watch roots: the folders the watcher watches, each with the rule that names
its models and how long a file must be quiet before it counts as finished."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select, update

from regtui.catalog import clock
from regtui.catalog.core import Core
from regtui.catalog.db import read_txn, write_txn
from regtui.catalog.refs import check_model_name
from regtui.catalog.schema import WatchRootRow
from regtui.errors import NotFound

W = WatchRootRow.__table__


@dataclass(frozen=True)
class WatchRoot:
    path: str
    model: str | None
    settle_seconds: float


def add_watch_root(
    core: Core, path: str | os.PathLike[str], model: str | None = None, settle_seconds: float = 2.0
) -> WatchRoot:
    p = str(Path(path).expanduser().resolve())
    if model is not None:
        check_model_name(model)
    with write_txn(core.engine) as conn:
        row = conn.execute(select(W).where(W.c.path == p)).first()
        values = {"model": model, "settle_seconds": float(settle_seconds)}
        if row is None:
            conn.execute(
                insert(W).values(path=p, created_at=clock.now(), created_by=core.actor, **values)
            )
            core.event(conn, "watch_added", model, p, None, values, None)
        elif (row.model, row.settle_seconds) != (model, float(settle_seconds)):
            conn.execute(update(W).where(W.c.id == row.id).values(**values))
            core.event(
                conn,
                "watch_changed",
                model,
                p,
                {"model": row.model, "settle_seconds": row.settle_seconds},
                values,
                None,
            )
    return WatchRoot(p, model, float(settle_seconds))


def watch_roots(core: Core) -> list[WatchRoot]:
    with read_txn(core.engine) as conn:
        return [
            WatchRoot(r.path, r.model, r.settle_seconds)
            for r in conn.execute(select(W).order_by(W.c.path))
        ]


def remove_watch_root(core: Core, path: str | os.PathLike[str]) -> None:
    p = str(Path(path).expanduser().resolve())
    with write_txn(core.engine) as conn:
        done = conn.execute(W.delete().where(W.c.path == p))
        if done.rowcount == 0:
            raise NotFound(f"{p} is not watched")
        core.event(conn, "watch_removed", None, p, None, None, None)
