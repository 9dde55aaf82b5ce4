"""What a version must be to hold a stage: one rule set for promote, rollback,
a policy change and an import, so no path can put what the others refuse."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from regtui.catalog.records import ApprovalStatus, Policy
from regtui.errors import CatalogError, PolicyRefused

APPROVAL_STATES = tuple(s.value for s in ApprovalStatus)


def policy_from_json(data: dict[str, Any] | None) -> Policy:
    """The policy a stored `policy` setting means (none stored: the default)."""
    if data is None:
        return Policy()
    stages = data.get("protected_stages", ["production"]) if isinstance(data, dict) else None
    distinct = data.get("distinct_approver", False) if isinstance(data, dict) else None
    if not (
        isinstance(stages, list)
        and all(isinstance(s, str) for s in stages)
        and isinstance(distinct, bool)
    ):
        raise bad_policy()
    return Policy(protected_stages=tuple(stages), distinct_approver=distinct)


def bad_policy() -> CatalogError:
    """A policy regtui did not write (an edit outside it): act on no guess."""
    return CatalogError(
        "the catalog's policy setting is not one regtui wrote; run `regtui audit --verify`"
    )


def check_holder(
    policy: Policy,
    stage: str,
    *,
    ref: str,
    archived: bool,
    approval: str,
    damage: str | None,
) -> None:
    """Raise PolicyRefused (naming the rule, the stage and the version) unless
    version `ref` may hold `stage` under `policy`."""
    check_may_hold_stages(ref=ref, archived=archived, approval=approval)
    if stage in policy.protected_stages and damage:
        raise PolicyRefused(
            "artifact-damaged", f"{stage} is protected and {ref} is damaged ({damage})"
        )
    if stage in policy.protected_stages and approval != ApprovalStatus.APPROVED:
        raise PolicyRefused(
            "protected-stage-needs-approval",
            f"{stage} is protected and {ref} is {approval}; approve it first",
        )


def check_may_hold_stages(*, ref: str, archived: bool, approval: str) -> None:
    """Raise PolicyRefused if version `ref` may hold no stage at all, whatever the policy."""
    if archived:
        raise PolicyRefused("archived-no-stage", f"{ref} is archived; unarchive it first")
    if approval == ApprovalStatus.REJECTED:
        raise PolicyRefused(
            "rejected-no-stage", f"{ref} is rejected and can go to no stage; approve it first"
        )


def _stages_hint(stages: Sequence[str]) -> str:
    held = ", ".join(stages)
    return f"demote or roll back {held} first" if len(stages) == 1 else f"demote {held} first"


def check_rejectable(*, ref: str, stages: Sequence[str]) -> None:
    """Raise PolicyRefused if version `ref` holds a stage: a rejected version can hold none."""
    if stages:
        raise PolicyRefused(
            "rejected-no-stage", f"{ref} holds {', '.join(stages)}; {_stages_hint(stages)}"
        )


def check_archivable(*, ref: str, stages: Sequence[str]) -> None:
    """Raise PolicyRefused if version `ref` holds a stage: an archived version can hold none."""
    if stages:
        raise PolicyRefused(
            "archived-no-stage", f"{ref} holds {', '.join(stages)}; {_stages_hint(stages)}"
        )


def check_approver(policy: Policy, *, ref: str, actor: str, created_by: str | None) -> None:
    """Raise PolicyRefused if the policy wants another person than the one who registered."""
    if policy.distinct_approver and created_by == actor:
        raise PolicyRefused(
            "distinct-approver",
            f"{actor} registered {ref} and cannot also approve it; another reviewer must",
        )


def check_approvable(*, ref: str, damage: str | None) -> None:
    """Raise PolicyRefused unless version `ref` may be approved: damaged bytes never are."""
    if damage:
        raise PolicyRefused(
            "artifact-damaged", f"{ref} is damaged ({damage}) and cannot be approved"
        )
