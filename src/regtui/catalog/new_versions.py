"""New versions written: a batch of prepared candidates in one write transaction,
with gapless numbers, their audit events and index rows (the hot path of scans)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from regtui.catalog import audit, clock
from regtui.catalog.candidates import Candidate, storable
from regtui.catalog.core import Core
from regtui.catalog.db import write_txn
from regtui.catalog.edits import log_values
from regtui.catalog.indexes import index_datasets, index_versions
from regtui.catalog.records import RegisterResult, VersionInfo
from regtui.catalog.refs import audit_target
from regtui.catalog.version_fields import COLUMNS, new_row


def add_candidates(core: Core, candidates: Sequence[Candidate]) -> list[RegisterResult]:
    """Write prepared artifacts as versions, all in one transaction.

    This is the hot path of scans and bursts. The write lock is held from the
    first statement, so a look-up of the bytes each model already has and its
    top number stay true until commit: numbers are handed out gaplessly here,
    and then all versions go in with one multi-row INSERT per 100 (a scan's
    batch of 500 is a handful of statements, not one per artifact). The audit
    events and index rows go in with one executemany each, and the returned
    records are built from what was written instead of being read back.
    """
    core.writable()
    sql = core.sql
    candidates = [storable(c) for c in candidates]
    with write_txn(core.engine) as conn:
        ts = clock.now()
        chain = audit.Appender(conn)
        shas_of: dict[str, list[str]] = {}
        for cand in candidates:
            shas_of.setdefault(cand.model, []).append(cand.digest.sha256)
        model_ids: dict[str, int] = {}
        next_number: dict[int, int] = {}
        # (model id, sha256) -> version id; 0 while the version is still unwritten.
        have: dict[tuple[int, str], int] = {}
        new: list[tuple[int, Candidate, dict[str, Any]]] = []
        same: list[tuple[int, tuple[int, str]]] = []
        for i, cand in enumerate(candidates):
            mid = model_ids.get(cand.model)
            if mid is None:
                mid = model_ids[cand.model] = core.model_id(
                    conn, cand.model, create=True, ts=ts, chain=chain
                )
                next_number[mid] = core.top_number(conn, mid) + 1
                for vid, sha in sql.same_bytes(conn, mid, shas_of[cand.model]):
                    have[(mid, sha)] = vid
            key = (mid, cand.digest.sha256)
            if key in have:  # same bytes: registered before, or earlier in this batch
                same.append((i, key))
                continue
            have[key] = 0
            number = next_number[mid]
            next_number[mid] = number + 1
            row = new_row(
                model_id=mid,
                version=number,
                path=str(cand.path),
                sha256=cand.digest.sha256,
                size_bytes=cand.digest.size_bytes,
                format=cand.format,
                framework=cand.framework,
                metrics=cand.metrics,
                params=cand.params,
                tags=cand.tags,
                metadata=cand.metadata,
                lineage=cand.lineage,
                warnings=cand.warnings,
                created_at=ts,
                created_by=core.actor,
                damage=cand.damage,
                datasets=cand.datasets,
            )
            new.append((i, cand, row))
            chain.add(
                at=ts,
                actor=core.actor,
                action="registered",
                model=cand.model,
                target=audit_target(cand.model, number),
                before=None,
                after={
                    "path": row["path"],
                    "sha256": cand.digest.sha256,
                    "size_bytes": cand.digest.size_bytes,
                    "format": cand.format,
                    # Which data made it, under the chain's protection too.
                    **({"datasets": cand.datasets} if cand.datasets else {}),
                    # Damage too: clearing it beside the log must show (and stop resolve).
                    **({"damage": cand.damage} if cand.damage else {}),
                },
                reason=None,
            )
        for vid, mid, sha in sql.insert.run(conn, [row for _, _, row in new]):
            have[(mid, sha)] = vid
        results: list[RegisterResult | None] = [None] * len(candidates)
        index_rows: list[tuple[int, dict[str, float], dict[str, str]]] = []
        dataset_rows: list[tuple[int, list[dict[str, Any]]]] = []
        for i, cand, row in new:
            vid = have[(row["model_id"], row["sha256"])]
            index_rows.append((vid, cand.metrics, cand.tags))
            if cand.datasets:
                dataset_rows.append((vid, cand.datasets))
            results[i] = RegisterResult(_info_from_row(vid, cand.model, row), True)
        # Indexed before the merges below: the same bytes twice in one batch
        # merge into a version written just above, replacing its index rows.
        index_versions(conn, index_rows)
        index_datasets(conn, dataset_rows)
        for i, key in same:
            cand = candidates[i]
            v = core.version_by_id(conn, have[key])
            # Same bytes again: values it lacks are added, explicit ones replace
            # what it holds, each change audited (sidecars never overwrite).
            metrics = {
                **{k: x for k, x in cand.metrics.items() if k not in v.metrics},
                **cand.given_metrics,
            }
            params = {
                **{k: x for k, x in cand.params.items() if k not in v.params},
                **cand.given_params,
            }
            changes = log_values(
                core, conn, v, metrics, params, None, ts, "registered again", chain, cand.datasets
            )
            if changes:
                v = core.version_by_id(conn, have[key])
            results[i] = RegisterResult(v, False, changes)
        chain.flush()
    return results  # type: ignore[return-value]  # every slot was filled above


def _info_from_row(vid: int, model: str, row: dict[str, Any]) -> VersionInfo:
    """The record of a version just inserted (no stages yet), without reading it back."""
    return VersionInfo([vid if c == "id" else row[c] for c in COLUMNS], model)
