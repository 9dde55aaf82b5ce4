"""Metrics and params that arrive after registration (`Catalog.log`) and the
same bytes registered again: attached, indexed, audited with before/after."""

from __future__ import annotations

import itertools
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui import Registry
from regtui.catalog.service import Catalog
from regtui.errors import CatalogError, UsageError
from tests.support.hypothesis_runs import examples
from tests.unit.helpers import artifact


def logged_events(cat: Catalog, ref: str) -> list[Any]:
    return [e for e in cat.audit_events(action="logged") if e.target == ref]


def test_log_adds_values_with_their_time_and_an_audited_before_after(
    db_url: str, tmp_path: Path
) -> None:
    cat = Catalog(db_url)
    v = cat.register(artifact(tmp_path, "m.bin", "M"), "churn", metrics={"auc": 0.8})
    assert v.logged == {}
    out = Registry(db_url).log(
        "churn:1", metrics={"auc": 0.9, "f1": 0.7}, params={"eval": "q4"}, reason="holdout"
    )
    assert out.metrics == {"auc": 0.9, "f1": 0.7} and out.params == {"eval": "q4"}
    assert set(out.logged) == {"metrics.auc", "metrics.f1", "params.eval"}
    assert all(t.endswith("Z") for t in out.logged.values())
    (event,) = logged_events(cat, "churn:1")
    assert event.before == {"metrics": {"auc": 0.8, "f1": None}, "params": {"eval": None}}
    assert event.after == {"metrics": {"auc": 0.9, "f1": 0.7}, "params": {"eval": "q4"}}
    assert event.reason == "holdout" and event.model == "churn"
    assert cat.verify_audit().ok
    # The metric index follows: filters see logged values, and no longer the old ones.
    assert [x.version for x in cat.versions("churn", where="metrics.f1 > 0.6")] == [1]
    assert [x.version for x in cat.versions("churn", where="metrics.auc > 0.85")] == [1]
    assert cat.versions("churn", where="metrics.auc < 0.85") == []
    assert cat.metric_series("churn", "f1")[2] == [0.7]


def test_log_is_idempotent_and_refuses_bad_input(db_url: str, tmp_path: Path) -> None:
    cat = Catalog(db_url)
    cat.register(artifact(tmp_path, "m.bin", "M"), "churn")
    first = cat.log("churn:1", metrics={"auc": 0.9})
    events = cat.verify_audit().events
    again, changed = cat.log_changes("churn:1", metrics={"auc": 0.9})
    assert changed is None and again.logged == first.logged
    assert cat.verify_audit().events == events  # nothing changed: no event
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(UsageError, match="finite"):
            cat.log("churn:1", metrics={"auc": bad})
    with pytest.raises(UsageError, match="finite"):
        cat.log("churn:1", params={"lr": math.nan})
    with pytest.raises(UsageError, match="must be a number"):
        cat.log("churn:1", metrics={"auc": "high"})
    with pytest.raises(UsageError, match="at least one"):
        cat.log("churn:1")
    assert cat.get("churn:1").metrics == {"auc": 0.9}
    assert cat.verify_audit().events == events


def test_log_refused_on_a_read_only_catalog(sqlite_path: str, tmp_path: Path) -> None:
    Catalog(sqlite_path).register(artifact(tmp_path, "m.bin", "M"), "churn")
    ro = Catalog(sqlite_path, read_only=True)
    with pytest.raises(CatalogError, match="read-only"):
        ro.log("churn:1", metrics={"auc": 0.9})
    assert Catalog(sqlite_path).get("churn:1").metrics == {}


def test_same_bytes_again_merges_sidecar_values_without_overwriting(
    db_url: str, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    model = artifact(run, "model.bin", "weights")
    cat = Catalog(db_url)
    v1 = cat.register(model, "churn", metrics={"auc": 0.8})
    # Later the run writes its metrics.json: a sidecar adds what the version lacks,
    # and never overwrites a value it has.
    artifact(run, "metrics.json", '{"auc": 0.1, "loss": 0.3}')
    cand = cat.prepare(model, "churn")
    (result,) = cat.add_candidates([cand])
    assert not result.created and result.version.version == v1.version
    assert result.merged == {"metrics": {"loss": 0.3}, "how": "registered again"}
    assert result.version.metrics == {"auc": 0.8, "loss": 0.3}
    # Explicit values replace.
    (result,) = cat.add_candidates([cat.prepare(model, "churn", metrics={"auc": 0.95})])
    assert result.merged is not None and result.merged["metrics"] == {"auc": 0.95}
    assert result.version.metrics == {"auc": 0.95, "loss": 0.3}
    events = logged_events(cat, "churn:1")
    assert [e.after["metrics"] for e in events] == [{"loss": 0.3}, {"auc": 0.95}]
    assert events[1].before == {"metrics": {"auc": 0.8}}
    assert all(e.after["how"] == "registered again" for e in events)
    assert cat.verify_audit().ok
    # Nothing new: nothing merged, no event.
    (result,) = cat.add_candidates([cat.prepare(model, "churn")])
    assert result.merged is None and len(logged_events(cat, "churn:1")) == 2


KEYS = st.sampled_from(["auc", "loss", "f1", "acc.top5"])
FINITE = st.floats(allow_nan=False, allow_infinity=False, width=32)
STEP = st.tuples(
    st.dictionaries(KEYS, FINITE, max_size=3),
    st.dictionaries(
        st.sampled_from(["lr", "opt"]),
        # no NUL: no catalog stores one (tests/unit/test_nul_text.py)
        st.integers(-5, 5) | st.text(st.characters(exclude_characters="\x00"), max_size=4),
    ),
).filter(lambda s: bool(s[0] or s[1]))


@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(initial=st.dictionaries(KEYS, FINITE, max_size=2), steps=st.lists(STEP, max_size=6))
def test_log_sequences_end_at_the_last_value_and_replay_from_the_audit(
    initial: dict[str, float], steps: list[tuple[dict[str, float], dict[str, Any]]]
) -> None:
    cat, folder = _shared_catalog()
    n = next(_counter)
    v = cat.register(artifact(folder, f"m{n}.bin", f"model {n}"), "fam", metrics=initial)
    expect_m, expect_p = dict(initial), {}
    for metrics, params in steps:
        cat.log(v.ref, metrics=metrics, params=params)
        expect_m.update(metrics)
        expect_p.update(params)
    final = cat.get(v.ref)
    assert final.metrics == expect_m and final.params == expect_p
    # Every key logged with a value that changed has a time; keys from registration
    # that were never changed have none.
    changed = {f"metrics.{k}" for k in expect_m if initial.get(k) != expect_m[k]}
    assert changed <= set(final.logged)
    # Replaying the audit events from the registered state gives the final state,
    # and each event's `before` is the state it found.
    state_m, state_p = dict(initial), {}
    for e in logged_events(cat, v.ref):
        for kind, state in (("metrics", state_m), ("params", state_p)):
            for k, old in e.before.get(kind, {}).items():
                assert state.get(k) == old
            state.update(e.after.get(kind, {}))
    assert state_m == final.metrics and state_p == final.params
    # The index agrees with the record for every metric.
    for k, x in final.metrics.items():
        hits = cat.versions("fam", where=f'metrics."{k}" = {x!r}')
        assert v.version in [h.version for h in hits]


_counter = itertools.count()
_shared: list[tuple[Catalog, Path]] = []


def _shared_catalog() -> tuple[Catalog, Path]:
    """One catalog for the whole generated family (each example its own version)."""
    if not _shared:
        folder = Path(tempfile.mkdtemp(prefix="regtui-log-"))
        _shared.append((Catalog(folder / "c.sqlite", user="tester"), folder))
    return _shared[0]


@pytest.mark.parametrize("repeats", [2, 3])
def test_the_same_bytes_twice_in_one_batch_merge_into_the_new_version(
    db_url: str, tmp_path: Path, repeats: int
) -> None:
    """The second copy merges into a version written moments before in the same
    transaction: its index rows must be replaced, not duplicated."""
    cat = Catalog(db_url)
    train = artifact(tmp_path, "train.csv", "rows")
    cands = [
        cat.prepare(
            artifact(tmp_path, f"copy{i}.bin", "same bytes"),
            "churn",
            metrics={"auc": 0.5 + i / 10, f"only{i}": float(i)},
            datasets=[train] if i == 0 else [f"s3://b/extra{i}"],
        )
        for i in range(repeats)
    ]
    results = cat.add_candidates(cands)
    assert [r.created for r in results] == [True] + [False] * (repeats - 1)
    v = cat.get("churn:1")
    last = 0.5 + (repeats - 1) / 10
    assert v.metrics["auc"] == last and all(f"only{i}" in v.metrics for i in range(repeats))
    assert [x.ref for x in cat.versions(where=f"metrics.auc = {last}")] == ["churn:1"]
    assert cat.versions(where="metrics.auc = 0.5") == []
    assert len(v.datasets) == repeats
    for ds in v.datasets:
        assert [x.ref for x in cat.versions(where=f"dataset = '{ds['ref']}'")] == ["churn:1"]
    assert cat.verify_audit().ok
