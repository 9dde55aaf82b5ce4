"""`scan mlruns/` (and a watch on it) names each model after its MLflow experiment, as
the experiment's meta.yaml names it, not after the experiment's number; any other
numbered folder keeps its own name."""

from __future__ import annotations

from pathlib import Path

import pytest

from regtui.catalog.scan import scan
from regtui.catalog.service import Catalog
from regtui.inspect.layouts import model_for
from tests.unit.inspect.framework_files import mlflow_store

RUN = "0d9d8c6b5e4f4a3b2c1d0e9f8a7b6c5d"


def _store(tmp_path: Path, layout: int, meta: str | None) -> tuple[Path, Path]:
    model = mlflow_store(tmp_path, RUN, {"auc": [(1, 0.9, 0)]}, {"lr": "0.1"}, layout=layout)
    experiment = tmp_path / "mlruns" / "0"
    if meta is None:
        (experiment / "meta.yaml").unlink()
    else:
        (experiment / "meta.yaml").write_text(meta)
    return tmp_path / "mlruns", model


@pytest.mark.parametrize("layout", [2, 3])
@pytest.mark.parametrize(
    ("meta", "named"),
    [
        ("experiment_id: '0'\nname: Churn training\n", "Churn training"),
        ("experiment_id: '0'\nname: Default\n", "Default"),
        ("experiment_id: 0\nname: '[b]x[/b] team:a'\n", "[b]x[/b] team:a"),
        ("experiment_id: '0'\nname: \"bad\\tname\\u202e\"\n", "bad-name"),
        ("experiment_id: '7'\nname: Elsewhere\n", "0"),  # not this folder's meta
        ("name: [unclosed\n", "0"),
        (None, "0"),
    ],
)
def test_a_model_in_an_mlflow_store_is_named_after_its_experiment(
    tmp_path: Path, layout: int, meta: str | None, named: str
) -> None:
    mlruns, model = _store(tmp_path, layout, meta)
    assert model_for(mlruns, model) == named
    assert model_for(mlruns / "0", model) == named if named != "0" else True
    with Catalog(tmp_path / "c.sqlite") as cat:
        items = scan(cat, [mlruns])
        assert [i.outcome for i in items] == ["registered"], items
        assert [m.name for m in cat.models()] == [named]


def test_the_name_follows_a_renamed_experiment(tmp_path: Path) -> None:
    mlruns, model = _store(tmp_path, 3, "experiment_id: '0'\nname: First\n")
    assert model_for(mlruns, model) == "First"
    (mlruns / "0" / "meta.yaml").write_text("experiment_id: '0'\nname: Second name\n")
    assert model_for(mlruns, model) == "Second name"


def test_a_numbered_folder_that_is_no_experiment_keeps_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "runs" / "2024" / "model.onnx"
    folder.parent.mkdir(parents=True)
    folder.write_bytes(b"x")
    assert model_for(tmp_path / "runs", folder) == "2024"
