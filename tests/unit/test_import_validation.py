"""`import` holds every field of every row to the rule the service writes it by:
a generated edit of a valid export (any field of any row replaced by hostile
text, a wrong type, a non-finite number, a bad hash, an unknown state; rows
duplicated, dropped or re-pointed) either imports into a catalog register and the
policy could have built, or is refused whole, in one line, with nothing written."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.catalog.import_check import FIELDS, Bad
from regtui.catalog.records import Policy
from regtui.catalog.refs import STAGE_NAME, Ref, check_model_name
from regtui.catalog.service import Catalog
from regtui.errors import NotFound, PolicyRefused, UsageError
from regtui.text import printable
from tests.support.hypothesis_runs import examples
from tests.unit.helpers import artifact, open_as

HTML = b"<!doctype html><title>Not Found</title>"

# Values no field may hold unless its rule says so: control characters, markup,
# bidi overrides, huge text, wrong types, non-finite and out-of-range numbers.
HOSTILE: list[Any] = [
    "\x1b[31mred\x1b[0m",
    "\x1b]0;title\x07",
    "[bold red]markup[/]",
    "abc\u202edcba",
    "a\nb",
    "",
    "x" * 300_000,
    "../../etc/passwd",
    "/tmp/./x/../y",
    "approved\x00",
    "APPROVED",
    "unknown",
    "deadbeef",
    "g" * 64,
    "2026-13-45T99:00:00Z",
    "2026-01-01T00:00:00",
    float("inf"),
    float("-inf"),
    float("nan"),
    1e308 * 10,
    -1,
    0,
    2**70,
    True,
    None,
    [],
    {},
    {"x": float("nan")},
    ["churn", 99],
    ["other", 1],
]


def populated(url: str, folder: Path, churn: str = "churn") -> Catalog:
    """Every row kind: models with descriptions and tags, approved, rejected,
    pending, damaged and archived versions, logged values, datasets, stage moves
    (promote, rollback, demote), a watch root and a policy. `churn` names the main model."""
    alice, bob = open_as(url, "alice"), open_as(url, "bob")
    data = artifact(folder, "train.csv", "a,b\n1,2\n")
    alice.register(artifact(folder, "m1.bin", "one"), churn, datasets=[data])
    alice.register(artifact(folder, "m2.bin", "two"), churn, metrics={"auc": 0.9})
    bad = folder / "m3.bin"
    bad.write_bytes(HTML)
    assert alice.register(bad, churn).damage
    alice.register(artifact(folder, "m4.bin", "four"), churn, params={"lr": 0.1})
    alice.register(artifact(folder, "f1.bin", "fraud"), "fraud")
    bob.approve(str(Ref(churn, 1)), "ok")
    bob.approve(str(Ref(churn, 4)), "ok")
    bob.reject(str(Ref(churn, 2)), "no")
    bob.promote(str(Ref(churn, 1)), "production")
    bob.promote(str(Ref(churn, 4)), "production")
    bob.rollback(churn, "production", reason="bad")
    bob.promote(str(Ref(churn, 4)), "staging")
    bob.demote(churn, "staging")
    bob.promote("fraud:1", "staging")
    alice.log(str(Ref(churn, 4)), metrics={"test_auc": 0.8}, reason="eval")
    alice.edit_model(churn, description="churn model", tags={"team": "growth"})
    alice.add_watch_root(folder, model=churn)
    bob.set_policy(Policy(("production", "release")))
    return alice


def _export(folder: Path) -> dict[str, Any]:
    return populated(str(folder / "src.sqlite"), folder).export_data()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _export(tmp_path_factory.mktemp("export"))


def _empty(cat: Catalog) -> bool:
    data = cat.export_data()
    return not data["models"] and not data["versions"] and not data["audit"]


def _sound(cat: Catalog) -> None:
    """What register and the policy allow, checked on what the catalog serves."""
    policy = cat.policy()
    for stage in policy.protected_stages:
        assert STAGE_NAME.fullmatch(stage)
    for m in cat.models():
        assert check_model_name(m.name) == m.name
        versions = cat.versions(m.name)
        assert sorted(v.version for v in versions) == list(range(1, len(versions) + 1))
        for v in versions:
            for text in (v.format, v.framework or "", v.approval.status, v.created_by):
                assert printable(text, one_line=True) == text
            assert v.approval.status in ("pending", "approved", "rejected")
            assert all(math.isfinite(x) for x in v.metrics.values())
            json.dumps(v.to_json(), allow_nan=False)
            for stage in v.stages:
                assert STAGE_NAME.fullmatch(stage)
        for stage in policy.protected_stages:
            try:
                v = cat.resolve(str(Ref(m.name, stage=stage)))
            except NotFound:
                continue
            assert v.approval.status == "approved" and not v.damage and not v.archived


def _refused_whole(target: Catalog, data: dict[str, Any]) -> str:
    with pytest.raises((UsageError, PolicyRefused)) as refused:
        target.import_data(data)
    text = str(refused.value)
    assert "\n" not in text and len(text) < 2000
    assert printable(text, 10_000, one_line=True) == text, "the report itself is escaped"
    assert _empty(target)
    return text


def test_a_clean_export_imports_exactly(base: dict[str, Any], tmp_path: Path) -> None:
    target = Catalog(tmp_path / "t.sqlite", user="alice")
    target.import_data(copy.deepcopy(base))
    again = target.export_data()
    assert {k: again[k] for k in again if k != "settings"} == {
        k: base[k] for k in base if k != "settings"
    }
    _sound(target)


# Each (section, field) of the export, for the families below.
FIELD_PICKS = [(kind, name) for kind, fields in FIELDS.items() for name in fields]


def _rows(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return data[kind]  # type: ignore[no-any-return]


@pytest.mark.parametrize("value", ["\x1b[2J", "onnx\u202e", "[red]x[/]", "x" * 70, "", 7])
def test_hostile_formats_are_refused_naming_the_row(
    base: dict[str, Any], tmp_path: Path, value: Any
) -> None:
    data = copy.deepcopy(base)
    data["versions"][1]["format"] = value
    text = _refused_whole(Catalog(tmp_path / "t.sqlite"), data)
    assert "versions[1].format" in text


def _renamed(base: dict[str, Any], value: Any) -> dict[str, Any]:
    """The export with its first model renamed in every row that names it."""
    old = base["models"][0]["name"]

    def rename(node: Any) -> Any:
        if isinstance(node, dict):
            named = ("model", "name")
            return {k: value if k in named and v == old else rename(v) for k, v in node.items()}
        if isinstance(node, list):
            if len(node) == 2 and node[0] == old and isinstance(node[1], int):
                return [value, node[1]]
            return [rename(x) for x in node]
        return node

    return {k: rename(v) for k, v in base.items()}


@pytest.mark.parametrize(
    "value", ["x\x1b", "x" * 129, " x", "x ", "", "a\u202eb", "a\nb", "a\u00a0b", 7, None]
)
def test_invalid_model_names_are_refused(base: dict[str, Any], tmp_path: Path, value: Any) -> None:
    text = _refused_whole(Catalog(tmp_path / "t.sqlite"), _renamed(base, value))
    assert "models[0].name" in text


@pytest.mark.parametrize("value", ["-x", "Churn Model v2", "..", "é", "team:churn", "a@b", '"q"'])
def test_names_as_people_write_them_round_trip(tmp_path: Path, value: str) -> None:
    data = populated(str(tmp_path / "src.sqlite"), tmp_path, churn=value).export_data()
    target = Catalog(tmp_path / "t.sqlite", user="alice")
    target.import_data(copy.deepcopy(data))
    assert value in [m.name for m in target.models()]
    again = target.export_data()
    assert {k: again[k] for k in again if k != "settings"} == {
        k: data[k] for k in data if k != "settings"
    }
    _sound(target)


def test_production_cannot_hold_an_unapproved_version(base: dict[str, Any], tmp_path: Path) -> None:
    """Marking production's version pending (with its decision removed, so the
    rows agree) is still refused by the policy."""
    data = copy.deepcopy(base)
    prod = next(s for s in data["stages"] if s["name"] == "production")
    model, n = prod["version"]
    v = next(v for v in data["versions"] if (v["model"], v["number"]) == (model, n))
    v.update(approval_status="pending", approval_by=None, approval_at=None, approval_reason=None)
    data["approvals"] = [a for a in data["approvals"] if a["version"] != [model, n]]
    with pytest.raises(PolicyRefused) as refused:
        Catalog(tmp_path / "t.sqlite").import_data(data)
    assert refused.value.rule == "protected-stage-needs-approval"


def test_an_approval_state_no_decision_records_is_refused(
    base: dict[str, Any], tmp_path: Path
) -> None:
    data = copy.deepcopy(base)
    pending = next(
        v for v in data["versions"] if v["approval_status"] == "pending" and not v["damage"]
    )
    pending.update(
        approval_status="approved", approval_by="mallory", approval_at=pending["created_at"]
    )
    text = _refused_whole(Catalog(tmp_path / "t.sqlite"), data)
    assert "no approval decision" in text


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda d: d["versions"].append(copy.deepcopy(d["versions"][0])), id="dup"),
        pytest.param(lambda d: d["versions"].pop(1), id="gap"),
        pytest.param(
            lambda d: d["versions"][1].update(sha256=d["versions"][0]["sha256"]), id="sha"
        ),
        pytest.param(lambda d: d["versions"][0].update(extra=1), id="unknown-field"),
        pytest.param(lambda d: d["versions"][0].pop("path"), id="missing-field"),
        pytest.param(lambda d: d["stages"][0].update(version=None), id="stage-not-where-moved"),
        pytest.param(lambda d: d.update(extra=[]), id="unknown-section"),
        # Rows edited beside the export's own log (each field valid on its own):
        pytest.param(lambda d: d["versions"][0].update(sha256="ab" * 32), id="sha-not-logged"),
        pytest.param(
            lambda d: d["versions"][1].update(path="/srv/other.bin"), id="path-not-logged"
        ),
        pytest.param(lambda d: d["versions"][1].update(archived=True), id="archived-not-logged"),
        pytest.param(lambda d: d["settings"].update({"a\x1bb": 1}), id="setting-key"),
        pytest.param(
            lambda d: d["settings"].update(policy={"protected_stages": [], "x": 1}), id="policy-key"
        ),
    ],
)
def test_rows_that_do_not_fit_together_are_refused(
    base: dict[str, Any], tmp_path: Path, edit: Any
) -> None:
    data = copy.deepcopy(base)
    edit(data)
    _refused_whole(Catalog(tmp_path / "t.sqlite"), data)


# Fields that hold free text as the service stores it (shown escaped, never acted
# on); every other field refuses control characters.
FREE_TEXT = {
    ("models", "description"), ("models", "tags"), ("versions", "description"), ("versions", "params"),
    ("versions", "tags"), ("versions", "meta"), ("versions", "lineage"),
    ("versions", "warnings"), ("versions", "approval_reason"), ("versions", "damage"),
    ("versions", "stored_path"), ("stage_moves", "reason"), ("approvals", "reason"),
    ("audit", "model"), ("audit", "target"), ("audit", "before"), ("audit", "after"),
    ("audit", "reason"), ("versions", "path"), ("watch_roots", "path"),
}  # fmt: skip


def _admits(kind: str, name: str, value: Any) -> bool:
    try:
        FIELDS[kind][name](value)
    except Bad:
        return False
    return True


def test_only_free_text_fields_admit_control_characters() -> None:
    for value in ("\x1b[31mred", "a\u202eb", "/x/\x1b]0;t\x07"):
        admitting = {(k, n) for k, n in FIELD_PICKS if _admits(k, n, value)}
        assert admitting <= FREE_TEXT


def test_every_field_refuses_hostile_values_on_both_backends(
    base: dict[str, Any], db_url: str
) -> None:
    """Each field of each row kind, set to each hostile value its rule refuses,
    is refused into one target (a refusal writes nothing, so the same empty
    catalog takes the next)."""
    target = open_as(db_url, "alice")
    refused = 0
    for kind, name in FIELD_PICKS:
        for value in HOSTILE:
            if _admits(kind, name, value):
                continue
            data = copy.deepcopy(base)
            _rows(data, kind)[-1][name] = value
            with pytest.raises((UsageError, PolicyRefused)) as exc:
                target.import_data(data)
            assert "\n" not in str(exc.value)
            assert f"{kind}[" in str(exc.value)
            refused += 1
    assert _empty(target)
    assert refused > 300
    target.import_data(copy.deepcopy(base))  # and the clean file still imports
    _sound(target)


# One generated edit: (section, row pick, field, value).
_VALUES = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=20),
    st.integers(),
    st.floats(),
    st.none(),
    st.booleans(),
)
_EDIT = st.tuples(st.sampled_from(FIELD_PICKS), st.integers(0, 20), _VALUES)


def test_generated_edits_import_soundly_or_are_refused_whole(
    base: dict[str, Any], tmp_path: Path
) -> None:
    seen = {"ok": 0, "refused": 0}

    @settings(max_examples=examples(80), deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(_EDIT, min_size=1, max_size=3), st.booleans())
    def check(edits: list[tuple[tuple[str, str], int, Any]], keep: bool) -> None:
        data = copy.deepcopy(base)
        for (kind, name), i, value in edits:
            rows = _rows(data, kind)
            if rows:
                # Sometimes write back a value the row already had in another row:
                # a plausible edit that only the cross-row checks can judge.
                other = rows[(i + 1) % len(rows)].get(name)
                rows[i % len(rows)][name] = other if keep else value
        target = Catalog(tmp_path / f"g{sum(seen.values())}.sqlite", user="alice")
        try:
            target.import_data(data)
        except (UsageError, PolicyRefused) as exc:
            assert "\n" not in str(exc)
            assert _empty(target)
            seen["refused"] += 1
        else:
            _sound(target)
            seen["ok"] += 1
        finally:
            target.close()

    check()
    assert seen["refused"]
