"""A version's bytes: where serving code loads them from, and whether every
version's artifact and kept copy are still the bytes its registration recorded."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from regtui.catalog import audit_reads, queries, store_settings
from regtui.catalog.artifacts import check_artifact, check_kept_copy, serve_path
from regtui.catalog.core import Core
from regtui.catalog.db import read_txn
from regtui.catalog.records import ArtifactCheck, VersionInfo
from regtui.catalog.registration import identity_problem
from regtui.catalog.schema import AuditEventRow
from regtui.errors import CatalogError

E = AuditEventRow.__table__


def artifact_path(core: Core, v: VersionInfo, *, check: bool = True) -> Path:
    """Where to load the version from (see artifacts.serve_path); refused
    (CatalogError) when the row's path, sha256 or size are not what the audit
    log recorded at registration, since the re-hash alone cannot tell."""
    problem = identity_problem(v, audit_reads.registration(core, v))
    if problem:
        raise CatalogError(problem)
    return serve_path(v, store_settings.store_location(core).path, check=check)


def verify_artifacts(core: Core, model: str | None = None) -> list[ArtifactCheck]:
    """Re-hash every version's artifact and every kept copy in the catalog's
    store; report missing and changed ones, and any whose path, sha256 or size
    the table holds otherwise than its registration event recorded."""
    where = store_settings.store_location(core).path
    q = select(E.c.target, E.c.after).where(E.c.action == "registered")
    with read_txn(core.engine) as conn:
        rows = conn.execute(q if model is None else q.where(E.c.model == model))
        registered = {target: after for target, after in rows}
    out = []
    for v in queries.versions(core, model):
        # The log's word first: a path and sha256 swapped together in the
        # table would re-hash fine.
        problem = identity_problem(v, registered.get(v.target))
        if problem:
            out.append(ArtifactCheck(v.ref, v.path, "changed", problem))
            continue
        if v.stored_path:
            out.append(check_kept_copy(v, where))
        out.append(check_artifact(v.ref, Path(v.path), v.sha256))
    return out
