"""The state the audit log says the catalog is in, compared with its tables.

The hash chain proves the log was not edited; it says nothing of a table edited
beside it (on SQLite the file's owner can UPDATE any row). Replaying the log
gives, for each version, the identity it was registered with (path, sha256,
size, format), its approval decisions, its archived flag and artifact state;
for each stage the version its last move put there; and the policy and store
settings. Any table row that disagrees is reported with the row, the field,
what the log says and what the table says.

Events from before a field was logged cannot speak for it: such rows are
listed as unverifiable, never as a mismatch (old catalogs verify clean).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from regtui.catalog.clock import iso, utc
from regtui.catalog.records import ApprovalStatus, AuditEvent, Policy
from regtui.catalog.schema import ApprovalRow, ModelRow, SettingRow, StageRow, VersionRow
from regtui.catalog.stage_rules import policy_from_json
from regtui.catalog.store import SETTING_KEY as STORE_KEY
from regtui.catalog.store import copy_key

M, V, S = ModelRow.__table__, VersionRow.__table__, StageRow.__table__
A, ST = ApprovalRow.__table__, SettingRow.__table__

# Which version fields a registration event fixes for good.
# What a registration event records of a version and what never changes after it
# (damage only when there was some: older events, and sound versions, omit it).
IDENTITY = ("path", "sha256", "size_bytes", "format", "damage")
# The version columns the log speaks for besides identity (JSON columns are not read).
STATE_COLUMNS = (
    "id", "number", "stored_path", "approval_status", "approval_by", "approval_at",
    "approval_reason", "archived", "artifact_state",
)  # fmt: skip
MOVES = {"promoted", "rolled_back", "demoted"}
# the audit actions approve and reject record: named as the statuses they set
DECISIONS = {ApprovalStatus.APPROVED.value, ApprovalStatus.REJECTED.value}


@dataclass(frozen=True)
class Mismatch:
    row: str  # "version churn:2", "stage churn@production", "setting policy"
    field: str
    log_says: Any
    table_says: Any

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "field": self.field,
            "log_says": self.log_says,
            "table_says": self.table_says,
        }


@dataclass(frozen=True)
class StateCheck:
    mismatches: list[Mismatch]
    unverifiable: list[str]

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def to_json(self) -> dict[str, Any]:
        return {
            "state_ok": self.ok,
            "mismatches": [m.to_json() for m in self.mismatches],
            "unverifiable": self.unverifiable,
        }


@dataclass
class _Version:
    identity: dict[str, Any] = field(default_factory=dict)
    decisions: list[tuple[str, str, datetime, str | None]] = field(default_factory=list)
    archived: bool = False
    artifact_state: str = "ok"
    creator: str | None = None


@dataclass
class Expected:
    """The catalog as its log tells it."""

    versions: dict[str, _Version] = field(default_factory=dict)  # "model:n"
    stages: dict[str, int | None] = field(default_factory=dict)  # "model@stage"
    settings: dict[str, Any] = field(default_factory=dict)
    logged_settings: set[str] = field(default_factory=set)
    # Steps the log itself records that the policy of the moment forbade.
    broken: list[Mismatch] = field(default_factory=list)
    # Each hook's (seq, config) of its hook_added event; None once removed.
    hooks: dict[str, tuple[int, Any] | None] = field(default_factory=dict)


class Replay:
    """Fed the events in order (as the chain is verified, one pass), builds Expected."""

    def __init__(self) -> None:
        self.expected = Expected()

    def feed_row(self, row: Sequence[Any]) -> None:
        """`feed` for a row of audit.CHAIN_COLUMNS. A registration, most of any
        long log, is read from the row itself, with no AuditEvent built for it."""
        action = row[3]
        if action == "registered":
            after = row[7] if isinstance(row[7], dict) else {}
            identity = {k: after[k] for k in IDENTITY if k in after}
            self.expected.versions[row[5]] = _Version(identity, creator=row[2])
        elif action != "model_created":  # the only event that changes nothing here
            self.feed(AuditEvent(*row))

    def feed(self, ev: AuditEvent) -> AuditEvent:
        out = self.expected
        after = ev.after if isinstance(ev.after, dict) else {}
        if ev.action == "registered":
            identity = {k: after[k] for k in IDENTITY if k in after}
            out.versions[ev.target] = _Version(identity, creator=ev.actor)
            return ev
        v = out.versions.get(ev.target)
        policy = _policy(out.settings.get("policy"))
        if not isinstance(policy, Policy):
            policy = Policy()
        if ev.action in DECISIONS and v is not None:
            v.decisions.append((ev.action, ev.actor, utc(ev.at), ev.reason))
            if (
                ev.action == ApprovalStatus.APPROVED
                and policy.distinct_approver
                and ev.actor == v.creator
            ):
                rule = "an approver other than its registrant (distinct approver)"
                out.broken.append(Mismatch(f"version {ev.target}", "approval_by", rule, ev.actor))
        elif ev.action in ("archived", "unarchived") and v is not None:
            v.archived = ev.action == "archived"
        elif ev.action.startswith("artifact_") and v is not None:
            v.artifact_state = str(after.get("artifact_state", ev.action[9:]))
        elif ev.action in MOVES and "version" in after:
            out.stages[ev.target] = after["version"]
            held = out.versions.get(f"{ev.model}:{after['version']}")
            stage = ev.target.rsplit("@", 1)[-1]
            if held is not None and stage in policy.protected_stages:
                status = held.decisions[-1][0] if held.decisions else ApprovalStatus.PENDING
                if status != ApprovalStatus.APPROVED:
                    out.broken.append(
                        Mismatch(f"stage {ev.target}", "version", "an approved version", status)
                    )
        elif ev.action == "policy_changed":
            out.settings["policy"] = ev.after
            out.logged_settings.add("policy")
        elif ev.action == "hook_added":
            out.hooks[ev.target] = (ev.seq, ev.after)
        elif ev.action == "hook_removed":
            out.hooks[ev.target] = None
        elif ev.action == "store_moved" and "location" in after:
            out.settings[STORE_KEY] = {"location": after["location"]}
            out.logged_settings.add(STORE_KEY)
        return ev


def replay(events: Iterable[AuditEvent]) -> Expected:
    r = Replay()
    for ev in events:
        r.feed(ev)
    return r.expected


def compare(conn: Connection, expected: Expected) -> StateCheck:
    bad: list[Mismatch] = []
    unverifiable: list[str] = []
    _versions(conn, expected, bad, unverifiable)
    _stages(conn, expected, bad)
    _settings(conn, expected, bad)
    _hooks(conn, expected, bad)
    return StateCheck(expected.broken + bad, unverifiable)


def _versions(
    conn: Connection, expected: Expected, bad: list[Mismatch], unverifiable: list[str]
) -> None:
    history: dict[int, list[tuple[str, str, datetime, str | None]]] = {}
    for r in conn.execute(select(A).order_by(A.c.id)):
        history.setdefault(r.version_id, []).append((r.status, r.by, utc(r.at), r.reason))
    logged = expected.versions
    have: set[str] = set()
    pending = ApprovalStatus.PENDING.value
    # Plain tuples, and the common case (identity as logged, never decided,
    # not archived) settled by a few comparisons: a million rows go through it.
    rows = conn.execute(
        select(*(V.c[name] for name in (*IDENTITY, *STATE_COLUMNS)), M.c.name).join(
            M, M.c.id == V.c.model_id
        )
    )
    for r in rows:
        (*identity, vid, number, stored_path, status, by, at, reason, archived, state, model) = r
        ref = f"{model}:{number}"
        v = logged.get(ref)
        if v is None:
            unverifiable.append(f"version {ref}: no registration event")
            continue
        have.add(ref)
        held = dict(zip(IDENTITY, identity, strict=True))
        if not v.identity.items() <= held.items():
            for name in IDENTITY:
                if name in v.identity and v.identity[name] != held[name]:
                    bad.append(Mismatch(f"version {ref}", name, v.identity[name], held[name]))
        if stored_path is not None and "sha256" in v.identity:
            key = copy_key(v.identity["sha256"], stored_path.rsplit("/", 1)[-1])
            if stored_path != key and not stored_path.endswith("/" + key):
                bad.append(Mismatch(f"version {ref}", "stored_path", key, stored_path))
        if (
            v.decisions
            or status != pending
            or (by, at, reason) != (None, None, None)
            or vid in history
        ):
            _decisions(ref, v, (status, by, utc(at), reason), history.get(vid, []), bad)
        if v.archived != bool(archived):
            bad.append(Mismatch(f"version {ref}", "archived", v.archived, bool(archived)))
        if v.artifact_state != state:
            bad.append(Mismatch(f"version {ref}", "artifact_state", v.artifact_state, state))
    for ref in sorted(set(logged) - have):
        bad.append(Mismatch(f"version {ref}", "row", "registered", "missing"))


def _decisions(
    ref: str,
    v: _Version,
    held: tuple[str, str | None, datetime | None, str | None],
    history: list[tuple[str, str, datetime, str | None]],
    bad: list[Mismatch],
) -> None:
    """A version's approval columns and history against the decisions logged."""
    last = v.decisions[-1] if v.decisions else (ApprovalStatus.PENDING.value, None, None, None)
    names = ("approval_status", "approval_by", "approval_at", "approval_reason")
    for name, log, table in zip(names, last, held, strict=True):
        if log != table:
            bad.append(Mismatch(f"version {ref}", name, _plain(log), _plain(table)))
    if v.decisions != history:
        bad.append(
            Mismatch(f"version {ref}", "approval history", _plain(v.decisions), _plain(history))
        )


def _stages(conn: Connection, expected: Expected, bad: list[Mismatch]) -> None:
    rows = conn.execute(
        select(M.c.name, S.c.name.label("stage"), V.c.number)
        .join(M, M.c.id == S.c.model_id)
        .outerjoin(V, V.c.id == S.c.version_id)
    ).all()
    seen = set()
    for model, stage, number in rows:
        key = f"{model}@{stage}"
        seen.add(key)
        # Every move has been logged since the first schema: no event, no version.
        if expected.stages.get(key) != number:
            bad.append(Mismatch(f"stage {key}", "version", expected.stages.get(key), number))
    for key in sorted(set(expected.stages) - seen):
        if expected.stages[key] is not None:
            bad.append(Mismatch(f"stage {key}", "version", expected.stages[key], None))


def _settings(conn: Connection, expected: Expected, bad: list[Mismatch]) -> None:
    table = {r.key: r.value for r in conn.execute(select(ST))}
    if "policy" in table or "policy" in expected.logged_settings:
        # No event: the default policy, whether or not a row spells it out.
        log, held = expected.settings.get("policy"), table.get("policy")
        if (held is not None and not isinstance(held, dict)) or _policy(log) != _policy(held):
            bad.append(Mismatch("setting policy", "value", log, held))
    # The store: a row the log never wrote, or not the last location it moved to.
    # (No row is the default store, which an import may choose: not a mismatch.)
    if STORE_KEY in table and table[STORE_KEY] != expected.settings.get(STORE_KEY):
        bad.append(
            Mismatch(
                f"setting {STORE_KEY}", "value", expected.settings.get(STORE_KEY), table[STORE_KEY]
            )
        )


def _hooks(conn: Connection, expected: Expected, bad: list[Mismatch]) -> None:
    """A hook row is the one its hook_added event describes (secret: only whether
    one is set). A hook missing from the table is not reported: export and import
    leave hooks behind, and a hook that is not there runs nothing."""
    from regtui.catalog.hooks import H, hook_from_row

    for r in conn.execute(select(H).order_by(H.c.name)):
        hook = hook_from_row(r)
        logged = expected.hooks.get(hook.name)
        if logged is None:
            bad.append(Mismatch(f"hook {hook.name}", "row", "no such hook", "present"))
            continue
        seq, config = logged
        if seq != hook.added_seq:
            bad.append(Mismatch(f"hook {hook.name}", "added_seq", seq, hook.added_seq))
        mine = hook.config()
        for key in sorted(mine):
            if (config or {}).get(key) != mine[key]:
                bad.append(Mismatch(f"hook {hook.name}", key, (config or {}).get(key), mine[key]))


def _policy(value: Any) -> Any:
    try:
        return policy_from_json(value if isinstance(value, dict) else None)
    except (TypeError, ValueError):
        return value


def _dict(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _plain(value: Any) -> Any:
    """JSON-ready: times as ISO text, decision tuples as lists."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, list | tuple):
        return [_plain(x) for x in value]
    return value
