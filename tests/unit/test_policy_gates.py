"""No path leaves a damaged, unapproved, rejected or archived version in a protected
stage: promote, move_stages, rollback, a policy change and an import all apply the
same rule (stage_rules.check_holder), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.catalog.records import Policy
from regtui.catalog.service import Catalog
from regtui.catalog.stage_rules import policy_from_json
from regtui.errors import NotFound, PolicyRefused, UsageError
from tests.support.hypothesis_runs import examples
from tests.unit.helpers import artifact, open_as

HTML = b"<!doctype html><title>Not Found</title>"


def _setup(url: str, folder: Path) -> tuple[Catalog, Catalog]:
    """churn:1 approved and sound, churn:2 pending, churn:3 damaged, churn:4 approved."""
    alice, bob = open_as(url, "alice"), open_as(url, "bob")
    alice.register(artifact(folder, "m1.bin", "one"), "churn")
    alice.register(artifact(folder, "m2.bin", "two"), "churn")
    bad = folder / "m3.bin"
    bad.write_bytes(HTML)
    assert alice.register(bad, "churn").damage
    alice.register(artifact(folder, "m4.bin", "four"), "churn")
    bob.approve("churn:1", "ok")
    bob.approve("churn:4", "ok")
    return alice, bob


BAD = {2: "protected-stage-needs-approval", 3: "artifact-damaged"}


def _holders_ok(cat: Catalog) -> None:
    """The invariant: every protected stage holds a version allowed there."""
    policy = cat.policy()
    for m in cat.models():
        for stage in policy.protected_stages:
            try:
                v = cat.resolve(f"{m.name}@{stage}")
            except NotFound:  # an empty stage is fine
                continue
            assert v.approval.status == "approved" and not v.damage and not v.archived


@pytest.mark.parametrize("stages", [("staging",), ("production", "staging"), ("qa", "staging")])
@pytest.mark.parametrize("n", sorted(BAD))
def test_protecting_a_stage_that_holds_a_bad_version_is_refused(
    db_url: str, tmp_path: Path, n: int, stages: tuple[str, ...]
) -> None:
    alice, bob = _setup(db_url, tmp_path)
    bob.promote(f"churn:{n}", "staging")
    before = alice.policy()
    with pytest.raises(PolicyRefused) as refused:
        alice.set_policy(Policy(protected_stages=stages), "tighten")
    assert refused.value.rule == BAD[n]
    assert "staging" in str(refused.value) and f"churn:{n}" in str(refused.value)
    assert alice.policy() == before
    # Move the bad version out and the same change goes through.
    bob.promote("churn:1", "staging")
    alice.set_policy(Policy(protected_stages=stages), "tighten")
    _holders_ok(alice)


@pytest.mark.parametrize("n", sorted(BAD))
def test_unprotect_promote_protect_again_is_refused(db_url: str, tmp_path: Path, n: int) -> None:
    alice, bob = _setup(db_url, tmp_path)
    alice.set_policy(Policy(protected_stages=("qa",)), "for a test")
    bob.promote(f"churn:{n}", "production")
    with pytest.raises(PolicyRefused) as refused:
        alice.set_policy(Policy(), "back to normal")
    assert refused.value.rule == BAD[n]
    assert alice.policy().protected_stages == ("qa",)


def test_removing_every_protection_needs_a_reason(db_url: str, tmp_path: Path) -> None:
    alice, _ = _setup(db_url, tmp_path)
    for reason in (None, "", "   "):
        with pytest.raises(UsageError, match="needs a reason"):
            alice.set_policy(Policy(protected_stages=()), reason)
    assert alice.policy().protected_stages == ("production",)
    alice.set_policy(Policy(protected_stages=()), "migration window")
    assert alice.policy().protected_stages == ()
    # Already unprotected: other policy changes need no reason.
    alice.set_policy(Policy(protected_stages=(), distinct_approver=True))


@pytest.mark.parametrize("n", sorted(BAD))
def test_every_move_into_a_protected_stage_checks_the_version(
    db_url: str, tmp_path: Path, n: int
) -> None:
    alice, bob = _setup(db_url, tmp_path)
    alice.set_policy(Policy(protected_stages=("production", "staging")), "two gates")
    ref = f"churn:{n}"
    attempts = [
        lambda: bob.promote(ref, "production"),
        lambda: bob.move_stages(ref, ["scratch", "staging"]),
        lambda: bob.move_stages(ref, ["staging", "production"]),
        lambda: bob.move_stages(ref, ["production"], demote=["scratch"]),
    ]
    bob.promote("churn:1", "scratch")
    for attempt in attempts:
        with pytest.raises(PolicyRefused) as refused:
            attempt()
        assert refused.value.rule == BAD[n]
        assert bob.get("churn@scratch").version == 1  # all or nothing
    _holders_ok(alice)


@pytest.mark.parametrize("n", sorted(BAD))
def test_rollback_onto_a_bad_version_is_refused(db_url: str, tmp_path: Path, n: int) -> None:
    alice, bob = _setup(db_url, tmp_path)
    # The bad version held production while it was unprotected.
    alice.set_policy(Policy(protected_stages=()), "test")
    bob.promote(f"churn:{n}", "production")
    bob.promote("churn:1", "production")
    alice.set_policy(Policy(), "protect again")
    for to in (None, n):
        with pytest.raises(PolicyRefused) as refused:
            bob.rollback("churn", "production", to=to)
        assert refused.value.rule == BAD[n]
    assert bob.resolve("churn@production").version == 1


def test_a_stage_holder_cannot_be_rejected_or_archived(db_url: str, tmp_path: Path) -> None:
    alice, bob = _setup(db_url, tmp_path)
    bob.promote("churn:1", "production")
    with pytest.raises(PolicyRefused, match="rejected-no-stage"):
        bob.reject("churn:1", "oops")
    with pytest.raises(PolicyRefused, match="archived-no-stage"):
        bob.archive("churn:1")
    _holders_ok(alice)


# ------------------------------------------------------------------ import


def _export(url: str, folder: Path) -> dict[str, Any]:
    alice, bob = _setup(url, folder)
    bob.promote("churn:1", "production")
    bob.promote("churn:4", "production")
    bob.promote("churn:2", "staging")
    return alice.export_data()


def _fresh(tmp_path: Path, tag: str) -> Catalog:
    return Catalog(tmp_path / f"target-{tag}.sqlite", user="alice")


def _empty(cat: Catalog) -> bool:
    data = cat.export_data()
    return not data["models"] and not data["versions"] and not data["audit"]


def test_import_refuses_a_damaged_version_in_production(db_url: str, tmp_path: Path) -> None:
    data = _export(db_url, tmp_path)
    for s in data["stages"]:
        if s["name"] == "staging":
            s["name"] = "production-2"
            s["version"] = ["churn", 3]
    data["settings"]["policy"] = Policy(protected_stages=("production-2",)).to_json()
    target = _fresh(tmp_path, "a")
    with pytest.raises(PolicyRefused) as refused:
        target.import_data(data)
    assert refused.value.rule == "artifact-damaged"
    assert "stages[" in str(refused.value) and "churn:3" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert _empty(target)


def test_a_clean_export_imports(db_url: str, tmp_path: Path) -> None:
    data = _export(db_url, tmp_path)
    target = _fresh(tmp_path, "b")
    assert target.import_data(copy.deepcopy(data)) == 4
    _holders_ok(target)


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d.update(settings=[]),
        lambda d: d["settings"].update(policy=["production"]),
        lambda d: d["settings"].update(policy={"protected_stages": "production"}),
        lambda d: d["stages"][0].update(version=[["churn"], 1]),
        lambda d: d["stages"][0].update(version="churn:1"),
        lambda d: d["versions"][0].update(number="1"),
        lambda d: d["approvals"][0].update(status="yes"),
        lambda d: d["stage_moves"][0].update(to_version=["other", 1]),
        lambda d: d["models"].append(dict(d["models"][0])),
    ],
)
def test_malformed_exports_refuse_in_one_line(tmp_path: Path, edit: Any) -> None:
    data = _export(str(tmp_path / "src.sqlite"), tmp_path)
    edit(data)
    target = _fresh(tmp_path, "m")
    with pytest.raises(UsageError) as refused:
        target.import_data(data)
    assert str(refused.value).startswith("bad catalog export") and "\n" not in str(refused.value)
    assert _empty(target)


# One edit of a valid export, as (row kind, field, new value) picks.
_NAMES = st.sampled_from(["production", "staging", "qa", "Bad Name", "", "x" * 70, "a\nb"])
_EDITS = st.one_of(
    st.tuples(st.just("stage_version"), st.integers(0, 3), st.integers(1, 6)),
    st.tuples(st.just("stage_name"), st.integers(0, 3), _NAMES),
    st.tuples(
        st.just("approval"),
        st.integers(0, 5),
        st.sampled_from(["pending", "approved", "rejected", "APPROVED", "", "ok"]),
    ),
    st.tuples(st.just("damage"), st.integers(0, 5), st.sampled_from([None, "truncated", 7])),
    st.tuples(st.just("archived"), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("model_name"), st.just(0), st.sampled_from(["churn2", "Churn", "-x", ""])),
    st.tuples(
        st.just("policy"),
        st.just(0),
        st.lists(st.sampled_from(["production", "staging", "qa", "BAD"]), max_size=3),
    ),
)


def _apply(data: dict[str, Any], edit: tuple[str, int, Any]) -> None:
    kind, i, value = edit
    stages, versions = data["stages"], data["versions"]
    if kind == "stage_version" and stages:
        stages[i % len(stages)]["version"] = ["churn", value]
    elif kind == "stage_name" and stages:
        stages[i % len(stages)]["name"] = value
    elif kind == "approval":
        versions[i % len(versions)]["approval_status"] = value
    elif kind == "damage":
        versions[i % len(versions)]["damage"] = value
    elif kind == "archived":
        versions[i % len(versions)]["archived"] = value
    elif kind == "model_name":
        data["models"][0]["name"] = value
    elif kind == "policy":
        data["settings"]["policy"] = {"protected_stages": value, "distinct_approver": False}


def test_generated_imports_are_clean_or_refused_whole(db_url: str, tmp_path: Path) -> None:
    base = _export(db_url, tmp_path)
    seen = {"ok": 0, "refused": 0}

    @settings(max_examples=examples(60), deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(_EDITS, min_size=1, max_size=3))
    def check(edits: list[tuple[str, int, Any]]) -> None:
        data = copy.deepcopy(base)
        for edit in edits:
            _apply(data, edit)
        n = sum(seen.values())
        target = _fresh(tmp_path, f"g{n}")
        try:
            target.import_data(data)
        except (PolicyRefused, UsageError) as exc:
            assert "\n" not in str(exc)
            assert _empty(target)
            seen["refused"] += 1
        else:
            seen["ok"] += 1
            _holders_ok(target)
            assert target.policy() == policy_from_json(data["settings"].get("policy"))
        finally:
            target.close()

    check()
    assert seen["refused"] and seen["ok"]
