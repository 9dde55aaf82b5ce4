"""A folder written as a bundle, file by file with pauses, becomes exactly one
version (the finished folder), never one per inner file first.

Families: every order of a Hugging Face sharded save (config, two shards, the
index) and of an MLflow save (data file, MLmodel, environment files), each with
its own gap between files (0.1 to 3 settle times). All folders of a family are
written at once, each by its own thread, under one watcher."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from regtui.hashing import hash_tree
from tests.system.watch.conftest import Harness, wait_for, weights
from tests.unit.inspect.framework_files import skops_bytes, skops_schema
from tests.unit.inspect.helpers import sklearn_mlmodel

SETTLE = 0.2
BUNDLE_WAIT = 4.0  # short enough that a lone unit wrongly left pending lands in the test, long
# enough that a loaded CI machine stretching a 0.6 s gap between two files stays inside it
GAPS = (0.1, 0.5, 1.0, 2.0, 3.0)  # in settle times

SHARDS = ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")


def hf_files() -> dict[str, bytes]:
    index = {"metadata": {}, "weight_map": {"a": SHARDS[0], "b": SHARDS[1]}}
    return {
        "c": b'{"model_type": "bert", "architectures": ["BertModel"]}',
        "1": weights("shard one"),
        "2": weights("shard two"),
        "i": json.dumps(index).encode(),
    }


HF_NAMES = {"c": "config.json", "1": SHARDS[0], "2": SHARDS[1], "i": "model.safetensors.index.json"}

MLMODEL = sklearn_mlmodel()

ML_FILES = {
    "d": ("model.pkl", b"\x80\x04N."),
    "m": ("MLmodel", MLMODEL.encode()),
    "c": ("conda.yaml", b"name: mlflow-env\ndependencies: [python=3.11]\n"),
    # as MLflow writes it: pip is told to read requirements.txt, written in any order
    "p": (
        "python_env.yaml",
        b"python: 3.11\nbuild_dependencies: [pip]\ndependencies:\n- -r requirements.txt\n",
    ),
    "r": ("requirements.txt", b"scikit-learn==1.5.0\n"),
}


def write_slowly(folder: Path, steps: list[tuple[str, bytes]], gap: float) -> Callable[[], None]:
    def run() -> None:
        folder.mkdir(parents=True)
        for name, data in steps:
            tmp = folder / name
            tmp.write_bytes(data)
            time.sleep(gap)

    return run


def write_all(harness: Harness, plans: dict[str, tuple[list[tuple[str, bytes]], float]]) -> None:
    threads = [
        threading.Thread(target=write_slowly(harness.root / model / "final", steps, gap))
        for model, (steps, gap) in plans.items()
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def assert_one_version_per_folder(harness: Harness, models: list[str]) -> None:
    wait_for(lambda: all(harness.count(m) >= 1 for m in models), timeout=30)
    # Past the bundle wait: a lone inner file left pending would be registered by now.
    time.sleep(BUNDLE_WAIT + SETTLE * 3)
    for m in models:
        folder = harness.root / m / "final"
        versions = harness.catalog.versions(m)
        assert [v.path for v in versions] == [str(folder)], (m, [v.path for v in versions])
        assert versions[0].sha256 == hash_tree(folder).sha256, m  # the folder as it ended
    assert not harness.rec.of("error", "incomplete", "changed")


def plans_for(orders: list[str], files: Callable[[str], tuple[str, bytes]], tag: str):  # type: ignore[no-untyped-def]
    return {
        f"{tag}-{n}": ([files(step) for step in order], GAPS[n % len(GAPS)] * SETTLE)
        for n, order in enumerate(orders)
    }


def test_every_order_of_a_sharded_hugging_face_save_is_one_version(harness: Harness) -> None:
    data = hf_files()
    orders = ["".join(p) for p in itertools.permutations("c12i")]
    plans = plans_for(orders, lambda s: (HF_NAMES[s], data[s]), "hf")
    harness.start(settle=SETTLE, bundle_wait=BUNDLE_WAIT, hold=60)
    write_all(harness, plans)
    assert_one_version_per_folder(harness, list(plans))


@pytest.mark.parametrize("gap", GAPS[::2])
def test_the_save_pretrained_order_is_one_version_at_each_gap(harness: Harness, gap: float) -> None:
    data = hf_files()
    plans = plans_for(["c12i", "12ci"], lambda s: (HF_NAMES[s], data[s]), "hf")
    plans = {m: (steps, gap * SETTLE) for m, (steps, _) in plans.items()}
    harness.start(settle=SETTLE, bundle_wait=BUNDLE_WAIT, hold=60)
    write_all(harness, plans)
    assert_one_version_per_folder(harness, list(plans))


def test_every_order_of_an_mlflow_save_is_one_version(harness: Harness) -> None:
    # The data file and MLmodel in either order, the environment files after
    # in any order (save_model infers the requirements between the two).
    orders = [head + "".join(env) for head in ("dm", "md") for env in itertools.permutations("cpr")]
    plans = plans_for(orders, lambda s: ML_FILES[s], "ml")
    harness.start(settle=SETTLE, bundle_wait=BUNDLE_WAIT, hold=60)
    write_all(harness, plans)
    assert_one_version_per_folder(harness, list(plans))


@pytest.mark.parametrize(
    "name", [SHARDS[0], "model.skops", "model.pkl", "pytorch_model-00003-of-00008.bin"]
)
def test_a_lone_bundle_part_in_a_quiet_folder_is_registered_after_the_bundle_wait(
    harness: Harness, name: str
) -> None:
    """Deferred, never lost: if no bundle forms around it, it is a version of its own."""
    harness.start(settle=SETTLE, bundle_wait=BUNDLE_WAIT)
    path = harness.root / "solo" / name
    path.parent.mkdir()
    if "safetensors" in name:
        path.write_bytes(weights(name))
    elif name.endswith(".skops"):
        path.write_bytes(skops_bytes(skops_schema({"C": 1.0})))
    else:
        path.write_bytes(b"\x80\x04N.")
    time.sleep(SETTLE * 3)
    assert harness.count("solo") == 0  # its folder changed less than the bundle wait ago
    wait_for(lambda: harness.count("solo") == 1, timeout=BUNDLE_WAIT * 5)
    assert [v.path for v in harness.catalog.versions("solo")] == [str(path)]


def test_a_lone_model_file_keeps_the_fast_path(harness: Harness) -> None:
    """Only bundle-part names wait for their folder: a lone complete file in a new
    folder is registered without waiting the bundle wait."""
    harness.start(settle=SETTLE, bundle_wait=60)
    path = harness.root / "fast" / "model.safetensors"
    path.parent.mkdir()
    path.write_bytes(weights("fast"))
    wait_for(lambda: harness.count("fast") == 1, timeout=10)
