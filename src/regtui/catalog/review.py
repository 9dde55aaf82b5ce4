"""Review: approving or rejecting a version (with who, when and why), and
archiving it. Each decision is one write transaction with its audit event."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, insert, update

from regtui.catalog import clock
from regtui.catalog.core import Core
from regtui.catalog.db import write_txn
from regtui.catalog.input_checks import clean_reason
from regtui.catalog.records import ApprovalStatus, VersionInfo
from regtui.catalog.refs import Ref, parse_ref
from regtui.catalog.schema import ApprovalRow, VersionRow
from regtui.catalog.stage_rules import (
    check_approvable,
    check_approver,
    check_archivable,
    check_rejectable,
)
from regtui.errors import Conflict, UsageError

V = VersionRow.__table__
A = ApprovalRow.__table__


def decide(core: Core, ref: str, decision: ApprovalStatus, reason: str) -> VersionInfo:
    """Approve or reject (`decision`) the version `ref` names; a reason is required."""
    return decide_many(core, [ref], decision, reason)[0]


def decide_many(
    core: Core, refs: Sequence[str], decision: ApprovalStatus, reason: str
) -> list[VersionInfo]:
    """Approve or reject every version `refs` name, in one write transaction: the
    first that may not change raises (its message names it) and none changes."""
    reason = clean_reason(reason, required=True)
    parsed = [parse_ref(r) for r in refs]  # a malformed ref stops it before any read
    with write_txn(core.engine) as conn:
        vids = _distinct_ids(core, conn, refs, parsed)
        return [_decide_in(core, conn, vid, decision, reason) for vid in vids]


def _distinct_ids(
    core: Core, conn: Connection, refs: Sequence[str], parsed: Sequence[Ref]
) -> list[int]:
    """The version each ref names; two refs naming one version is a usage error
    (the second would only say it is already so)."""
    seen: dict[int, str] = {}
    for text, r in zip(refs, parsed, strict=True):
        vid = core.resolve_id(conn, r)
        if vid in seen:
            raise UsageError(f"{seen[vid]} and {text} name the same version; name it once")
        seen[vid] = text
    return list(seen)


def _decide_in(
    core: Core, conn: Connection, vid: int, decision: ApprovalStatus, reason: str
) -> VersionInfo:
    status = decision.value  # stored, logged and shown as the plain string
    v = core.version_by_id(conn, vid)
    if v.approval.status == status:
        raise Conflict(f"{v.ref} is already {status}")
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
    return archive_many(core, [ref], reason, archived)[0]


def archive_many(
    core: Core, refs: Sequence[str], reason: str | None = None, archived: bool = True
) -> list[VersionInfo]:
    """Archive (or unarchive) every version `refs` name, in one write transaction:
    all change or, at the first that may not, none."""
    reason = clean_reason(reason)
    parsed = [parse_ref(r) for r in refs]
    with write_txn(core.engine) as conn:
        vids = _distinct_ids(core, conn, refs, parsed)
        return [_archive_in(core, conn, vid, reason, archived) for vid in vids]


def _archive_in(
    core: Core, conn: Connection, vid: int, reason: str | None, archived: bool
) -> VersionInfo:
    v = core.version_by_id(conn, vid)
    if v.archived == archived:
        raise Conflict(f"{v.ref} is already {'archived' if archived else 'not archived'}")
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
