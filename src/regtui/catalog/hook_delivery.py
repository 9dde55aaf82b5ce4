"""The deliverer: follows the audit log from each hook's cursor and delivers every
matching event, after the change committed, never inside it.

At least once, in order: a hook's cursor moves past an event only once it was
delivered or given up on (every attempt recorded), so a deliverer stopped or
killed mid-way delivers it again when it next runs, and event n+1 is never sent
before n is done. Failures are retried `attempts` times with backoff (base, 2×,
4×, … capped at MAX_BACKOFF s), then the event is marked failed and the hook
moves on. Two deliverers (two `hooks run`, or one and `watch --headless`)
share the work per hook: each claims a hook's lease in a write transaction
(compare-and-set), and only the holder delivers and moves the cursor.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from regtui.catalog import (
    audit,
    audit_reads,
    clock,
    hook_cursor,
    hook_transport,
    hooks,
    reads,
    store,
)
from regtui.catalog.audit import canonical
from regtui.catalog.clock import iso
from regtui.catalog.core import Core
from regtui.catalog.db import read_txn
from regtui.catalog.hooks import Attempt, Hook
from regtui.catalog.records import AuditEvent
from regtui.catalog.refs import Ref
from regtui.errors import RegtuiError

MAX_BACKOFF = 300.0
POLL_SECONDS = 0.5
ENV_KEYS = ("EVENT", "SEQ", "MODEL", "VERSION", "STAGE", "PATH", "SHA256", "ACTOR", "REASON")
# An environment variable cannot hold NUL: a reason written through the API may.
# Shown as U+FFFD there (stdin's JSON keeps the exact text, escaped).
_NUL = "\0"


# Hooks delivered at once by one deliverer (each its own thread, see run_once).
MAX_PARALLEL_HOOKS = 8


@dataclass(frozen=True)
class Retry:
    attempts: int = 5
    backoff: float = 1.0  # seconds before the 2nd attempt; doubled each time after

    def wait_before(self, attempt: int) -> float:
        return float(min(self.backoff * 2.0 ** (attempt - 2), MAX_BACKOFF))

    def worst_case(self, timeout: float) -> float:
        """How long one event may take a hook, all attempts and waits included."""
        waits = sum(self.wait_before(n) for n in range(2, self.attempts + 1))
        return self.attempts * (timeout + 5) + waits + 30


def event_version(ev: AuditEvent) -> int | None:
    """The version an event is about: MODEL:N's N, or where a stage move put the stage."""
    if ev.action in hooks.STAGE_EVENTS:
        after = ev.after if isinstance(ev.after, dict) else {}
        n = after.get("version")
        return n if isinstance(n, int) else None
    if ev.model is not None and ev.target.startswith(ev.model + ":"):
        tail = ev.target[len(ev.model) + 1 :]
        return int(tail) if tail.isascii() and tail.isdigit() else None
    return None


def payload(core: Core, ev: AuditEvent, *, test: bool = False) -> dict[str, Any]:
    """The event as a hook receives it. `path` is where to load the version from:
    its kept copy in the store if it has one, else its own path."""
    n = event_version(ev)
    path = sha = None
    if n is not None and ev.model is not None:
        with read_txn(core.engine) as conn:
            run = core.run(conn)
            mid = reads.model_id(run, ev.model)
            vid = reads.version_id(run, mid, Ref(ev.model, version=n)) if mid else None
            if vid is not None:
                v = core.version_by_id(conn, int(vid))
                sha, path = v.sha256, v.path
                if v.stored_path:
                    where = core.store_location(conn).path
                    if isinstance(where, Path):
                        places = store.copy_paths(v.stored_path, v.sha256, where)
                        path = str(next((p for p in places if p.exists()), places[0]))
                    else:  # a bucket: its object's URL, as `resolve --uri` gives it
                        path = where.uri(v.stored_path)
    return {
        "seq": ev.seq,
        "at": iso(ev.at),
        "event": hooks.READABLE.get(ev.action, ev.action),
        "action": ev.action,
        "actor": ev.actor,
        "model": ev.model,
        "version": n,
        "stage": hooks.event_stage(ev),
        "target": ev.target,
        "reason": ev.reason,
        "path": path,
        "sha256": sha,
        "hash": ev.hash,
        **({"test": True} if test else {}),
    }


def body_of(data: dict[str, Any]) -> bytes:
    return canonical(data).encode("utf-8")


def environment(data: dict[str, Any]) -> dict[str, str]:
    """REGTUI_EVENT, REGTUI_SEQ, …: each payload field as text, empty when not applicable;
    REGTUI_TEST is 1 for `hook test`'s delivery, so a command can tell it from a real one."""
    env = {
        f"REGTUI_{k}": "" if data.get(k.lower()) is None else str(data[k.lower()]) for k in ENV_KEYS
    }
    env["REGTUI_TEST"] = "1" if data.get("test") else ""
    return {k: v.replace(_NUL, "\ufffd") for k, v in env.items()}


def delivery_id(hook: Hook, ev: AuditEvent) -> str:
    """The same for every attempt at one event for one hook, across restarts."""
    return hashlib.sha256(f"{ev.hash}:{hook.name}:{hook.added_seq}".encode()).hexdigest()[:32]


def send(
    hook: Hook, secret: str | None, ev: AuditEvent, data: dict[str, Any]
) -> hook_transport.Outcome:
    body = body_of(data)
    if hook.kind == "run":
        return hook_transport.run_command(hook.target, body, environment(data), hook.timeout)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "regtui-hooks",
        "X-Regtui-Event": str(data["event"]),
        "X-Regtui-Delivery": delivery_id(hook, ev),
    }
    if secret is not None:
        headers["X-Regtui-Signature-256"] = hook_transport.signature(secret, body)
    return hook_transport.post(hook.target, body, headers, hook.timeout)


Report = Callable[[str], None]


class Deliverer:
    """Delivers every hook's events; `run_once` catches up, `run` follows until stopped."""

    def __init__(
        self,
        core: Core,
        retry: Retry | None = None,
        *,
        report: Report | None = None,
        on_attempt: Callable[[Attempt], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.core = core
        self.retry = retry or Retry()
        self.report = report or (lambda _line: None)
        self.on_attempt = on_attempt or (lambda _a: None)
        self.stop = stop or threading.Event()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._verified: dict[Hook, str | None] = {}  # a row as read: its integrity problem
        self._told: set[str] = set()

    def run(self, poll: float = POLL_SECONDS) -> None:
        """Deliver until `stop` is set, looking for new events every `poll` seconds."""
        seen = -1
        while not self.stop.is_set():
            try:
                head = self.core_head()
                if head != seen:
                    busy = self.run_once()
                    seen = -1 if busy else head
            except RegtuiError as exc:  # a locked or unreachable catalog: try again later
                self.report(f"delivery paused: {exc}")
                seen = -1
                self.stop.wait(max(poll, 5.0))
            self.stop.wait(poll)

    def core_head(self) -> int:
        with read_txn(self.core.engine) as conn:
            return audit.head(conn)[0]

    def run_once(self) -> bool:
        """One pass over every hook behind the log's head; True if some hook is still
        behind (held by another deliverer, or stopped mid-way)."""
        with read_txn(self.core.engine) as conn:
            rows = hooks.hook_rows(conn)
            head = audit.head(conn)[0]
            todo = []
            for hook, secret, cursor in rows:
                if cursor >= head:
                    continue
                if hook not in self._verified:
                    self._verified[hook] = hooks.integrity_problem(conn, hook)
                problem = self._verified[hook]
                if problem is not None:
                    if problem not in self._told:
                        self._told.add(problem)
                        self.report(f"refused: {problem}")
                    continue
                todo.append((hook, secret))
        if not todo:
            return False
        # Each hook in a thread of its own: a hook retrying a dead endpoint must not hold
        # back another's deliveries (leases, cursors and order are per hook already).
        with ThreadPoolExecutor(max_workers=min(len(todo), MAX_PARALLEL_HOOKS)) as pool:
            return any(list(pool.map(lambda t: self._hook_behind(t[0], t[1], head), todo)))

    def _hook_behind(self, hook: Hook, secret: str | None, head: int) -> bool:
        """Catch `hook` up; True if it is still behind (held elsewhere, stopped, failed)."""
        if self.stop.is_set():
            return True
        try:
            return not self._catch_up(hook, secret, head)
        except RegtuiError:
            raise  # the catalog locked or unreachable: run() pauses and tries again
        except Exception as exc:  # one hook's trouble must not stop the others' delivery
            problem = f"hook {hook.name}: {type(exc).__name__}: {exc}"
            if problem not in self._told:
                self._told.add(problem)
                self.report(f"delivery failed: {problem}")
            return True

    def _catch_up(self, hook: Hook, secret: str | None, head: int) -> bool:
        """Deliver `hook`'s events up to `head`; False if it could not finish."""
        lease = self.retry.worst_case(hook.timeout)
        cursor = hook_cursor.claim(self.core, hook.id, self.owner, lease)
        if cursor is None:
            return False
        try:
            while cursor < head:
                events = hook_cursor.events_after(self.core, cursor)
                if not events:
                    return True
                done = cursor
                for ev in events:
                    if hook.matches(ev):
                        if done > cursor:  # what did not match is done: say so first
                            if not hook_cursor.advance(self.core, hook.id, self.owner, done, lease):
                                return False
                            cursor = done
                        if not self._deliver(hook, secret, ev):
                            return False  # stopped mid-way: delivered again next time
                    done = ev.seq
                if not hook_cursor.advance(self.core, hook.id, self.owner, done, lease):
                    return False
                cursor = done
            return True
        finally:
            hook_cursor.release(self.core, hook.id, self.owner)

    def _deliver(self, hook: Hook, secret: str | None, ev: AuditEvent) -> bool:
        """Every attempt at one event; False if stopped before it was done or given up."""
        data = payload(self.core, ev)
        for n in range(1, self.retry.attempts + 1):
            if n > 1 and self.stop.wait(self.retry.wait_before(n)):
                return False
            outcome = send(hook, secret, ev, data)
            last = outcome.ok or n == self.retry.attempts
            attempt = Attempt(
                hook.name,
                ev.seq,
                n,
                clock.now(),
                outcome.ok,
                outcome.status,
                outcome.output,
                outcome.duration,
                last,
            )
            hooks.record_attempt(self.core, attempt)
            self.on_attempt(attempt)
            if last:
                return True
        return True


def test_delivery(core: Core, name: str) -> tuple[AuditEvent, Attempt]:
    """Deliver the newest event the hook matches (or a made-up one when none has
    happened) once, now, marked `"test": true`; the attempt is shown, not recorded."""
    hook, secret = hooks.get_hook(core, name)
    with read_txn(core.engine) as conn:
        problem = hooks.integrity_problem(conn, hook)
    if problem is not None:
        raise RegtuiError(problem)
    found = _newest_match(core, hook)
    ev = found or _made_up(hook)
    data = payload(core, ev, test=True)
    if found is None:  # no version to load: a made-up event must never name a real one
        data.update(version=None, path=None, sha256=None)
    outcome = send(hook, secret, ev, data)
    at = clock.now()
    return ev, Attempt(
        hook.name, ev.seq, 1, at, outcome.ok, outcome.status, outcome.output, outcome.duration, True
    )


def _newest_match(core: Core, hook: Hook) -> AuditEvent | None:
    found = [
        e
        for a in hook.events
        for e in audit_reads.audit_events(core, hook.model, action=a, limit=50, newest_first=True)
        if hook.matches(e)
    ]
    return max(found, key=lambda e: e.seq) if found else None


def _made_up(hook: Hook) -> AuditEvent:
    action = hook.events[0]
    model = hook.model or "example"
    stage = hook.stage or "production"
    target = f"{model}@{stage}" if action in hooks.STAGE_EVENTS else f"{model}:1"
    after = {"version": 1} if action in hooks.STAGE_EVENTS else None
    return AuditEvent(
        0, clock.now(), "regtui", action, model, target, None, after, "hook test", "", ""
    )
