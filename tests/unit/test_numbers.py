"""Numbers that JSON cannot hold (NaN, ±Infinity, 1e999, integers past float range)
never enter the catalog, from any entry, and `--json` output is always strict JSON.

The rule: a metric is a finite number; every number in a param, however nested,
is finite and within float range; anything else is refused with a one-line usage
error naming the key. Sidecars (untrusted files) are not refused: their
non-finite metrics are dropped and their params kept as text. An import file
holding one is refused whole, naming where.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.catalog.service import Catalog
from regtui.errors import UsageError
from regtui.inspect.bounds import is_finite_number, non_finite_at
from regtui.text import json_text
from tests.support.hypothesis_runs import examples
from tests.unit.helpers import artifact

NON_FINITE_VALUES: list[Any] = [
    float("inf"), float("-inf"), float("nan"), 10**400, -(10**400), 2**1024, 1.7e308,
]  # fmt: skip


def strict_loads(text: str) -> Any:
    """json.loads that refuses NaN/Infinity, as every other JSON parser does."""

    def refuse(name: str) -> Any:
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def nested(value: Any, shape: int) -> Any:
    return [value, {"x": value}, {"a": [1, {"b": value}]}, value][shape % 4]


@pytest.fixture
def cat(db_url: str, tmp_path: Path) -> Catalog:
    c = Catalog(db_url)
    c.register(artifact(tmp_path, "m1.bin", "one"), "m", metrics={"auc": 0.5})
    return c


@settings(max_examples=examples(40), deadline=None, suppress_health_check=list(HealthCheck))
@given(
    value=st.sampled_from(NON_FINITE_VALUES),
    shape=st.integers(0, 3),
    entry=st.sampled_from(["register", "log"]),
    kind=st.sampled_from(["metrics", "params"]),
)
def test_the_api_refuses_non_finite_numbers_naming_the_key(
    cat: Catalog, tmp_path: Path, value: Any, shape: int, entry: str, kind: str
) -> None:
    given_value = value if kind == "metrics" else nested(value, shape)
    values = {kind: {"good": 1.0, "bad_key": given_value}}
    before = cat.export_data()
    with pytest.raises(UsageError) as err:
        if entry == "register":
            cat.register(artifact(tmp_path, f"n{shape}.bin", f"x{shape}"), "m", **values)
        else:
            cat.log("m:1", reason="r", **values)
    assert "bad_key" in str(err.value) and "\n" not in str(err.value)
    assert cat.export_data()["versions"] == before["versions"]  # nothing written


@pytest.mark.parametrize("value", [1e308, -1e308, 10**300, 2**63 + 1, 0, -0.0, 5e-324])
def test_finite_numbers_at_the_edges_are_kept(cat: Catalog, value: Any) -> None:
    v = cat.log("m:1", metrics={"edge": value}, params={"p": {"deep": [value]}}, reason="r")
    # PostgreSQL's jsonb keeps 1e308 as the decimal 1000…0: the same number
    assert float(v.metrics["edge"]) == float(value)
    assert float(v.params["p"]["deep"][0]) == float(value)
    strict_loads(json_text(v.to_json()))


def test_sidecar_numbers_that_are_not_finite_never_reach_the_catalog(
    db_url: str, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_text(
        '{"auc": Infinity, "loss": NaN, "f1": 1e999, "big": ' + "9" * 400 + ', "ok": 0.5}'
    )
    (run / "params.json").write_text(
        '{"lr": -Infinity, "n": NaN, "deep": {"x": [1e999]}, "huge": ' + "9" * 400 + ', "k": 3}'
    )
    artifact(run, "model.safetensors", "weights")
    v = Catalog(db_url).register(run / "model.safetensors", "m")
    assert v.metrics == {"ok": 0.5}
    assert v.params["k"] == 3
    assert non_finite_at(v.to_json()) is None
    strict_loads(json_text(v.to_json()))


@pytest.mark.parametrize("spot", ["metrics", "params", "meta", "tags_value"])
@pytest.mark.parametrize("token", ["Infinity", "-Infinity", "NaN", "1e999", "9" * 400])
def test_an_import_file_with_a_non_finite_number_is_refused_whole(
    db_url: str, tmp_path: Path, spot: str, token: str
) -> None:
    source = Catalog(str(tmp_path / "src.sqlite"))
    source.register(artifact(tmp_path, "a.bin", "A"), "m", metrics={"auc": 0.5})
    data = source.export_data()
    version = data["versions"][0]
    if spot == "tags_value":
        data["models"][0]["tags"]["planted"] = ["PLANT"]
    else:
        version[spot]["planted"] = "PLANT"
    text = json.dumps(data).replace('"PLANT"', token)
    data = json.loads(text)  # Python's json reads all of these
    target = Catalog(db_url)
    with pytest.raises(UsageError) as err:
        target.import_data(data)
    assert "planted" in str(err.value) and "nothing was imported" in str(err.value)
    assert target.models() == []


def test_the_catalog_never_writes_json_with_nan_or_infinity(db_url: str, tmp_path: Path) -> None:
    """The backstop under every entry: the engine's JSON serializer refuses them."""
    from sqlalchemy import update

    from regtui.catalog.schema import VersionRow

    cat = Catalog(db_url)
    cat.register(artifact(tmp_path, "a.bin", "A"), "m")
    with cat.engine.begin() as conn, pytest.raises(Exception, match="not JSON compliant"):
        conn.execute(update(VersionRow.__table__).values(params={"lr": float("inf")}))


@pytest.mark.parametrize("value", [*NON_FINITE_VALUES, [1, {"a": float("nan")}]])
def test_is_finite_number_and_non_finite_at_agree(value: Any) -> None:
    assert non_finite_at({"k": value}) is not None
    if not isinstance(value, list):
        assert not is_finite_number(value)
