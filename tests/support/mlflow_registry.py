"""A real MLflow registry on a SQLite tracking store, made by MLflow's own client, for
the import-mlflow and plugin tests: two models with mixed-case names, four versions,
an alias, legacy stages, descriptions, tags, and runs with metrics and params."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Made:
    tracking_uri: str
    folder: Path
    # (model, MLflow version) -> what MLflow recorded for it
    versions: dict[tuple[str, int], Any]
    runs: dict[tuple[str, int], Any]


CHURN = "Churn Model"
FRAUD = "Fraud Detector v2"


def client(tracking_uri: str) -> Any:
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def sklearn_model(folder: Path, c: float) -> Path:
    """A fitted LogisticRegression saved as an MLflow model folder (skops, no pickle)."""
    import mlflow.sklearn
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0], [4.0, 1.0], [5.0, 0.0]])
    y = np.array([0, 0, 0, 1, 1, 1])
    model = LogisticRegression(C=c).fit(x, y)
    # explicit requirements: inferring them imports half the environment (seconds each)
    mlflow.sklearn.save_model(
        model, folder, serialization_format="skops", pip_requirements=["scikit-learn", "skops"]
    )
    return folder


def add_version(
    made: Made, model: str, c: float, *, user: str, metrics: dict[str, list[float]], **kw: Any
) -> Any:
    """A run (user, metrics logged step by step, params, a git commit) and a version
    of `model` from a new model folder."""
    cl = client(made.tracking_uri)
    exp = cl.get_experiment_by_name("training") or None
    eid = exp.experiment_id if exp else cl.create_experiment("training")
    run = cl.create_run(eid, tags={"mlflow.user": user, "mlflow.source.git.commit": "ab" * 20})
    for key, values in metrics.items():
        for step, value in enumerate(values):
            cl.log_metric(run.info.run_id, key, value, step=step)
    cl.log_param(run.info.run_id, "C", str(c))
    cl.log_param(run.info.run_id, "solver", "lbfgs")
    cl.set_terminated(run.info.run_id)
    n = len([k for k in made.versions if k[0] == model]) + 1
    folder = sklearn_model(made.folder / "artifacts" / f"{model.replace(' ', '_')}-{n}", c)
    mv = cl.create_model_version(model, source=str(folder), run_id=run.info.run_id, **kw)
    made.versions[(model, int(mv.version))] = mv
    made.runs[(model, int(mv.version))] = cl.get_run(run.info.run_id)
    return mv


def make_registry(folder: Path) -> Made:
    folder.mkdir(parents=True, exist_ok=True)
    made = Made(f"sqlite:///{folder / 'mlflow.db'}", folder, {}, {})
    cl = client(made.tracking_uri)
    cl.create_registered_model(CHURN, tags={"team": "growth"}, description="Predicts churn.")
    cl.create_registered_model(FRAUD, description="Flags fraud.")
    add_version(made, CHURN, 0.5, user="alice", metrics={"auc": [0.7, 0.8]})
    add_version(
        made,
        CHURN,
        1.0,
        user="bob",
        metrics={"auc": [0.75, 0.86], "loss": [0.4]},
        description="Retrained on March data.",
        tags={"validated": "yes"},
    )
    add_version(made, CHURN, 2.0, user="alice", metrics={"auc": [0.84]})
    add_version(made, FRAUD, 1.0, user="carol", metrics={"f1": [0.6, 0.7]})
    cl.set_registered_model_alias(CHURN, "Champion", "2")
    cl.transition_model_version_stage(CHURN, "3", "Staging")
    cl.transition_model_version_stage(CHURN, "1", "Archived")
    cl.transition_model_version_stage(FRAUD, "1", "Production")
    for key in list(made.versions):  # as they are now, stages and aliases included
        made.versions[key] = cl.get_model_version(key[0], str(key[1]))
    return made
