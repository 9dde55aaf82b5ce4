"""The catalog's policy setting: reading it, and changing it, which is refused
while a stage it would protect holds a version that could not go there now
(the rules themselves are catalog.stage_rules)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from regtui.catalog import audit, kept_copies
from regtui.catalog.core import Core
from regtui.catalog.db import read_txn, write_txn
from regtui.catalog.input_checks import clean_reason
from regtui.catalog.kept_copies import KEEP_ATTEMPTS, CopyMade
from regtui.catalog.records import Policy, VersionInfo
from regtui.catalog.refs import check_stage_name
from regtui.catalog.schema import StageRow
from regtui.catalog.stage_rules import check_holder
from regtui.errors import Conflict, UsageError

S = StageRow.__table__


def policy(core: Core) -> Policy:
    with read_txn(core.engine) as conn:
        return core.policy(conn)


def check_may_hold(policy: Policy, v: VersionInfo, stage: str) -> None:
    """Raise PolicyRefused unless `v` may hold `stage` under `policy`."""
    check_holder(
        policy,
        stage,
        ref=v.ref,
        archived=v.archived,
        approval=v.approval.status,
        damage=v.damage,
    )


def set_policy(core: Core, policy: Policy, reason: str | None = None) -> Policy:
    """Change the policy. Refused (PolicyRefused) while a stage it protects holds
    a version that could not be promoted there now; removing protection from
    every stage needs a reason. A version a newly protected stage already holds
    gets its kept copy, as a promotion there would have made (outside the lock)."""
    for stage in policy.protected_stages:
        check_stage_name(stage)
    reason = clean_reason(reason)
    for _ in range(KEEP_ATTEMPTS):
        with read_txn(core.engine) as conn:
            before = core.policy(conn)
            newly = _check_holders(core, conn, policy, before)
            where = core.store_location(conn).path
            seen = audit.head(conn)
        kept = {v.id: CopyMade(v.id, where, kept_copies.make(v, where), seen) for v in newly}
        with write_txn(core.engine) as conn:
            before = core.policy(conn)
            if before.protected_stages and not policy.protected_stages and not reason:
                raise UsageError("removing protection from every stage needs a reason")
            newly = _check_holders(core, conn, policy, before)
            if not all(kept_copies.still_good(core, conn, kept.get(v.id), v.id) for v in newly):
                continue  # a stage, the store or the policy moved meanwhile: again
            for v in newly:
                kept_copies.record(conn, v, kept[v.id])
            value = policy.to_json()
            core.write_setting(conn, "policy", value)
            core.event(conn, "policy_changed", None, "policy", before.to_json(), value, reason)
        return policy
    raise Conflict("the protected stages kept changing while their kept copies were made")


def _check_holders(
    core: Core, conn: Connection, policy: Policy, before: Policy | None = None
) -> list[VersionInfo]:
    """Every version a stage protected by `policy` holds must be allowed there.
    Returns those held by a stage `before` did not protect (they need a kept copy)."""
    if not policy.protected_stages:
        return []
    rows = conn.execute(
        select(S.c.name, S.c.version_id)
        .where(S.c.name.in_(policy.protected_stages), S.c.version_id.is_not(None))
        .order_by(S.c.model_id, S.c.name)
    ).all()
    newly: dict[int, VersionInfo] = {}
    for stage, vid in rows:
        v = core.version_by_id(conn, vid)
        check_may_hold(policy, v, stage)
        if before is not None and stage not in before.protected_stages:
            newly[v.id] = v
    return list(newly.values())
