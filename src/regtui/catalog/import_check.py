"""Checks an export before import loads it: the catalog it describes must be one
the service could have built (valid names and approval states, every stage
pointing at a version of its own model, and every stage the export's policy
protects holding a version that policy would let in). The first problem is
reported as one line naming the row; nothing is imported."""

from __future__ import annotations

from typing import Any

from regtui.catalog.refs import check_model_name, check_stage_name
from regtui.catalog.stage_rules import APPROVAL_STATES, check_holder, policy_from_json
from regtui.errors import PolicyRefused, UsageError
from regtui.inspect.bounds import non_finite_at


def _bad(where: str, problem: str) -> UsageError:
    return UsageError(f"bad catalog export: {where}: {problem}; nothing was imported")


def _name(where: str, check: Any, value: Any) -> str:
    try:
        return check(value if isinstance(value, str) else "")
    except UsageError as exc:
        raise _bad(where, str(exc)) from None


def check_export(data: dict[str, Any]) -> None:
    at = non_finite_at(data)
    if at is not None:  # JSON files may say NaN, Infinity or 1e999; the catalog holds none
        raise _bad(at[:200], "not a finite number")
    models = set()
    for i, m in enumerate(data["models"]):
        name = _name(f"models[{i}]", check_model_name, m["name"])
        if name in models:
            raise _bad(f"models[{i}]", f"model {name!r} appears twice")
        models.add(name)

    versions: dict[tuple[str, int], dict[str, Any]] = {}
    for i, v in enumerate(data["versions"]):
        where = f"versions[{i}]"
        if v["model"] not in models:
            raise _bad(where, f"model {v['model']!r} is not in the export's models")
        n = v["number"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise _bad(where, f"version number {n!r} is not 1, 2, 3 …")
        key = (v["model"], n)
        if key in versions:
            raise _bad(where, f"{key[0]}:{n} appears twice")
        status = v["approval_status"]
        if status not in APPROVAL_STATES:
            raise _bad(
                where,
                f"{key[0]}:{n} has approval {status!r}, not one of " + ", ".join(APPROVAL_STATES),
            )
        if v.get("damage") is not None and not isinstance(v["damage"], str):
            raise _bad(where, f"{key[0]}:{n} has a damage note that is not text")
        if status == "approved" and v.get("damage"):
            raise _bad(where, f"{key[0]}:{n} is approved but damaged ({v['damage']})")
        versions[key] = v

    def ref(where: str, model: str, r: Any) -> dict[str, Any] | None:
        if r is None:
            return None
        if not isinstance(r, list) or len(r) != 2 or r[0] != model:
            raise _bad(where, f"{r!r} is not a version of {model!r}")
        if (r[0], r[1]) not in versions:
            raise _bad(where, f"{r[0]}:{r[1]} is not in the export's versions")
        return versions[(r[0], r[1])]

    policy = _policy(data["settings"].get("policy"))
    stages = set()
    for i, s in enumerate(data["stages"]):
        where = f"stages[{i}]"
        if s["model"] not in models:
            raise _bad(where, f"model {s['model']!r} is not in the export's models")
        name = _name(where, check_stage_name, s["name"])
        if (s["model"], name) in stages:
            raise _bad(where, f"{s['model']}@{name} appears twice")
        stages.add((s["model"], name))
        v = ref(where, s["model"], s["version"])
        if v is None:
            continue
        try:
            check_holder(
                policy,
                name,
                ref=f"{v['model']}:{v['number']}",
                archived=bool(v["archived"]),
                approval=v["approval_status"],
                damage=v.get("damage"),
            )
        except PolicyRefused as exc:
            raise PolicyRefused(
                exc.rule, f"{where} ({s['model']}@{name}): {exc.detail}; nothing was imported"
            ) from None
    for i, m in enumerate(data["stage_moves"]):
        where = f"stage_moves[{i}]"
        if m["model"] not in models:
            raise _bad(where, f"model {m['model']!r} is not in the export's models")
        _name(where, check_stage_name, m["stage"])
        ref(where, m["model"], m["from_version"])
        ref(where, m["model"], m["to_version"])
    for i, a in enumerate(data["approvals"]):
        where = f"approvals[{i}]"
        r = a["version"]
        ref(where, r[0] if isinstance(r, list) and r else "", r)
        if a["status"] not in APPROVAL_STATES:
            raise _bad(
                where, f"approval {a['status']!r} is not one of " + ", ".join(APPROVAL_STATES)
            )


def _policy(value: Any) -> Any:
    if value is None:
        return policy_from_json(None)
    stages = value.get("protected_stages") if isinstance(value, dict) else None
    if not isinstance(stages, list):
        raise _bad("settings.policy", "protected_stages is not a list of stage names")
    for stage in stages:
        _name("settings.policy", check_stage_name, stage)
    return policy_from_json(value)
