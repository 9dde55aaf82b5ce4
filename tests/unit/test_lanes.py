"""The fast lane's rules in tests/conftest.py stay true: every in-process test named
slow there still exists (a rename would silently bring it back), and a test that
imports a real ML library is found as one."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import conftest
from tests.unit.inspect import test_damage, test_formats

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("nodeid", sorted(conftest.SLOW_HERE))
def test_each_test_named_slow_exists(nodeid: str) -> None:
    path, name = nodeid.split("[")[0].split("::")
    tree = ast.parse((REPO / path).read_text())
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    assert name in defined, f"{nodeid} is named slow in tests/conftest.py but is gone"
    assert conftest.SLOW_HERE[nodeid], "each test named slow says why"


def test_a_test_importing_a_real_ml_library_is_a_frameworks_test() -> None:
    real = SimpleNamespace(function=test_damage.test_real_mlflow_folders)
    plain = SimpleNamespace(
        function=test_formats.test_safetensors_counts_parameters_and_reads_metadata
    )
    assert conftest._imports_a_framework(real)  # type: ignore[arg-type]
    assert not conftest._imports_a_framework(plain)  # type: ignore[arg-type]
