"""Review: approving or rejecting a version (with who, when and why), and
archiving it. Each decision is one write transaction with its audit event."""

from __future__ import annotations

from sqlalchemy import insert, update

from regtui.catalog import clock
from regtui.catalog.core import Core
from regtui.catalog.db import write_txn
from regtui.catalog.input_checks import clean_reason
from regtui.catalog.records import ApprovalStatus, VersionInfo
from regtui.catalog.refs import parse_ref
from regtui.catalog.schema import ApprovalRow, VersionRow
from regtui.catalog.stage_rules import (
    check_approvable,
    check_approver,
    check_archivable,
    check_rejectable,
)
from regtui.errors import UsageError

V = VersionRow.__table__
A = ApprovalRow.__table__


def decide(core: Core, ref: str, decision: ApprovalStatus, reason: str) -> VersionInfo:
    """Approve or reject (`decision`) the version `ref` names; a reason is required."""
    status = decision.value  # stored, logged and shown as the plain string
    reason = clean_reason(reason, required=True)
    r = parse_ref(ref)
    with write_txn(core.engine) as conn:
        vid = core.resolve_id(conn, r)
        v = core.version_by_id(conn, vid)
        if v.approval.status == status:
            raise UsageError(f"{v.ref} is already {status}")
        policy = core.policy(conn)
        if decision is ApprovalStatus.APPROVED:
            check_approvable(ref=v.ref, damage=v.damage)
        if decision is ApprovalStatus.APPROVED:
            check_approver(policy, ref=v.ref, actor=core.actor, created_by=v.created_by)
        else:
            check_rejectable(ref=v.ref, stages=v.stages)
        ts = clock.now()
        conn.execute(
            update(V)
            .where(V.c.id == vid)
            .values(
                approval_status=status,
                approval_by=core.actor,
                approval_at=ts,
                approval_reason=reason,
            )
        )
        conn.execute(
            insert(A).values(version_id=vid, status=status, by=core.actor, at=ts, reason=reason)
        )
        core.event(
            conn,
            status,
            v.model,
            v.target,
            {"approval": v.approval.status},
            {"approval": status},
            reason,
            ts,
        )
        return core.version_by_id(conn, vid)


def archive(core: Core, ref: str, reason: str | None = None, archived: bool = True) -> VersionInfo:
    reason = clean_reason(reason)
    with write_txn(core.engine) as conn:
        vid = core.resolve_id(conn, parse_ref(ref))
        v = core.version_by_id(conn, vid)
        if v.archived == archived:
            raise UsageError(f"{v.ref} is already {'archived' if archived else 'not archived'}")
        if archived:
            check_archivable(ref=v.ref, stages=v.stages)
        conn.execute(update(V).where(V.c.id == vid).values(archived=archived))
        core.event(
            conn,
            "archived" if archived else "unarchived",
            v.model,
            v.target,
            {"archived": v.archived},
            {"archived": archived},
            reason,
        )
        return core.version_by_id(conn, vid)
