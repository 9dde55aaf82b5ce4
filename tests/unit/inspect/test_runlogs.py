"""What training writes around a model becomes its metrics and params: Lightning
run folders, Trainer checkpoints, Keras logs, MLflow runs, values in file names.
Layouts are generated (hypothesis) after the ones real libraries wrote."""

from __future__ import annotations

import json
import math
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regtui.catalog.scan import scan
from regtui.catalog.service import Catalog
from regtui.inspect import inspect_path
from regtui.inspect.runlogs import MAX_COLUMNS, name_values
from regtui.inspect.sidecars import SIDECAR_FILES, read_sidecars
from tests.unit.fuzz.support import fuzz_settings, inspect_checked, workdir, write
from tests.unit.inspect.framework_files import (
    hf_checkpoint,
    latest,
    lightning_ckpt,
    lightning_run,
    mlflow_store,
)
from tests.unit.inspect.helpers import safetensors_bytes

FINITE = st.floats(allow_nan=False, allow_infinity=False, width=64)
SMALL_FINITE = st.floats(-1e6, 1e6, allow_nan=False)
KEY = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True)
HPARAM = st.one_of(
    st.integers(-(10**6), 10**6),
    SMALL_FINITE,
    st.booleans(),
    st.text(alphabet=string.ascii_letters + " -_", max_size=10),
)


# ------------------------------------------------------------------ Lightning


@fuzz_settings(30)
@given(
    hparams=st.dictionaries(KEY, HPARAM, max_size=5),
    val_loss=st.lists(SMALL_FINITE, min_size=1, max_size=4),
    steps=st.integers(1, 5),
    log_every=st.integers(1, 3),
    naming=st.sampled_from(["default", "metric", "counters", "last"]),
    root_level=st.sampled_from(["above", "run"]),
)
def test_each_lightning_checkpoint_gets_hparams_and_its_epochs_row(
    hparams: dict[str, Any],
    val_loss: list[float],
    steps: int,
    log_every: int,
    naming: str,
    root_level: str,
) -> None:
    with workdir() as d:
        version = d / "logs" / "lightning_logs" / "version_0"
        run = lightning_run(
            version, hparams, val_loss, steps_per_epoch=steps, log_every=log_every, naming=naming
        )
        root = d if root_level == "above" else version
        for ckpt, (epoch, step) in run.checkpoints.items():
            facts = inspect_checked(ckpt, root=root)
            assert facts.params == hparams
            assert facts.metrics["val_loss"] == val_loss[epoch]
            assert facts.metrics["train_loss_epoch"] == float(epoch)
            assert (facts.metrics["epoch"], facts.metrics["step"]) == (epoch, step)
            assert facts.metadata["lightning"]["global_step"] == step


def test_lightning_values_in_the_name_count_but_the_logged_row_is_exact(tmp_path: Path) -> None:
    run = lightning_run(tmp_path / "v0", {"lr": 0.1}, [0.123456789, 0.5], naming="metric")
    first = next(iter(run.checkpoints))
    assert first.name == "epoch=0-step=3-val_loss=0.1235.ckpt"
    assert inspect_path(first).metrics["val_loss"] == 0.123456789
    # Without metrics.csv the name's rounded value is what there is.
    (tmp_path / "v0" / "metrics.csv").unlink()
    assert inspect_path(first).metrics["val_loss"] == 0.1235


def test_a_checkpoint_without_its_row_gets_the_runs_last_and_best_values(tmp_path: Path) -> None:
    run = lightning_run(tmp_path / "v0", {"lr": 0.1}, [0.9, 0.4, 0.6], naming="default")
    extra = tmp_path / "v0" / "checkpoints" / "manual.ckpt"  # written after the log ends
    extra.write_bytes(lightning_ckpt(7, 99))
    facts = inspect_path(extra)
    assert facts.metrics["val_loss"] == 0.6 and facts.metrics["best_val_loss"] == 0.4
    assert (facts.metrics["epoch"], facts.metrics["step"]) == (7, 99)  # its own counters
    assert len(run.checkpoints) == 3


def test_the_run_folder_is_not_looked_for_above_the_root_or_too_far_up(tmp_path: Path) -> None:
    run = lightning_run(tmp_path / "v0", {"lr": 0.1}, [0.5])
    ckpt = next(iter(run.checkpoints))
    assert inspect_path(ckpt, root=tmp_path / "v0" / "checkpoints").params == {}
    deep = tmp_path / "v0" / "checkpoints" / "a" / "b"
    deep.mkdir(parents=True)
    moved = ckpt.rename(deep / ckpt.name)
    assert inspect_path(moved).params == {}  # three folders up: not its run


def test_scan_of_a_lightning_run_makes_one_version_per_checkpoint(tmp_path: Path) -> None:
    run = lightning_run(
        tmp_path / "runs" / "lightning_logs" / "version_0", {"lr": 0.01}, [0.8, 0.6, 0.7],
        naming="last",
    )  # fmt: skip
    cat = Catalog(str(tmp_path / "c.sqlite"))
    items = scan(cat, [tmp_path / "runs"])
    assert sorted(i.outcome for i in items) == ["registered"] * len(run.checkpoints)
    versions = cat.versions("lightning_logs")
    assert len(versions) == 4
    for v in versions:
        epoch, _step = run.checkpoints[Path(v.path)]
        assert v.params == {"lr": 0.01}
        assert v.metrics["val_loss"] == [0.8, 0.6, 0.7][epoch]


# ------------------------------------------------------------ names carry values


@fuzz_settings(60)
@given(
    st.dictionaries(
        st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,10}", fullmatch=True),
        st.one_of(
            st.integers(-(10**9), 10**9).map(str),
            FINITE.map(lambda v: f"{v:.4f}"),
            FINITE.map(repr),
        ),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(["-", "_"]),
)
def test_key_value_parts_of_a_name_are_read_back(values: dict[str, str], sep: str) -> None:
    values = {k: v for k, v in values.items() if "inf" not in v and "nan" not in v}
    name = sep.join(f"{k}={v}" for k, v in values.items())
    assert name_values(name) == {k: float(v) for k, v in values.items()}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("epoch=2-step=30-val_loss=0.7062", {"epoch": 2, "step": 30, "val_loss": 0.7062}),
        ("epoch=2-val_loss=-0.5-v1", {"epoch": 2, "val_loss": -0.5}),
        ("lr=1e-05_bs=32", {"lr": 1e-05, "bs": 32}),
        ("last", {}),
        ("model-02-0.71", {}),  # Keras-style names say no keys
        ("a=1.5e", {}),
        ("x=" + "9" * 400, {}),  # beyond float range: not a finite number
    ],
)
def test_name_values_examples(name: str, expected: dict[str, float]) -> None:
    assert name_values(name) == expected


def test_values_in_a_file_name_become_metrics(tmp_path: Path) -> None:
    p = tmp_path / "run" / "lr=0.01-acc=0.93.safetensors"
    p.parent.mkdir()
    p.write_bytes(safetensors_bytes({"w": ("U8", [4])}))
    assert inspect_path(p).metrics == {"lr": 0.01, "acc": 0.93}


# ------------------------------------------------------------ Trainer checkpoints


@fuzz_settings(30)
@given(
    save_every=st.integers(1, 4),
    eval_every=st.integers(1, 4),
    steps=st.integers(1, 12),
    losses=st.lists(SMALL_FINITE, min_size=12, max_size=12),
)
def test_each_trainer_checkpoint_gets_the_eval_metrics_of_its_step(
    save_every: int, eval_every: int, steps: int, losses: list[float]
) -> None:
    with workdir() as d:
        out = d / "out"
        history: list[dict[str, Any]] = []
        for step in range(1, steps + 1):
            history.append({"loss": losses[step - 1] + 1, "step": step, "epoch": step / 10})
            if step % eval_every == 0:
                history.append({"eval_loss": losses[step - 1], "step": step, "epoch": step / 10})
            if step % save_every == 0:
                ckpt = hf_checkpoint(out, step, list(history))
                facts = inspect_checked(ckpt, root=d)
                evals = [h for h in history if "eval_loss" in h]
                if step % eval_every == 0:
                    assert facts.metrics["eval_loss"] == losses[step - 1]
                elif evals:
                    assert facts.metrics["eval_loss"] == evals[-1]["eval_loss"]
                else:
                    assert "eval_loss" not in facts.metrics
                assert facts.metrics["loss"] == losses[step - 1] + 1
                assert facts.metrics["global_step"] == step


def test_trainer_output_folder_reads_all_results_and_eval_results(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (out / "model.safetensors").write_bytes(safetensors_bytes({"w": ("U8", [4])}))
    (out / "all_results.json").write_text(json.dumps({"eval_loss": 0.3, "train_loss": 0.5}))
    (out / "eval_results.json").write_text(json.dumps({"eval_loss": 0.3, "eval_f1": 0.8}))
    facts = inspect_path(out, root=tmp_path)
    assert facts.metrics == {"eval_loss": 0.3, "train_loss": 0.5, "eval_f1": 0.8}


# ------------------------------------------------------------------------ Keras


@fuzz_settings(30)
@given(
    history=st.dictionaries(
        st.sampled_from(["loss", "accuracy", "val_loss", "val_accuracy", "val_mae", "lr"]),
        st.lists(
            st.one_of(SMALL_FINITE, st.just(math.nan), st.just(math.inf)), min_size=1, max_size=8
        ),
        min_size=1,
    ),
    as_csv=st.booleans(),
)
def test_keras_history_gives_last_values_and_the_best_of_val(
    history: dict[str, list[float]], as_csv: bool
) -> None:
    with workdir() as d:
        model = write(d / "run", "model.safetensors", safetensors_bytes({"w": ("U8", [4])}))
        if as_csv:
            n = max(len(v) for v in history.values())
            cols = sorted(history)
            rows = ["epoch," + ",".join(cols)]
            for i in range(n):
                cells = [repr(history[c][i]) if i < len(history[c]) else "" for c in cols]
                rows.append(f"{i}," + ",".join(cells))
            write(d / "run", "training.log", "\n".join(rows) + "\n")
        else:
            write(d / "run", "history.json", json.dumps(history))  # NaN as JSON's NaN
        facts = inspect_checked(model, root=d)
        for key, values in history.items():
            finite = [v for v in values if math.isfinite(v)]
            if not finite:
                assert key not in facts.metrics
                continue
            assert facts.metrics[key] == finite[-1]
            if key.startswith("val"):
                best = min(finite) if key in ("val_loss", "val_mae") else max(finite)
                assert facts.metrics[f"best_{key}"] == best


def test_keras_checkpoint_folder_gets_the_runs_logs(tmp_path: Path) -> None:
    run = tmp_path / "run"
    write(run, "history.json", json.dumps({"loss": [0.9, 0.5], "val_loss": [0.8, 0.85]}))
    ckpt = write(run / "ckpt", "model-02.safetensors", safetensors_bytes({"w": ("U8", [4])}))
    facts = inspect_path(ckpt, root=tmp_path)
    assert facts.metrics == {"loss": 0.5, "val_loss": 0.85, "best_val_loss": 0.8}


# ----------------------------------------------------------------------- MLflow


@fuzz_settings(25)
@given(
    metrics=st.dictionaries(
        st.sampled_from(["acc", "loss", "val/loss", "a/b/c"]),
        st.lists(
            st.tuples(
                st.integers(0, 10**13),
                st.one_of(SMALL_FINITE, st.just(math.nan)),
                st.integers(0, 5),
            ),
            min_size=1,
            max_size=6,
            unique_by=lambda entry: (entry[0], entry[2]),  # one value per (time, step)
        ),
        max_size=4,
    ),
    params=st.dictionaries(KEY, st.text(alphabet=string.printable, max_size=20), max_size=4),
    layout=st.sampled_from([2, 3]),
)
def test_a_logged_mlflow_model_gets_its_runs_latest_metrics_and_params(
    metrics: dict[str, list[tuple[int, float, int]]], params: dict[str, str], layout: int
) -> None:
    with workdir() as d:
        model = mlflow_store(d, "b820ee01854145cb85450246afd1ef5f", metrics, params, layout=layout)
        facts = inspect_checked(model, root=d)
        assert facts.format == "mlflow"
        expected = {k: latest(v) for k, v in metrics.items()}
        assert facts.metrics == {k: v for k, v in expected.items() if v is not None}
        assert facts.params == params


def test_an_mlflow_run_is_found_only_inside_the_root_and_by_a_plain_run_id(tmp_path: Path) -> None:
    model = mlflow_store(tmp_path, "r1", {"acc": [(1, 0.9, 0)]}, {"C": "1"})
    assert inspect_path(model, root=tmp_path).metrics == {"acc": 0.9}
    assert inspect_path(model, root=model.parent).metrics == {}  # the run lies above the root
    mlmodel = model / "MLmodel"
    mlmodel.write_text(mlmodel.read_text().replace("run_id: r1", "run_id: ../../r1"))
    assert inspect_path(model, root=tmp_path).metrics == {}


def test_mlflow_metric_files_that_are_links_are_not_read(tmp_path: Path) -> None:
    model = mlflow_store(tmp_path, "r1", {"acc": [(1, 0.9, 0)]}, {})
    outside = tmp_path / "secret"
    outside.write_text("1 42.0 0\n")
    (tmp_path / "mlruns" / "0" / "r1" / "metrics" / "leak").symlink_to(outside)
    assert inspect_path(model, root=tmp_path).metrics == {"acc": 0.9}


# ------------------------------------------------------------------- hostile logs


@st.composite
def hostile_csv(draw: st.DrawFn) -> bytes:
    columns = draw(st.one_of(st.integers(1, 12), st.sampled_from([MAX_COLUMNS + 1, 5000])))
    header = ",".join(["epoch", "step"] + [f"c{i}" for i in range(columns)])
    cells = st.one_of(
        st.sampled_from(["", "nan", "NaN", "inf", "-inf", "1e999", "-1e999", "0", "1.5", "x",
                         '"q,uo""te"', "\x00", "\xff"]),
        SMALL_FINITE.map(repr),
    )  # fmt: skip
    rows = draw(st.lists(st.lists(cells, max_size=columns + 4), max_size=20))
    text = header + "\n" + "\n".join(",".join(r) for r in rows)
    data = text.encode("utf-8", "surrogateescape")
    if draw(st.booleans()):
        data += b"\n0,1," + b"9" * draw(st.sampled_from([70_000, 2_000_000]))  # a huge row
    if draw(st.booleans()):
        data += draw(st.binary(max_size=64))
    return data


@fuzz_settings(40)
@given(hostile_csv(), st.sampled_from(["metrics.csv", "training.log"]))
def test_hostile_run_logs_become_warnings_and_finite_numbers(data: bytes, name: str) -> None:
    with workdir() as d:
        version = d / "version_0"
        write(version, name, data)
        ckpt = write(version / "checkpoints", "epoch=0-step=1.ckpt", lightning_ckpt(0, 1))
        facts = inspect_checked(ckpt, root=d)
        assert all(isinstance(v, float) and math.isfinite(v) for v in facts.metrics.values())


def test_a_run_log_with_millions_of_columns_or_one_huge_row_is_cut_with_a_warning(
    tmp_path: Path,
) -> None:
    version = tmp_path / "version_0"
    ckpt = write(version / "checkpoints", "epoch=0-step=1.ckpt", lightning_ckpt(0, 1))
    write(version, "metrics.csv", "epoch," * 2_000_000 + "\n0,1\n")
    facts = inspect_path(ckpt)
    assert any("metrics.csv" in w and "header line" in w for w in facts.warnings)
    write(version, "metrics.csv", "epoch,step,val_loss\n" + "0," * 3_000_000 + "\n0,1,0.25\n")
    facts = inspect_path(ckpt)
    assert facts.metrics["val_loss"] == 0.25
    assert any("only its last part was read" in w for w in facts.warnings)


def test_hostile_keras_history_shapes(tmp_path: Path) -> None:
    model = write(tmp_path, "model.safetensors", safetensors_bytes({"w": ("U8", [4])}))
    for doc in ([1, 2], {"loss": "high"}, {"loss": [[1]], "val_loss": [None, True]}, "x"):
        write(tmp_path, "history.json", json.dumps(doc))
        facts = inspect_checked(model)
        assert facts.metrics == {}
    write(tmp_path, "history.json", json.dumps({"loss": [0.5] * 300_000}))
    assert inspect_checked(model).metrics == {"loss": 0.5}


def test_read_sidecars_still_serves_one_folder(tmp_path: Path) -> None:
    # The watcher re-reads a folder's sidecars when one of SIDECAR_FILES changes.
    assert {"metrics.csv", "history.json", "training.log", "trainer_state.json"} <= set(
        SIDECAR_FILES
    )
    write(tmp_path, "metrics.csv", "epoch,step,val_loss\n0,1,0.5\n1,2,0.25\n")
    write(tmp_path, "hparams.yaml", "lr: 0.1\n")
    metrics: dict[str, float] = {}
    params: dict[str, Any] = {}
    names = read_sidecars(tmp_path, metrics, params, [])
    assert names == ["hparams.yaml", "metrics.csv"]
    assert metrics == {"epoch": 1.0, "step": 2.0, "val_loss": 0.25, "best_val_loss": 0.25}
    assert params == {"lr": 0.1}


@fuzz_settings(40)
@given(
    files=st.dictionaries(
        st.sampled_from(["metrics/acc", "metrics/a/b", "params/C", "params/x/y", "metrics/n"]),
        st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
        max_size=5,
    ),
    huge=st.booleans(),
)
def test_hostile_mlflow_run_files_become_finite_metrics_and_text_params(
    files: dict[str, bytes], huge: bool
) -> None:
    with workdir() as d:
        model = mlflow_store(d, "r1", {}, {})
        run = d / "mlruns" / "0" / "r1"
        for name, data in files.items():
            write(run, name, data)
        if huge:  # a long history: only its tail is read
            write(run, "metrics/long", b"1 0.5 0\n" * 200_000 + b"2 0.25 1\n")
        facts = inspect_checked(model, root=d)
        assert all(math.isfinite(v) for v in facts.metrics.values())
        assert all(isinstance(v, str) and len(v) <= 1100 for v in facts.params.values())
        if huge:
            assert facts.metrics["long"] == 0.25


def test_a_versions_sidecars_can_be_read_again_from_its_stored_metadata(tmp_path: Path) -> None:
    # What the watcher does when metrics.csv grows after a checkpoint was registered:
    # the checkpoint's stored metadata (its own epoch/step) picks its row.
    from regtui.inspect.sidecars import sidecars_for

    version = tmp_path / "version_0"
    ckpt = write(version / "checkpoints", "last.ckpt", lightning_ckpt(1, 6))
    first = inspect_path(ckpt, root=tmp_path)
    assert "val_loss" not in first.metrics
    write(version, "metrics.csv", "epoch,step,val_loss\n0,2,0.9\n1,5,0.4\n2,8,0.3\n")
    found, warnings = sidecars_for(ckpt, tmp_path, first.metadata)
    assert found.merged()["val_loss"] == 0.4 and warnings == []
    assert "metrics.csv" in found.names
