"""Hooks: what to run, or where to POST, when audit events of some kinds happen.

A hook is catalog configuration: adding and removing one are audit events
(`hook_added`, `hook_removed`), written in the change's own transaction, and the
`hook_added` event repeats the whole configuration except the secret (only
whether one is set). The deliverer (catalog.hook_delivery) refuses a hook whose
row does not match its event: a command slipped into the table beside the log
never runs. Delivery state lives beside it: a cursor per hook (the last seq done,
and a lease deliverers claim by compare-and-set) and every attempt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, delete, func, insert, select

from regtui.catalog import audit, clock
from regtui.catalog.clock import iso, utc
from regtui.catalog.core import Core
from regtui.catalog.db import read_txn, write_txn
from regtui.catalog.input_checks import clean_reason
from regtui.catalog.records import AuditEvent
from regtui.catalog.refs import check_model_name, check_stage_name
from regtui.catalog.schema import AuditEventRow, HookAttemptRow, HookCursorRow, HookRow
from regtui.errors import Conflict, NotFound, UsageError

H, C, A = HookRow.__table__, HookCursorRow.__table__, HookAttemptRow.__table__
E = AuditEventRow.__table__

# The names of events, as a hook's payload (`event`) and `hook list` give them, and the
# audit action each stands for. `--on` takes them, their dashed spellings
# (`rolled-back`) and the actions themselves (`logged`): one vocabulary.
EVENTS: dict[str, str] = {
    "registered": "registered",
    "approved": "approved",
    "rejected": "rejected",
    "promoted": "promoted",
    "rolled_back": "rolled_back",
    "demoted": "demoted",
    "archived": "archived",
    "metrics_logged": "logged",
}
READABLE = {action: name for name, action in EVENTS.items()}
STAGE_EVENTS = frozenset({"promoted", "rolled_back", "demoted"})
HOOK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
KINDS = ("run", "post")
MAX_TIMEOUT = 3600.0
OUTPUT_LIMIT = 2048  # bytes of a command's output or a response body kept per attempt


def event_action(name: str) -> str:
    """The audit action an event name (`rolled_back`, `metrics_logged`, `promoted`, as
    a payload names it), its dashed spelling (`rolled-back`) or an action itself
    (`logged`) stands for."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key in EVENTS:
        return EVENTS[key]
    if key in READABLE:
        return key
    known = ", ".join(EVENTS)
    raise UsageError(f"unknown event {name[:80]!r}: use one of {known}")


@dataclass(frozen=True)
class Hook:
    id: int
    name: str
    events: tuple[str, ...]  # audit actions
    model: str | None
    stage: str | None
    kind: str  # "run" | "post"
    target: str  # the command, or the URL
    has_secret: bool
    timeout: float
    added_seq: int
    created_at: datetime
    created_by: str

    def config(self) -> dict[str, Any]:
        """What its `hook_added` event records (the secret only as set or not)."""
        return hook_config(
            self.name,
            self.events,
            self.model,
            self.stage,
            self.kind,
            self.target,
            self.has_secret,
            self.timeout,
        )

    def matches(self, ev: AuditEvent) -> bool:
        if ev.action not in self.events:
            return False
        if self.model is not None and ev.model != self.model:
            return False
        return self.stage is None or event_stage(ev) == self.stage

    def to_json(self) -> dict[str, Any]:
        return {
            **self.config(),
            "events": [READABLE.get(a, a) for a in self.events],
            "added_seq": self.added_seq,
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
        }


def hook_config(
    name: str,
    events: tuple[str, ...] | list[str],
    model: str | None,
    stage: str | None,
    kind: str,
    target: str,
    has_secret: bool,
    timeout: float,
) -> dict[str, Any]:
    return {
        "name": name,
        "events": list(events),
        "model": model,
        "stage": stage,
        "kind": kind,
        "target": target,
        "secret": has_secret,
        "timeout": float(timeout),
    }


@dataclass(frozen=True)
class Attempt:
    hook: str
    seq: int
    attempt: int
    at: datetime
    ok: bool
    status: int | None  # HTTP status or exit code; None: no answer (timeout, refused)
    output: str
    duration: float
    final: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "seq": self.seq,
            "attempt": self.attempt,
            "at": iso(self.at),
            "ok": self.ok,
            "status": self.status,
            "output": self.output,
            "duration": round(self.duration, 3),
            "final": self.final,
        }


@dataclass(frozen=True)
class Lease:
    owner: str  # the deliverer: host:pid:random
    until: datetime

    def to_json(self) -> dict[str, Any]:
        return {"owner": self.owner, "until": iso(self.until)}


@dataclass(frozen=True)
class HookStatus:
    """A hook as `hook list` shows it: how far it got and how it went."""

    hook: Hook
    cursor: int
    delivered: int  # events delivered
    failed: int  # events given up on
    last_delivery: Attempt | None
    last_failure: Attempt | None
    problem: str | None  # why the deliverer refuses it (row and log disagree)
    # Who holds its lease and until when, while a live one is held (None otherwise):
    # a deliverer killed holding it makes delivery wait until then.
    lease: Lease | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.hook.to_json(),
            "cursor": self.cursor,
            "lease": self.lease.to_json() if self.lease else None,
            "delivered": self.delivered,
            "failed": self.failed,
            "last_delivery": self.last_delivery.to_json() if self.last_delivery else None,
            "last_failure": self.last_failure.to_json() if self.last_failure else None,
            "problem": self.problem,
        }


def event_stage(ev: AuditEvent) -> str | None:
    """The stage a stage move moved (its target is MODEL@STAGE); None for others."""
    if ev.action in STAGE_EVENTS and "@" in ev.target:
        return ev.target.rsplit("@", 1)[1]
    return None


def check_target(kind: str, target: str) -> str:
    if kind == "post":
        parts = urlsplit(target)
        if "@" in parts.netloc:  # never echoed: it may be a password
            raise UsageError(
                "a --post URL must not hold credentials (user:password@): the URL is kept "
                "in the audit log for good; sign requests with --secret instead"
            )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--post takes an http:// or https:// URL, not {target[:200]!r}")
    elif not target.strip():
        raise UsageError("--run needs a command")
    if "\0" in target:
        raise UsageError("a hook's command or URL cannot hold a NUL character")
    return target


def add_hook(
    core: Core,
    name: str,
    events: list[str],
    *,
    run: str | None = None,
    post: str | None = None,
    secret: str | None = None,
    model: str | None = None,
    stage: str | None = None,
    timeout: float = 60.0,
) -> Hook:
    core.writable()
    if not HOOK_NAME.fullmatch(name or ""):
        raise UsageError(
            f"bad hook name {name[:80]!r}: letters, digits, '.', '_' or '-', at most 64"
        )
    if (run is None) == (post is None):
        raise UsageError("a hook takes one of --run COMMAND or --post URL")
    kind, target = ("run", run) if run is not None else ("post", post)
    assert target is not None
    check_target(kind, target)
    if secret is not None and kind != "post":
        raise UsageError("--secret signs a --post hook's requests; a command gets none")
    if secret is not None and not secret:
        raise UsageError("--secret cannot be empty")
    actions = tuple(dict.fromkeys(event_action(e) for e in events))
    if not actions:
        raise UsageError("a hook needs at least one --on EVENT")
    if model is not None:
        check_model_name(model)
    if stage is not None:
        check_stage_name(stage)
        if set(actions) - STAGE_EVENTS:
            raise UsageError(
                "--stage matches stage moves only: use it with --on promoted, "
                "rolled_back or demoted"
            )
    if not 0 < timeout <= MAX_TIMEOUT:
        raise UsageError(f"--timeout is seconds, above 0 and at most {MAX_TIMEOUT:g}")
    ts = clock.now()
    config = hook_config(name, actions, model, stage, kind, target, secret is not None, timeout)
    with write_txn(core.engine) as conn:
        if conn.execute(select(H.c.id).where(H.c.name == name)).first():
            raise Conflict(f"a hook named {name!r} exists; remove it first")
        chain = audit.Appender(conn)
        seq = chain.add(
            at=ts,
            actor=core.actor,
            action="hook_added",
            model=model,
            target=name,
            before=None,
            after=config,
            reason=None,
        )
        chain.flush()
        key = conn.execute(
            insert(H).values(
                name=name,
                events=list(actions),
                model=model,
                stage=stage,
                kind=kind,
                target=target,
                secret=secret,
                timeout=float(timeout),
                added_seq=seq,
                created_at=ts,
                created_by=core.actor,
            )
        ).inserted_primary_key
        assert key is not None
        # It fires for what happens after it was added, not for the history before.
        conn.execute(insert(C).values(hook_id=int(key[0]), seq=seq))
        return hook_from_row(conn.execute(select(H).where(H.c.id == int(key[0]))).one())


def remove_hook(core: Core, name: str, reason: str | None) -> None:
    core.writable()
    reason = clean_reason(reason, required=True)
    with write_txn(core.engine) as conn:
        row = conn.execute(select(H).where(H.c.name == name)).first()
        if row is None:
            raise NotFound(f"no hook named {name!r}")
        # Its cursor goes with it (ON DELETE CASCADE): no role deletes a cursor itself.
        conn.execute(delete(H).where(H.c.id == row.id))
        core.event(conn, "hook_removed", row.model, name, hook_from_row(row).config(), None, reason)


def hook_from_row(row: Any) -> Hook:
    return Hook(
        id=row.id,
        name=row.name,
        events=tuple(row.events or ()),
        model=row.model,
        stage=row.stage,
        kind=row.kind,
        target=row.target,
        has_secret=row.secret is not None,
        timeout=float(row.timeout),
        added_seq=row.added_seq,
        created_at=utc(row.created_at),
        created_by=row.created_by,
    )


def hook_rows(conn: Connection) -> list[tuple[Hook, str | None, int]]:
    """Every hook with its secret and its cursor, by name."""
    rows = conn.execute(
        select(H, C.c.seq.label("cursor")).outerjoin(C, C.c.hook_id == H.c.id).order_by(H.c.name)
    ).all()
    return [
        (hook_from_row(r), r.secret, r.cursor if r.cursor is not None else r.added_seq)
        for r in rows
    ]


def get_hook(core: Core, name: str) -> tuple[Hook, str | None]:
    with read_txn(core.engine) as conn:
        row = conn.execute(select(H).where(H.c.name == name)).first()
    if row is None:
        raise NotFound(f"no hook named {name!r}")
    return hook_from_row(row), row.secret


def integrity_problem(conn: Connection, hook: Hook) -> str | None:
    """Why this row is not the hook its log says was added (None: it is). The
    newest hook event for its name must be its `hook_added`, at its added_seq,
    recording exactly its configuration."""
    last = conn.execute(
        select(E.c.seq, E.c.action, E.c.after)
        .where(E.c.action.in_(("hook_added", "hook_removed")), E.c.target == hook.name)
        .order_by(E.c.seq.desc())
        .limit(1)
    ).first()
    if last is None:
        return f"hook {hook.name}: no hook_added event in the audit log"
    if last.action != "hook_added":
        return f"hook {hook.name}: the audit log says it was removed (event {last.seq})"
    if last.seq != hook.added_seq:
        return f"hook {hook.name}: its row names event {hook.added_seq}, the log {last.seq}"
    if last.after != hook.config():
        changed = sorted(
            k for k, v in hook.config().items() if (last.after or {}).get(k, object()) != v
        )
        return (
            f"hook {hook.name}: its row differs from its hook_added event "
            f"{last.seq} ({', '.join(changed) or 'fields'}); not delivered"
        )
    return None


def live_leases(conn: Connection) -> dict[int, Lease]:
    """Each hook's lease that has not run out, by hook id."""
    now = clock.now()
    out = {}
    for r in conn.execute(select(C.c.hook_id, C.c.lease_owner, C.c.lease_until)):
        until = utc(r.lease_until)
        if r.lease_owner is not None and until is not None and until > now:
            out[int(r.hook_id)] = Lease(str(r.lease_owner), until)
    return out


def hook_statuses(core: Core) -> list[HookStatus]:
    out = []
    with read_txn(core.engine) as conn:
        leases = live_leases(conn)
        for hook, _secret, cursor in hook_rows(conn):
            counts: dict[bool, int] = dict(
                conn.execute(
                    select(A.c.ok, func.count())
                    .where(*_its_attempts(hook), A.c.final.is_(True))
                    .group_by(A.c.ok)
                ).all()
            )
            out.append(
                HookStatus(
                    hook,
                    cursor,
                    int(counts.get(True, 0)),
                    int(counts.get(False, 0)),
                    _last_attempt(conn, hook, ok=True),
                    _last_attempt(conn, hook, ok=False),
                    integrity_problem(conn, hook),
                    leases.get(hook.id),
                )
            )
    return out


def _attempt(r: Any) -> Attempt:
    return Attempt(
        r.hook_name,
        r.seq,
        r.attempt,
        utc(r.at),
        bool(r.ok),
        r.status,
        r.output,
        float(r.duration),
        bool(r.final),
    )


def _its_attempts(hook: Hook) -> tuple[Any, ...]:
    """Attempts are kept by hook name: a hook removed and added again under its name
    starts afresh (it delivers only events after its own hook_added)."""
    return (A.c.hook_name == hook.name, A.c.seq > hook.added_seq)


def _last_attempt(conn: Connection, hook: Hook, *, ok: bool) -> Attempt | None:
    r = conn.execute(
        select(A).where(*_its_attempts(hook), A.c.ok.is_(ok)).order_by(A.c.id.desc()).limit(1)
    ).first()
    return _attempt(r) if r is not None else None


def attempts(core: Core, *, seq: int | None = None, hook: str | None = None) -> list[Attempt]:
    """Delivery attempts, oldest first: of one event, of one hook, or all."""
    q = select(A)
    if seq is not None:
        q = q.where(A.c.seq == seq)
    if hook is not None:
        q = q.where(A.c.hook_name == hook)
    with read_txn(core.engine) as conn:
        return [_attempt(r) for r in conn.execute(q.order_by(A.c.id))]


def record_attempt(core: Core, a: Attempt) -> None:
    with write_txn(core.engine) as conn:
        conn.execute(
            insert(A).values(
                hook_name=a.hook,
                seq=a.seq,
                attempt=a.attempt,
                at=a.at,
                ok=a.ok,
                status=a.status,
                output=a.output,
                duration=a.duration,
                final=a.final,
            )
        )
