"""MLflow's own client reading a regtui catalog through the registry-store plugin
(`MLFLOW_REGISTRY_URI=regtui:<catalog>`), run as serving code would run it, in its own
process: models load by alias (= stage), version, legacy stage and `latest`, predict
as the originals do, search answers as `regtui versions` does, writes are refused
naming the regtui command, and loading leaves every artifact as regtui verified it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from regtui.catalog.service import Catalog
from regtui.from_mlflow import reader
from regtui.from_mlflow.importer import Importer
from tests.support.mlflow_registry import CHURN, FRAUD, Made, make_registry

pytest.importorskip("mlflow")
pytest.importorskip("sklearn")

PROBE = textwrap.dedent(
    """
    import json, sys
    import mlflow, numpy as np
    from mlflow import MlflowClient
    x = np.array([[0.0, 1.0], [2.5, 1.0], [5.0, 0.0]])
    out = {}
    for uri in sys.argv[2:]:
        try:
            out[uri] = mlflow.pyfunc.load_model(uri).predict(x).tolist()
        except Exception as exc:
            out[uri] = "error: " + str(exc).splitlines()[0]
    c = MlflowClient()
    out["search"] = [
        [mv.name, int(mv.version), mv.run_id, mv.source, sorted(mv.aliases), mv.current_stage]
        for mv in c.search_model_versions("name='%s'" % sys.argv[1])
    ]
    out["model"] = [c.get_registered_model(sys.argv[1]).description]
    out["alias"] = int(c.get_model_version_by_alias(sys.argv[1], "Champion").version)
    out["download"] = c.get_model_version_download_uri(sys.argv[1], "2")
    for name, call in [
        ("alias", lambda: c.set_registered_model_alias(sys.argv[1], "x", "1")),
        ("version", lambda: c.create_model_version(sys.argv[1], "/tmp/x")),
        ("stage", lambda: c.transition_model_version_stage(sys.argv[1], "1", "Production")),
    ]:
        try:
            call()
            out["write-" + name] = "done"
        except Exception as exc:
            out["write-" + name] = str(exc)
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[Made, Path]:
    made = make_registry(tmp_path_factory.mktemp("mlflow"))
    db = tmp_path_factory.mktemp("catalog") / "c.sqlite"
    with Catalog(db, user="importer") as cat:
        outcome = Importer(cat, reader.read(made.tracking_uri)).run()
        assert not outcome.problems, outcome.problems
    return made, db


def _probe(db: Path, tmp_path: Path, *uris: str, model: str = CHURN) -> dict[str, Any]:
    env = {
        **os.environ,
        "MLFLOW_REGISTRY_URI": f"regtui:{db}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'unused.db'}",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, model, *uris],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _predicted(made: Made, model: str, n: int) -> list[int]:
    import mlflow.pyfunc
    import numpy as np

    x = np.array([[0.0, 1.0], [2.5, 1.0], [5.0, 0.0]])
    source = made.versions[(model, n)].source
    return mlflow.pyfunc.load_model(source).predict(x).tolist()  # type: ignore[no-any-return]


def test_models_load_by_alias_version_stage_and_latest_and_predict_alike(
    served: tuple[Made, Path], tmp_path: Path
) -> None:
    made, db = served
    uris = {
        f"models:/{CHURN}@Champion": (CHURN, 2),
        f"models:/{CHURN}@champion": (CHURN, 2),
        f"models:/{CHURN}/3": (CHURN, 3),
        f"models:/{CHURN}/Staging": (CHURN, 3),
        f"models:/{CHURN}/latest": (CHURN, 3),
        f"models:/{FRAUD}@production": (FRAUD, 1),
        f"models:/{FRAUD}/Production": (FRAUD, 1),
    }
    out = _probe(db, tmp_path, *uris)
    for uri, (model, n) in uris.items():
        assert out[uri] == _predicted(made, model, n), uri
    with Catalog(db) as cat:
        checks = cat.verify_artifacts()
        assert checks and all(c.state == "ok" for c in checks), checks  # nothing written into them


def test_search_and_reads_answer_as_regtui_does(served: tuple[Made, Path], tmp_path: Path) -> None:
    _, db = served
    out = _probe(db, tmp_path)
    with Catalog(db) as cat:
        versions = cat.versions(CHURN)
        expected = sorted(
            [[v.model, v.version, v.lineage["run_id"], v.path, sorted(v.stages)] for v in versions],
            key=lambda r: -r[1],
        )
        assert [row[:5] for row in out["search"]] == expected
        stages = {row[1]: row[5] for row in out["search"]}
        assert stages == {3: "Staging", 2: "None", 1: "Archived"}
        assert out["model"] == ["Predicts churn."]
        assert out["alias"] == 2
        copy = Path(out["download"])
        assert copy.is_dir() and (copy / "MLmodel").is_file()
        assert copy.is_relative_to(tmp_path / "cache")  # a copy, never the verified bytes


def test_writes_are_refused_naming_the_regtui_command(
    served: tuple[Made, Path], tmp_path: Path
) -> None:
    _, db = served
    out = _probe(db, tmp_path)
    assert "regtui promote" in out["write-alias"]
    assert "regtui register" in out["write-version"]
    assert "regtui promote" in out["write-stage"]
    with Catalog(db) as cat:
        assert cat.models()[0].stages == {"champion": 2, "staging": 3}


def test_a_changed_artifact_is_not_served(served: tuple[Made, Path], tmp_path: Path) -> None:
    made, db = served
    source = Path(made.versions[(CHURN, 3)].source)
    extra = source / "planted.txt"
    extra.write_text("changed after registration")
    try:
        out = _probe(db, tmp_path, f"models:/{CHURN}/3")
        assert out[f"models:/{CHURN}/3"].startswith("error:")
        assert "not served" in out[f"models:/{CHURN}/3"]
    finally:
        extra.unlink()
