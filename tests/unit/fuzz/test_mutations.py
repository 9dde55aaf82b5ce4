"""Mutation fuzzing seeded with the real artifacts in sample_models/: every sample file
(and every file of the MLflow and Hugging Face bundles) is damaged a few ways at a
time (flipped bytes, truncation, inserted/deleted runs, splices, length fields
overwritten with hostile integers) and must still be inspected safely."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.fuzz.support import (
    RUNS,
    fuzz_settings,
    inspect_checked,
    mutated,
    seed_bytes,
    workdir,
    write,
)

SEEDS = seed_bytes(
    ".safetensors", ".gguf", ".onnx", ".pt", ".ckpt", ".pkl", ".joblib", ".json", ".ubj",
    ".txt", ".keras", ".skops",
)


@pytest.mark.parametrize(("name", "seed"), SEEDS, ids=[f"{i}-{n}" for i, (n, _) in enumerate(SEEDS)])
@fuzz_settings(8)
@given(data=st.data())
def test_mutated_sample_file(name: str, seed: bytes, data: st.DataObject) -> None:
    blob = data.draw(mutated(seed), label="mutated")
    with workdir() as d:
        inspect_checked(write(d / "run", name, blob))


BUNDLES = {
    "mlflow": RUNS / "credit-mlflow" / "2026-11-06" / "model",
    "huggingface": RUNS / "sentiment-bert" / "2026-11-25",
}


@pytest.mark.parametrize("kind", sorted(BUNDLES))
@fuzz_settings(15)
@given(data=st.data())
def test_mutated_bundle(kind: str, data: st.DataObject) -> None:
    source = BUNDLES[kind]
    with workdir() as d:
        folder = d / "runs" / kind
        shutil.copytree(source, folder, ignore=shutil.ignore_patterns("checkpoint-*"))
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        target = data.draw(st.sampled_from(files), label="file")
        target.write_bytes(data.draw(mutated(target.read_bytes()), label="mutated"))
        inspect_checked(folder, root=d / "runs")
