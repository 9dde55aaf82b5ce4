"""Stages: promote (several stages at once, with optimistic concurrency), demote
and rollback, each move kept as history with its audit event. A protected stage
gets its kept copy first (catalog.kept_copies); the rules are catalog.stage_rules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from regtui.catalog import audit, clock, kept_copies, queries, reads
from regtui.catalog.core import Core
from regtui.catalog.db import read_txn, write_txn
from regtui.catalog.input_checks import clean_reason
from regtui.catalog.kept_copies import KEEP_ATTEMPTS, CopyMade
from regtui.catalog.policy_settings import check_may_hold
from regtui.catalog.records import Policy, StageMove, VersionInfo
from regtui.catalog.refs import Ref, check_model_name, check_stage_name, parse_ref
from regtui.catalog.schema import StageMoveRow, StageRow, VersionRow
from regtui.errors import Conflict, NotFound, UsageError

V = VersionRow.__table__
S = StageRow.__table__
SM = StageMoveRow.__table__


def promote(
    core: Core,
    ref: str,
    stage: str,
    reason: str | None = None,
    *,
    expect_version: int | None = None,
    expect_revision: int | None = None,
) -> StageMove:
    """Point `stage` at the version.

    Optimistic concurrency: with `expect_version` (0 = the stage is empty) or
    `expect_revision`, a stage that moved meanwhile raises Conflict instead
    of being silently overwritten.
    """
    return move_stages(
        core,
        ref,
        [stage],
        reason=reason,
        expect_version=expect_version,
        expect_revision=expect_revision,
    )[0]


def move_stages(
    core: Core,
    ref: str,
    to: Sequence[str],
    demote: Sequence[str] = (),
    *,
    reason: str | None = None,
    expect_version: int | None = None,
    expect_revision: int | None = None,
) -> list[StageMove]:
    """Point every stage in `to` at the version and empty every stage in
    `demote` (same model), all in one transaction: all happen or none."""
    for stage in (*to, *demote):
        check_stage_name(stage)
    if not to and not demote:
        raise UsageError("name at least one stage to move")
    if set(to) & set(demote):
        raise UsageError("a stage cannot be promoted to and demoted at once")
    reason = clean_reason(reason)
    r = parse_ref(ref)
    for _ in range(KEEP_ATTEMPTS):
        kept = None
        with read_txn(core.engine) as conn:
            # Refusals first; then the (possibly slow) copy into the store, outside the lock.
            policy = core.policy(conn)
            if set(to) & set(policy.protected_stages):
                v = core.version_by_id(conn, core.resolve_id(conn, r))
                for stage in to:
                    check_may_hold(policy, v, stage)
                where = core.store_location(conn).path
                seen = audit.head(conn)
        if set(to) & set(policy.protected_stages):
            kept = CopyMade(v.id, where, kept_copies.make(v, where), seen)
        with write_txn(core.engine) as conn:
            vid = core.resolve_id(conn, r)
            v = core.version_by_id(conn, vid)
            policy = core.policy(conn)
            if set(to) & set(policy.protected_stages):
                if not kept_copies.still_good(core, conn, kept, vid):
                    continue  # the ref, the policy or the store changed meanwhile: again
                kept_copies.record(conn, v, kept)  # type: ignore[arg-type]
            return _apply_moves(
                core, conn, v, to, demote, reason, expect_version, expect_revision, policy
            )
    raise Conflict(f"{ref} kept changing while its kept copy was made; try again")


def _apply_moves(
    core: Core,
    conn: Connection,
    v: VersionInfo,
    to: Sequence[str],
    demote: Sequence[str],
    reason: str | None,
    expect_version: int | None,
    expect_revision: int | None,
    policy: Policy,
) -> list[StageMove]:
    moves = []
    mid = core.model_id(conn, v.model)
    for stage in to:
        check_may_hold(policy, v, stage)
        row = conn.execute(select(S).where(S.c.model_id == mid, S.c.name == stage)).first()
        if row is not None and row.version_id == v.id:
            raise Conflict(f"{v.ref} is already in {stage}")
        _check_expected(conn, v.model, stage, row, expect_version, expect_revision)
        moves.append(_move(core, conn, mid, v.model, stage, row, v.id, "promote", reason))
    for stage in demote:
        row = conn.execute(select(S).where(S.c.model_id == mid, S.c.name == stage)).first()
        if row is None or row.version_id is None:
            raise NotFound(f"{v.model} has nothing in stage {stage!r} to demote")
        moves.append(_move(core, conn, mid, v.model, stage, row, None, "demote", reason))
    return moves


def _check_expected(
    conn: Connection,
    model: str,
    stage: str,
    row: Any,
    expect_version: int | None,
    expect_revision: int | None,
) -> None:
    current_rev = row.revision if row is not None else 0
    if expect_revision is not None and expect_revision != current_rev:
        raise Conflict(f"{model}@{stage} was moved by someone else meanwhile; look again")
    if expect_version is None:
        return
    held = 0
    if row is not None and row.version_id is not None:
        held = conn.execute(select(V.c.number).where(V.c.id == row.version_id)).scalar_one()
    if held != expect_version:

        def says(n: int) -> str:
            return f"version {n}" if n else "nothing"

        raise Conflict(
            f"{model}@{stage} holds {says(held)}, not {says(expect_version)}: "
            "it was moved meanwhile; nothing was changed"
        )


def _move(
    core: Core,
    conn: Connection,
    mid: int,
    model: str,
    stage: str,
    row: Any,
    to_vid: int | None,
    action: str,
    reason: str | None,
) -> StageMove:
    ts = clock.now()
    from_vid = row.version_id if row is not None else None
    if row is None:
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(S).values(
                        model_id=mid,
                        name=stage,
                        version_id=to_vid,
                        revision=1,
                        updated_at=ts,
                        updated_by=core.actor,
                    )
                )
        except IntegrityError:
            raise Conflict(f"{model}@{stage} was created by someone else meanwhile") from None
    else:
        done = conn.execute(
            update(S)
            .where(S.c.id == row.id, S.c.revision == row.revision)
            .values(
                version_id=to_vid,
                revision=row.revision + 1,
                updated_at=ts,
                updated_by=core.actor,
            )
        )
        if done.rowcount != 1:
            raise Conflict(f"{model}@{stage} was moved by someone else meanwhile; look again")
    conn.execute(
        insert(SM).values(
            model_id=mid,
            stage=stage,
            from_version_id=from_vid,
            to_version_id=to_vid,
            action=action,
            at=ts,
            by=core.actor,
            reason=reason,
        )
    )
    numbers: dict[int | None, int] = dict(
        conn.execute(
            select(V.c.id, V.c.number).where(
                V.c.id.in_([x for x in (from_vid, to_vid) if x is not None])
            )
        ).all()
    )
    from_n, to_n = numbers.get(from_vid), numbers.get(to_vid)
    verb = {"promote": "promoted", "rollback": "rolled_back", "demote": "demoted"}[action]
    core.event(
        conn,
        verb,
        model,
        f"{model}@{stage}",
        {"version": from_n},
        {"version": to_n},
        reason,
        ts,
    )
    return StageMove(model, stage, from_n, to_n, action, ts, core.actor, reason)


def rollback(
    core: Core,
    model: str,
    stage: str = "production",
    to: int | None = None,
    reason: str | None = None,
) -> StageMove:
    """Move `stage` back to the version it held before (or to version `to`).

    Like promote, a protected stage's kept copy is made outside the write lock,
    and the decision is re-checked inside it."""
    check_model_name(model)
    check_stage_name(stage)
    reason = clean_reason(reason)
    for _ in range(KEEP_ATTEMPTS):
        kept = None
        with read_txn(core.engine) as conn:
            mid, planned, target = _rollback_plan(core, conn, model, stage, to)
            policy = core.policy(conn)
            check_may_hold(policy, target, stage)
            where = core.store_location(conn).path
            seen = audit.head(conn)
        if stage in policy.protected_stages:
            kept = CopyMade(target.id, where, kept_copies.make(target, where), seen)
        with write_txn(core.engine) as conn:
            if audit.head(conn) != seen:  # something changed since the plan: check again
                row = conn.execute(select(S).where(S.c.id == planned.id)).first()
                if row is None or row.revision != planned.revision:
                    continue  # the stage moved, so its history did: plan again
                target = core.version_by_id(conn, target.id)
                policy = core.policy(conn)
                check_may_hold(policy, target, stage)
                if stage in policy.protected_stages and not kept_copies.still_good(
                    core, conn, kept, target.id
                ):
                    continue  # the store moved (or the stage became protected): again
            if kept is not None:
                kept_copies.record(conn, target, kept)
            return _move(core, conn, mid, model, stage, planned, target.id, "rollback", reason)
    raise Conflict(f"{model}@{stage} kept moving while this rollback was planned; try again")


def _rollback_plan(
    core: Core, conn: Connection, model: str, stage: str, to: int | None
) -> tuple[int, Any, VersionInfo]:
    """The model id, the stage row and the version a rollback would move it to."""
    mid = core.model_id(conn, model)
    row = conn.execute(select(S).where(S.c.model_id == mid, S.c.name == stage)).first()
    if row is None or row.version_id is None:
        raise NotFound(f"{model} has nothing in stage {stage!r} to roll back")
    history = reads.stage_moves(core.run(conn), mid, model, stage)
    if to is None:
        target_n = _rollback_target(history)
        if target_n is None:
            raise Conflict(
                f"{model}@{stage} has no earlier version to roll back to; demote empties {stage}"
            )
    else:
        if to not in {m.to_version for m in history}:
            raise Conflict(f"{model}:{to} never held {stage}; use promote to put it there")
        target_n = to
    vid = core.resolve_id(conn, Ref(model, version=target_n))
    if vid == row.version_id:
        raise Conflict(f"{model}:{target_n} is already in {stage}")
    return mid, row, core.version_by_id(conn, vid)


def rollback_target(core: Core, model: str, stage: str) -> int | None:
    """The version `rollback(model, stage)` would move the stage back to, if any
    (so a face can say "nothing to roll back to" before asking for a reason)."""
    return _rollback_target(queries.stage_history(core, model, stage))


def demote(core: Core, model: str, stage: str, reason: str | None = None) -> StageMove:
    """Empty a stage (it then points at no version)."""
    check_stage_name(stage)
    reason = clean_reason(reason)
    with write_txn(core.engine) as conn:
        mid = core.model_id(conn, model)
        row = conn.execute(select(S).where(S.c.model_id == mid, S.c.name == stage)).first()
        if row is None or row.version_id is None:
            raise NotFound(f"{model} has nothing in stage {stage!r}")
        return _move(core, conn, mid, model, stage, row, None, "demote", reason)


def _rollback_target(moves: Iterable[StageMove]) -> int | None:
    """The version held before the current one, once rolled-back-over ones are dropped."""
    held = _effective_holders(moves)
    return held[-2] if len(held) >= 2 else None


def _effective_holders(moves: Iterable[StageMove]) -> list[int]:
    """Versions a stage held, oldest first, with rolled-back-over ones dropped.

    A promote pushes; a rollback to X drops everything after X (or pushes X if it
    was dropped earlier); a demote empties the stage.
    """
    held: list[int] = []
    for m in moves:
        if m.to_version is None:
            held = []
        elif m.action == "rollback" and m.to_version in held:
            del held[held.index(m.to_version) + 1 :]
        else:
            held.append(m.to_version)
    return held
