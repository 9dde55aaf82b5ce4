"""The fast lane's rules in tests/conftest.py stay true: every in-process test named
slow there still exists (a rename would silently bring it back), and a test that
imports a real ML library, or a UI test that starts the app, is found as one."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import conftest
from tests.unit.inspect import test_damage, test_formats, test_pickle_archives

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("nodeid", sorted(conftest.SLOW_HERE))
def test_each_test_named_slow_exists(nodeid: str) -> None:
    path, name = nodeid.split("[")[0].split("::")
    tree = ast.parse((REPO / path).read_text())
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    assert name in defined, f"{nodeid} is named slow in tests/conftest.py but is gone"
    assert conftest.SLOW_HERE[nodeid], "each test named slow says why"


@pytest.mark.parametrize(
    "body",
    [
        "import torch",
        "import numpy as np",
        "import sklearn.linear_model",
        "from onnx import helper",
        "from safetensors.numpy import save_file",
        "np = pytest.importorskip('numpy')",
        'pytest.importorskip("mlflow.pyfunc")',
        "if True:\n        import h5py",
    ],
)
def test_each_way_of_importing_a_real_ml_library_makes_a_frameworks_test(
    tmp_path: Path, body: str
) -> None:
    source = f"import pytest\n\ndef test_x():\n    {body}\n\ndef test_y():\n    import json\n"
    (tmp_path / "test_gen.py").write_text(source)
    namespace: dict[str, object] = {}
    exec(compile(source, str(tmp_path / "test_gen.py"), "exec"), namespace)
    uses = SimpleNamespace(function=namespace["test_x"])
    plain = SimpleNamespace(function=namespace["test_y"])
    assert conftest._imports_a_framework(uses)  # type: ignore[arg-type]
    assert not conftest._imports_a_framework(plain)  # type: ignore[arg-type]


def test_a_test_importing_a_real_ml_library_is_a_frameworks_test() -> None:
    real = SimpleNamespace(function=test_damage.test_real_mlflow_folders)
    plain = SimpleNamespace(
        function=test_formats.test_safetensors_counts_parameters_and_reads_metadata
    )
    npz = SimpleNamespace(
        function=test_pickle_archives.test_plain_npz_arrays_and_safe_pickles_are_not_flagged
    )
    assert conftest._imports_a_framework(real)  # type: ignore[arg-type]
    assert conftest._imports_a_framework(npz)  # type: ignore[arg-type]
    assert not conftest._imports_a_framework(plain)  # type: ignore[arg-type]


def _item(function: object, path: Path) -> SimpleNamespace:
    return SimpleNamespace(function=function, path=path)


def test_a_ui_test_that_starts_the_app_is_an_app_test() -> None:
    from tests.ui import test_catalog_screen, test_paging_model
    from tests.ui.snapshots import test_screens

    pilot = _item(test_catalog_screen.test_cursor_keys_and_model_switch, conftest.UI / "x.py")
    snapshot = _item(test_screens.test_help_screen, conftest.UI / "snapshots" / "x.py")
    model = _item(test_paging_model.test_unfiltered_view_is_one_count_and_one_page, conftest.UI)
    assert conftest._starts_the_app(pilot)  # type: ignore[arg-type]
    assert conftest._starts_the_app(snapshot)  # type: ignore[arg-type]
    assert not conftest._starts_the_app(model)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "starts"),
    [
        ("async with app.run_test() as pilot:\n        pass", True),
        ("assert snap_compare(app)", True),
        ("table = PagingModel()", False),
    ],
)
def test_what_starts_the_app_is_read_from_the_test_code(
    tmp_path: Path, body: str, starts: bool
) -> None:
    source = f"async def test_x(app, snap_compare=None):\n    {body}\n"
    source = source.replace(", snap_compare=None", "") if "snap_compare" not in body else source
    (tmp_path / "test_gen.py").write_text(source)
    namespace: dict[str, object] = {}
    exec(compile(source, str(tmp_path / "test_gen.py"), "exec"), namespace)
    item = _item(namespace["test_x"], conftest.UI / "test_gen.py")
    assert conftest._starts_the_app(item) == starts  # type: ignore[arg-type]
    outside = _item(namespace["test_x"], conftest.SYSTEM / "test_gen.py")
    assert not conftest._starts_the_app(outside)  # type: ignore[arg-type]
