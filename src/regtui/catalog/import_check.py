"""Checks an export before import loads it: the catalog it describes must be one
the service could have built. Every field of every row is held to the rule the
service applies when it writes that field (register, log, review, promote, the
policy), the rows must fit together (gapless numbers, stages pointing at
versions of their own model, each version's approval the last decision on it,
each stage where its last move put it), and every stage the export's policy
protects must hold a version that policy would let in. The first problem is
reported as one line naming the row and field; nothing is imported."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from regtui.catalog.export_fields import (
    FIELDS,
    Bad,
    bad,
    check_rows,
    is_normalised_path,
    policy_of,
    shown,
)
from regtui.catalog.records import ApprovalStatus
from regtui.catalog.stage_rules import check_holder
from regtui.catalog.store import copy_key
from regtui.errors import PolicyRefused
from regtui.inspect.bounds import non_finite_at

__all__ = ["FIELDS", "Bad", "check_export"]


def check_export(data: dict[str, Any]) -> None:
    at = non_finite_at(data)
    if at is not None:  # JSON files may say NaN, Infinity or 1e999; the catalog holds none
        raise bad(at[:200], "not a finite number")
    check_rows(data)
    models = set()
    for i, m in enumerate(data["models"]):
        name = m["name"]
        if name in models:
            raise bad(f"models[{i}]", f"model {name!r} appears twice")
        models.add(name)

    versions: dict[tuple[str, int], dict[str, Any]] = {}
    shas: set[tuple[str, str]] = set()
    for i, v in enumerate(data["versions"]):
        where = f"versions[{i}]"
        if v["model"] not in models:
            raise bad(where, f"model {v['model']!r} is not in the export's models")
        key = (v["model"], v["number"])
        ref = f"{key[0]}:{key[1]}"
        if key in versions:
            raise bad(where, f"{ref} appears twice")
        if (v["model"], v["sha256"]) in shas:
            raise bad(where, f"{ref} has the same sha256 as another version of {v['model']}")
        shas.add((v["model"], v["sha256"]))
        _check_approval_fields(where, ref, v)
        if v["stored_path"] is not None:
            _check_stored_path(f"{where}.stored_path", v["stored_path"], v["sha256"])
        if v["approval_status"] == ApprovalStatus.APPROVED and v["damage"]:
            raise bad(where, f"{ref} is approved but damaged ({shown(v['damage'])})")
        versions[key] = v
    _check_gapless(versions)

    def version_of(where: str, model: str, r: Any) -> dict[str, Any] | None:
        if r is None:
            return None
        if not isinstance(r, list) or len(r) != 2 or r[0] != model:
            raise bad(where, f"{shown(r)} is not a version of {model!r}")
        if not isinstance(r[1], int) or (r[0], r[1]) not in versions:
            raise bad(where, f"{shown(r)} is not in the export's versions")
        return versions[(r[0], r[1])]

    policy = policy_of(data["settings"].get("policy"))
    stages: dict[tuple[str, str], Any] = {}
    for i, s in enumerate(data["stages"]):
        where = f"stages[{i}]"
        if s["model"] not in models:
            raise bad(where, f"model {s['model']!r} is not in the export's models")
        name = s["name"]
        if (s["model"], name) in stages:
            raise bad(where, f"{s['model']}@{name} appears twice")
        v = version_of(where, s["model"], s["version"])
        stages[(s["model"], name)] = s["version"]
        if v is None:
            continue
        try:
            check_holder(
                policy,
                name,
                ref=f"{v['model']}:{v['number']}",
                archived=v["archived"],
                approval=v["approval_status"],
                damage=v["damage"],
            )
        except PolicyRefused as exc:
            raise PolicyRefused(
                exc.rule, f"{where} ({s['model']}@{name}): {exc.detail}; nothing was imported"
            ) from None
    last_move: dict[tuple[str, str], Any] = {}
    for i, m in enumerate(data["stage_moves"]):
        where = f"stage_moves[{i}]"
        if m["model"] not in models:
            raise bad(where, f"model {m['model']!r} is not in the export's models")
        version_of(where, m["model"], m["from_version"])
        version_of(where, m["model"], m["to_version"])
        last_move[(m["model"], m["stage"])] = m["to_version"]
    for (model, stage), to in last_move.items():
        if (model, stage) not in stages or stages[(model, stage)] != to:
            raise bad(
                f"stages ({model}@{stage})",
                f"its last move put {shown(to)} there but the stage holds "
                f"{shown(stages.get((model, stage)))}",
            )
    last_decision: dict[tuple[str, int], dict[str, Any]] = {}
    for i, a in enumerate(data["approvals"]):
        where = f"approvals[{i}]"
        r = a["version"]
        v = version_of(where, r[0] if isinstance(r, list) and r else "", r)
        if v is None:
            raise bad(where, "names no version")
        last_decision[(v["model"], v["number"])] = a
    for key, v in versions.items():
        _check_last_decision(key, v, last_decision.get(key))
    roots = set()
    for i, w in enumerate(data["watch_roots"]):
        if w["path"] in roots:
            raise bad(f"watch_roots[{i}]", f"{shown(w['path'])} appears twice")
        roots.add(w["path"])
    for i, e in enumerate(data["audit"]):
        if e["seq"] != i + 1:
            raise bad(f"audit[{i}].seq", f"events run 1, 2, 3 … in order; this one says {e['seq']}")


def _check_approval_fields(where: str, ref: str, v: dict[str, Any]) -> None:
    """Pending: nobody decided. Approved/rejected: by whom and when, as review records."""
    decided = [v["approval_by"], v["approval_at"]]
    if v["approval_status"] == ApprovalStatus.PENDING and any(x is not None for x in decided):
        raise bad(f"{where}.approval_by", f"{ref} is pending but names a decision")
    if v["approval_status"] != ApprovalStatus.PENDING and any(x is None for x in decided):
        raise bad(f"{where}.approval_by", f"{ref} is {v['approval_status']} but names no decision")


def _check_stored_path(where: str, stored: str, sha256: str) -> None:
    """A kept copy's place is the store's key for these bytes (store.copy_key), or,
    in catalogs older than per-catalog stores, an absolute path ending in it."""
    name = stored.rsplit("/", 1)[-1]
    key = copy_key(sha256, name)
    if name in ("", ".", "..") or "\x00" in stored:
        raise bad(where, f"{shown(stored)} names no file")
    if stored != key and not (stored.endswith("/" + key) and is_normalised_path(stored)):
        raise bad(where, f"{shown(stored)} is not the store's place for sha256 {sha256[:12]}…")


def _check_last_decision(key: tuple[str, int], v: dict[str, Any], a: Any) -> None:
    """The version row holds its latest approval decision (review.decide writes both)."""
    ref = f"{key[0]}:{key[1]}"
    status = v["approval_status"]
    if a is None:
        if status != ApprovalStatus.PENDING:
            raise bad(f"versions ({ref})", f"is {status} but no approval decision records it")
        return
    said = (a["status"], a["by"], a["at"], a["reason"])
    held = (status, v["approval_by"], v["approval_at"], v["approval_reason"])
    if said[:2] != held[:2] or not _same_time(said[2], held[2]) or said[3] != held[3]:
        raise bad(
            f"versions ({ref})",
            f"approval {shown(held[:2])} is not its last decision {shown(said[:2])}",
        )


def _same_time(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a == b
    return datetime.fromisoformat(a) == datetime.fromisoformat(b)


def _check_gapless(versions: dict[tuple[str, int], Any]) -> None:
    """Numbers run 1..n per model, as register hands them out."""
    top: dict[str, int] = {}
    count: dict[str, int] = {}
    for m, n in versions:
        top[m] = max(top.get(m, 0), n)
        count[m] = count.get(m, 0) + 1
    for m, n in top.items():
        if count[m] != n:
            gap = next(k for k in range(1, n + 1) if (m, k) not in versions)
            raise bad("versions", f"{m} has version {n} but no version {gap}")
