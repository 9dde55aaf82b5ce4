"""`regtui import-mlflow` against a real MLflow registry (SQLite tracking store, made
by MLflow's own client): everything comes over with its times and authors, every
change says it was imported and from where, a second run brings nothing, a new
MLflow version comes alone, --dry-run changes nothing, --copy-artifacts keeps copies
that outlive MLflow's folders."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from regtui.catalog.refs import Ref
from regtui.catalog.service import Catalog
from regtui.from_mlflow import reader
from regtui.from_mlflow.importer import Importer
from tests.support.mlflow_registry import CHURN, FRAUD, Made, add_version, make_registry

pytest.importorskip("mlflow")
pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def made_once(tmp_path_factory: pytest.TempPathFactory) -> Made:
    return make_registry(tmp_path_factory.mktemp("mlflow"))


@pytest.fixture
def made(made_once: Made, tmp_path: Path) -> Made:
    """A copy of the registry's database for one test (the model folders are shared)."""
    shutil.copy(made_once.folder / "mlflow.db", tmp_path / "mlflow.db")
    return Made(
        f"sqlite:///{tmp_path / 'mlflow.db'}",
        made_once.folder,
        dict(made_once.versions),
        dict(made_once.runs),
    )


def _cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REGTUI_DB": str(db), "REGTUI_USER": "importer"}
    cmd = [sys.executable, "-m", "regtui", *args]
    # run beside the catalog: a store MLflow made by default (./mlflow.db) would show there
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=db.parent)


def _import(db: Path, made: Made, *more: str) -> subprocess.CompletedProcess[str]:
    done = _cli(db, "import-mlflow", made.tracking_uri, *more)
    assert done.returncode == 0, done.stderr
    return done


def _ms(ts: datetime) -> int:
    return round(ts.astimezone(UTC).timestamp() * 1000)


def test_everything_comes_over_with_its_times_and_authors(made: Made, tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    _import(db, made)
    with Catalog(db) as cat:
        models = {m.name: m for m in cat.models()}
        assert set(models) == {CHURN, FRAUD}
        assert models[CHURN].description == "Predicts churn."
        assert models[CHURN].tags == {"team": "growth"}
        assert models[FRAUD].description == "Flags fraud."
        assert models[CHURN].stages == {"champion": 2, "staging": 3}
        assert models[FRAUD].stages == {"production": 1}
        for (model, n), mv in made.versions.items():
            v = cat.get(_ref(model, n))
            run = made.runs[(model, n)]
            assert v.version == n
            assert _ms(v.created_at) == mv.creation_timestamp
            assert v.created_by == run.data.tags["mlflow.user"]
            assert v.description == (mv.description or None)
            assert v.tags == dict(mv.tags)
            assert v.metrics == run.data.metrics  # the latest value of each
            assert v.params == run.data.params
            assert v.lineage["run_id"] == run.info.run_id
            assert v.lineage["git_commit"] == "ab" * 20
            assert v.lineage["experiment"] == "training"
            assert v.lineage["mlflow"]["version"] == n
            assert v.format == "mlflow" and v.framework == "sklearn"
        assert cat.get(_ref(CHURN, 2)).metrics == {"auc": 0.86, "loss": 0.4}
        assert cat.get(_ref(CHURN, 1)).archived
        prod = cat.get(_ref(FRAUD, 1))
        assert prod.approval.status == "approved" and prod.approval.by == "importer"
        events = cat.audit_events()
        assert events and all("imported from MLflow" in (e.reason or "") for e in events)
        assert all(e.actor in {"alice", "bob", "carol", "importer"} for e in events)
        assert cat.verify_audit().ok
    assert _cli(db, "audit", "--verify").returncode == 0


def _ref(model: str, n: int) -> str:
    return str(Ref(model, n))


def test_a_second_run_brings_nothing_and_a_new_version_comes_alone(
    made: Made, tmp_path: Path
) -> None:
    db = tmp_path / "c.sqlite"
    _import(db, made)
    with Catalog(db) as cat:
        before = len(cat.audit_events())
    again = _import(db, made)
    assert "imported 0 versions, 0 stage moves, 0 model edits" in again.stdout
    assert "4 already imported" in again.stdout
    with Catalog(db) as cat:
        assert len(cat.audit_events()) == before
    mv = add_version(made, CHURN, 4.0, user="dave", metrics={"auc": [0.9]})
    third = _import(db, made)
    assert "imported 1 version," in third.stdout and "4 already imported" in third.stdout
    with Catalog(db) as cat:
        new = cat.get(_ref(CHURN, 4))
        assert new.created_by == "dave" and _ms(new.created_at) == mv.creation_timestamp
        assert len(cat.audit_events()) == before + 1  # its registration, nothing else
        assert [v.version for v in cat.versions(CHURN)] == [1, 2, 3, 4]


def test_a_dry_run_prints_the_plan_and_changes_nothing(made: Made, tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    plan = _import(db, made, "--dry-run")
    assert "would import 4 versions, 3 stage moves, 2 model edits" in plan.stdout
    assert "champion" in plan.stdout and "MLflow alias Champion" in plan.stdout
    as_json = json.loads(_import(db, made, "--dry-run", "--json").stdout)
    assert as_json["dry_run"] is True
    assert {s["action"] for s in as_json["steps"]} == {"version", "stage", "model"}
    assert not db.exists()  # a plan makes no catalog
    _import(db, made, "--model", FRAUD)
    plan = _import(db, made, "--dry-run")  # against what is there now, read-only
    assert "would import 3 versions" in plan.stdout and "1 already imported" in plan.stdout
    db.unlink()
    for side in db.parent.glob(db.name + "*"):
        shutil.rmtree(side) if side.is_dir() else side.unlink()
    with Catalog(db) as cat:
        assert cat.models() == [] and cat.audit_events() == []


def test_only_the_named_models_come_over(made: Made, tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    _import(db, made, "--model", FRAUD)
    with Catalog(db) as cat:
        assert [m.name for m in cat.models()] == [FRAUD]
    missing = _cli(db, "import-mlflow", made.tracking_uri, "--model", "No Such")
    assert missing.returncode == 2 and "No Such" in missing.stderr


def test_copied_artifacts_outlive_mlflows_folders(made: Made, tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    _import(db, made, "--copy-artifacts", "--model", FRAUD)
    with Catalog(db) as cat:
        v = cat.get(_ref(FRAUD, 1))
        assert v.stored_path and any(e.action == "kept" for e in cat.audit_events())
    moved = tmp_path / "moved"
    shutil.move(v.path, moved)  # MLflow's folder cleaned away
    try:
        served = _cli(db, "resolve", f"{FRAUD}@production")
        assert served.returncode == 0, served.stderr
        assert Path(served.stdout.strip()).is_dir()
        assert (Path(served.stdout.strip()) / "MLmodel").is_file()
    finally:
        shutil.move(moved, v.path)


@pytest.mark.parametrize(
    "uri",
    [
        "sqlite:///{tmp}/no/such/folder/mlflow.db",
        "sqlite:///relative/none.db",
        "{tmp}/no-mlruns",
        "postgresql://user:s3cret@127.0.0.1:1/none",
        "http://127.0.0.1:1",
    ],
)
def test_an_unreadable_registry_is_one_line_and_makes_nothing(tmp_path: Path, uri: str) -> None:
    """MLflow would make an empty store (folders and all) where none is: not here."""
    uri = uri.format(tmp=tmp_path)
    done = _cli(tmp_path / "c.sqlite", "import-mlflow", uri)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("regtui: error:")]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "s3cret" not in done.stderr
    assert not (tmp_path / "no").exists() and not (tmp_path / "c.sqlite").exists()


def test_without_mlflow_installed_the_error_says_how_to_get_it(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['mlflow'] = None\n"
        "from regtui.cli.main import main\n"
        "sys.exit(main(['import-mlflow', 'sqlite:///x.db']))"
    )
    env = {**os.environ, "REGTUI_DB": str(tmp_path / "c.sqlite")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 2
    assert "pip install 'regtui[mlflow]'" in done.stderr


SERVED_MODEL = """
import sys
import mlflow, numpy as np
from sklearn.linear_model import LogisticRegression
mlflow.set_tracking_uri(sys.argv[1])
x, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
with mlflow.start_run():
    mlflow.log_metric("auc", 0.7)
    mlflow.sklearn.log_model(
        LogisticRegression().fit(x, y), name="model", registered_model_name="Remote Model",
        pip_requirements=["scikit-learn"], serialization_format="skops",
    )
"""


@pytest.fixture
def tracking_server(tmp_path: Path) -> Iterator[str]:
    """A real MLflow tracking server on 127.0.0.1 that proxies its artifacts
    (`mlflow-artifacts:` URIs: the files are not where the client can open them)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
         "--artifacts-destination", str(tmp_path / "served"), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the MLflow server did not start")
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def test_files_behind_a_tracking_server_come_over_with_copy_artifacts(
    tracking_server: str, tmp_path: Path
) -> None:
    logged = subprocess.run(
        [sys.executable, "-c", SERVED_MODEL, tracking_server],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert logged.returncode == 0, logged.stderr[-2000:]
    db = tmp_path / "c.sqlite"
    without = _cli(db, "import-mlflow", tracking_server)
    assert without.returncode == 6 and "--copy-artifacts downloads them" in without.stdout
    with Catalog(db) as cat:
        assert cat.models() == []  # nothing half-imported
    _import_uri(db, tracking_server, "--copy-artifacts")
    with Catalog(db) as cat:
        [v] = cat.versions("Remote Model")
        assert v.metrics == {"auc": 0.7} and v.format == "mlflow" and v.stored_path
        assert all(c.state == "ok" for c in cat.verify_artifacts())
    again = _import_uri(db, tracking_server, "--copy-artifacts")
    assert "1 already imported" in again.stdout
    assert not (tmp_path / "mlflow.db").exists()  # MLflow's default store was never made


def _import_uri(db: Path, uri: str, *more: str) -> subprocess.CompletedProcess[str]:
    done = _cli(db, "import-mlflow", uri, *more)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_the_import_lands_alike_on_both_backends(made: Made, db_url: str) -> None:
    """In-process, through the API: the same catalog on SQLite and on PostgreSQL (as
    a trusted session: writing other people's authorship needs one there)."""
    user = None if db_url.startswith("postgresql") else "importer"  # PostgreSQL: the role
    with Catalog(db_url, user=user) as cat:
        outcome = Importer(cat, reader.read(made.tracking_uri)).run()
        assert not outcome.problems, outcome.problems
        for (model, n), mv in made.versions.items():
            v = cat.get(_ref(model, n))
            assert _ms(v.created_at) == mv.creation_timestamp
            assert v.created_by == made.runs[(model, n)].data.tags["mlflow.user"]
        assert {m.name: m.stages for m in cat.models()} == {
            CHURN: {"champion": 2, "staging": 3},
            FRAUD: {"production": 1},
        }
        assert cat.verify_audit().ok
        assert not Importer(cat, reader.read(made.tracking_uri)).run().steps  # nothing twice
