"""import-mlflow run again and again, interrupted, against changes on both sides, and
pointed at things that are not MLflow stores (an adversarial review's findings, each
as a family): a re-run finishes what an interrupted one left, brings what MLflow
added, never undoes what was decided here, never merges another version's run into
a version, never writes into a store it only reads, and never shows a password."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from regtui.catalog.refs import Ref
from regtui.catalog.service import Catalog
from regtui.from_mlflow import reader
from regtui.from_mlflow.importer import Importer, Outcome
from tests.support.mlflow_registry import CHURN, FRAUD, Made, client, make_registry

pytest.importorskip("mlflow")
pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def made_once(tmp_path_factory: pytest.TempPathFactory) -> Made:
    return make_registry(tmp_path_factory.mktemp("mlflow"))


@pytest.fixture
def made(made_once: Made, tmp_path: Path) -> Made:
    shutil.copy(made_once.folder / "mlflow.db", tmp_path / "mlflow.db")
    return Made(
        f"sqlite:///{tmp_path / 'mlflow.db'}", made_once.folder, dict(made_once.versions), {}
    )


def _run(db: Path, uri: str, **kw: object) -> Outcome:
    with Catalog(db, user="importer") as cat:
        return Importer(cat, reader.read(uri), **kw).run()  # type: ignore[arg-type]


def _ref(model: str, n: int) -> str:
    return str(Ref(model, n))


def test_an_interrupted_import_is_finished_by_the_next_run(
    made: Made, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped right after a version was registered (Ctrl-C): the next run gives it
    its description, archives it and keeps its copy, and brings the rest."""
    db = tmp_path / "c.sqlite"
    real = Catalog.edit_version

    def interrupted(self: Catalog, *a: object, **kw: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(Catalog, "edit_version", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _run(db, made.tracking_uri, copy_artifacts=True)
    monkeypatch.setattr(Catalog, "edit_version", real)
    with Catalog(db) as cat:
        assert [v.version for v in cat.versions(CHURN)] == [1, 2]  # v2 stopped half-done
        assert cat.get(_ref(CHURN, 2)).description is None
    again = _run(db, made.tracking_uri, copy_artifacts=True)
    assert not again.problems, again.problems
    with Catalog(db) as cat:
        assert cat.get(_ref(CHURN, 2)).description == "Retrained on March data."
        assert cat.get(_ref(CHURN, 1)).archived
        assert all(v.stored_path for m in (CHURN, FRAUD) for v in cat.versions(m))
        assert cat.verify_audit().ok
    assert not _run(db, made.tracking_uri, copy_artifacts=True).steps


def test_a_rerun_never_undoes_what_was_decided_here(made: Made, tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    _run(db, made.tracking_uri)
    with Catalog(db, user="reviewer") as cat:
        cat.promote(_ref(CHURN, 3), "champion", "local decision")
        cat.edit(Ref(CHURN), description="", untag=["team"])
        cat.edit_version(_ref(CHURN, 2), description="")
        cat.archive(_ref(CHURN, 1), "still used", archived=False)
        before = len(cat.audit_events())
    again = _run(db, made.tracking_uri)
    assert [s.action for s in again.steps] == ["kept-here"], again.steps
    assert "champion holds version 3, as set here" in again.steps[0].detail
    with Catalog(db) as cat:
        churn = next(m for m in cat.models() if m.name == CHURN)
        assert churn.stages["champion"] == 3 and not churn.description and "team" not in churn.tags
        assert not cat.get(_ref(CHURN, 2)).description and not cat.get(_ref(CHURN, 1)).archived
        assert len(cat.audit_events()) == before


def test_what_mlflow_changes_later_comes_over(made: Made, tmp_path: Path) -> None:
    """An alias moved in MLflow (and nothing moved here) moves the stage, stamped now."""
    db = tmp_path / "c.sqlite"
    _run(db, made.tracking_uri)
    client(made.tracking_uri).set_registered_model_alias(CHURN, "Champion", "3")
    again = _run(db, made.tracking_uri)
    assert [s.action for s in again.steps] == ["stage"]
    with Catalog(db) as cat:
        churn = next(m for m in cat.models() if m.name == CHURN)
        assert churn.stages["champion"] == 3
        moves = cat.stage_history(CHURN, "champion")
        assert moves[-1].at >= moves[0].at  # never back-dated before what came earlier


def test_the_same_bytes_in_another_version_keep_their_own_run(made: Made, tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    _run(db, made.tracking_uri)
    with Catalog(db) as cat:
        first = cat.get(_ref(CHURN, 1))
    cl = client(made.tracking_uri)
    run = cl.create_run(cl.get_experiment_by_name("training").experiment_id)
    cl.log_metric(run.info.run_id, "auc", 0.99)
    cl.create_model_version(CHURN, source=made.versions[(CHURN, 1)].source, run_id=run.info.run_id)
    again = _run(db, made.tracking_uri)
    assert [s.action for s in again.steps] == ["same-bytes"]
    with Catalog(db) as cat:
        assert cat.get(_ref(CHURN, 1)).metrics == first.metrics
        assert [v.version for v in cat.versions(CHURN)] == [1, 2, 3]


@pytest.mark.parametrize("spelling", ["{dir}//mlflow.db", "{dir}/./mlflow.db", "{link}/mlflow.db"])
def test_the_same_registry_spelled_otherwise_is_the_same_registry(
    made: Made, tmp_path: Path, spelling: str
) -> None:
    db = tmp_path / "c.sqlite"
    _run(db, made.tracking_uri)
    (tmp_path / "link").symlink_to(tmp_path)
    other = "sqlite:///" + spelling.format(dir=tmp_path, link=tmp_path / "link")
    again = _run(db, other)
    assert not again.steps and again.already == 4


def test_aliases_meeting_on_one_stage_or_a_missing_version_are_said(
    made: Made, tmp_path: Path
) -> None:
    cl = client(made.tracking_uri)
    cl.set_registered_model_alias(CHURN, "Prod", "1")
    cl.set_registered_model_alias(CHURN, "prod", "3")
    gone = tmp_path / "gone"
    shutil.copytree(made.versions[(CHURN, 1)].source, gone)
    mv = cl.create_model_version(CHURN, source=str(gone))
    cl.set_registered_model_alias(CHURN, "Shadow", mv.version)
    shutil.rmtree(gone)
    db = tmp_path / "c.sqlite"
    out = _run(db, made.tracking_uri)
    problems = " | ".join(p.detail for p in out.problems)
    assert "all map to stage prod" in problems
    assert f"MLflow version {mv.version}: its files at" in problems and "missing" in problems
    assert "shadow not set" in problems
    with Catalog(db) as cat:
        churn = next(m for m in cat.models() if m.name == CHURN)
        assert "prod" not in churn.stages and "shadow" not in churn.stages


def test_names_that_look_like_refs_get_their_own_facts(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    cl = client(uri)
    folder = tmp_path / "m"
    folder.mkdir()
    names = [
        "team",
        "team@churn",
        '"quoted',
        "[@click=app.quit]q",
        "Churn Model v2",
    ]  # MLflow refuses ':' and '/'
    for i, name in enumerate(names):
        cl.create_registered_model(name, description=f"about {name}", tags={"i": str(i)})
        src = folder / str(i)
        src.mkdir()
        (src / "MLmodel").write_text(f"flavors: {{}}\nmodel_uuid: '{i:032x}'\n")
        (src / "weights.bin").write_bytes(bytes([i]) * 64)
        cl.create_model_version(name, source=str(src))
    cl.set_registered_model_alias("team", "churn", "1")
    db = tmp_path / "c.sqlite"
    out = _run(db, uri)
    assert not out.problems, out.problems
    with Catalog(db) as cat:
        got = {m.name: (m.description, m.tags) for m in cat.models()}
        assert got == {n: (f"about {n}", {"i": str(i)}) for i, n in enumerate(names)}
        assert cat.get(str(Ref("team", stage="churn"))).model == "team"


def test_a_dry_run_names_the_versions_each_becomes(made: Made, tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    out = _run(db, made.tracking_uri, dry_run=True)
    details = [s.detail for s in out.steps if s.action == "version"]
    assert details[0].startswith(f"MLflow version 1 -> {CHURN}:1")
    assert any(d.startswith(f"MLflow version 1 -> {FRAUD}:1") for d in details)


def test_a_long_registry_path_keeps_every_reason_importable(tmp_path: Path) -> None:
    """The audit reason names the registry clipped, so an export imports back."""
    deep = tmp_path / ("d" * 200) / ("e" * 200)
    made = make_registry(deep)
    db = tmp_path / "c.sqlite"
    assert not _run(db, made.tracking_uri).problems
    with Catalog(db) as cat:
        data = cat.export_data()
    with Catalog(tmp_path / "again.sqlite") as fresh:
        fresh.import_data(data)


def _digest(path: Path) -> str:
    if path.is_dir():
        return "|".join(sorted(str(p.relative_to(path)) for p in path.rglob("*")))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("make", "uri"),
    [
        ("nothing", "sqlite+pysqlite:///{tmp}/missing.db"),
        ("app-db", "sqlite:///{tmp}/app.db"),
        ("app-db", "sqlite+pysqlite:///{tmp}/app.db"),
        ("catalog", "sqlite:///{tmp}/catalog.sqlite"),
        ("folder", "{tmp}/plain"),
        ("folder", "file://{tmp}/plain"),
        ("nothing", "http://bob:HttpPW@127.0.0.1:1"),
        ("nothing", "postgresql+psycopg://bob:S3cretPW@127.0.0.1:1/mlf"),
        ("nothing", "http://[::1"),
    ],
)
def test_what_is_not_an_mlflow_store_is_refused_and_left_as_it_was(
    tmp_path: Path, make: str, uri: str
) -> None:
    target: Path | None = None
    if make == "app-db":
        target = tmp_path / "app.db"
        with sqlite3.connect(target) as con:
            con.execute("CREATE TABLE users (id INTEGER)")
    elif make == "catalog":
        target = tmp_path / "catalog.sqlite"
        Catalog(target).close()
    elif make == "folder":
        target = tmp_path / "plain"
        target.mkdir()
        (target / "notes.txt").write_text("mine")
    before = _digest(target) if target else None
    env = {**os.environ, "REGTUI_DB": str(tmp_path / "c.sqlite")}
    done = subprocess.run(
        [sys.executable, "-m", "regtui", "import-mlflow", uri.format(tmp=tmp_path)],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("regtui: error:")]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "PW" not in done.stderr and "PW" not in done.stdout
    if target is not None:
        assert _digest(target) == before
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "mlflow.db").exists()
    assert not (tmp_path / "c.sqlite").exists()


def test_the_plugin_hides_a_catalog_password_and_names_bad_versions() -> None:
    from mlflow.exceptions import MlflowException

    from regtui.mlflow_plugin.store import RegtuiRegistryStore

    with pytest.raises(MlflowException) as caught:
        RegtuiRegistryStore("regtui:postgresql://bob:S3cretPW@127.0.0.1:1/db")
    assert "S3cretPW" not in str(caught.value)


def test_the_plugin_refuses_a_version_that_is_no_number(made: Made, tmp_path: Path) -> None:
    from mlflow.exceptions import MlflowException

    from regtui.mlflow_plugin.store import RegtuiRegistryStore

    db = tmp_path / "c.sqlite"
    _run(db, made.tracking_uri)
    store = RegtuiRegistryStore(f"regtui:{db}")
    with pytest.raises(MlflowException, match="not a number"):
        store.get_model_version(CHURN, "abc")
    assert store.get_model_version(CHURN, "2").version == 2
