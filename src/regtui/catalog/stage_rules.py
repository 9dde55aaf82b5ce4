"""What a version must be to hold a stage: one rule set for promote, rollback,
a policy change and an import, so no path can put what the others refuse."""

from __future__ import annotations

from typing import Any

from regtui.catalog.records import Policy
from regtui.errors import PolicyRefused

APPROVAL_STATES = ("pending", "approved", "rejected")


def policy_from_json(data: dict[str, Any] | None) -> Policy:
    """The policy a stored `policy` setting means (none stored: the default)."""
    if data is None:
        return Policy()
    return Policy(
        protected_stages=tuple(data.get("protected_stages", ["production"])),
        distinct_approver=bool(data.get("distinct_approver", False)),
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
    if archived:
        raise PolicyRefused("archived-no-stage", f"{ref} is archived; unarchive it first")
    if approval == "rejected":
        raise PolicyRefused("rejected-no-stage", f"{ref} is rejected and can go to no stage")
    if stage in policy.protected_stages and damage:
        raise PolicyRefused(
            "artifact-damaged", f"{stage} is protected and {ref} is damaged ({damage})"
        )
    if stage in policy.protected_stages and approval != "approved":
        raise PolicyRefused(
            "protected-stage-needs-approval",
            f"{stage} is protected and {ref} is {approval}; approve it first",
        )


def check_approvable(*, ref: str, damage: str | None) -> None:
    """Raise PolicyRefused unless version `ref` may be approved: damaged bytes never are."""
    if damage:
        raise PolicyRefused(
            "artifact-damaged", f"{ref} is damaged ({damage}) and cannot be approved"
        )
