"""torch.export (.pt2) archives and skops files, built by hand after what torch and
skops wrote (test_frameworks.py reads the real ones): what they say is read, what
loading them would run is flagged, and nothing in them is loaded."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regtui.inspect import inspect_path, is_artifact_candidate
from regtui.inspect.skops import is_safe_type
from tests.unit.fuzz.support import (
    JSON_VALUES,
    fuzz_settings,
    inspect_checked,
    mutated,
    workdir,
    write,
)
from tests.unit.inspect.framework_files import (
    json_node,
    node,
    pt2_bytes,
    skops_bytes,
    skops_schema,
    torch_zip,
    zip_bytes,
)


class _Evil:
    """Pickled as a call of os.system: what a hostile archive hides."""

    def __reduce__(self) -> tuple[Any, ...]:
        import os

        return (os.system, ("touch /tmp/regtui-pwned",))


# ------------------------------------------------------------------------- .pt2


def test_pt2_archive_says_its_versions_graph_and_weights(tmp_path: Path) -> None:
    p = write(tmp_path, "model.pt2", pt2_bytes())
    assert is_artifact_candidate(p)
    f = inspect_path(p)
    assert (f.format, f.framework) == ("pytorch-export", "torch")
    m = f.metadata
    assert (m["archive_format"], m["archive_version"], m["byteorder"]) == ("pt2", "0", "little")
    (program,) = m["models"]
    assert program["torch_version"] == "2.13.0+cpu" and program["graph_nodes"] == 1
    assert program["operators"] == {"torch.ops.aten.linear.default": 1}
    assert program["signature"] == {
        "input.parameter": 1,
        "input.user_input": 1,
        "output.user_output": 1,
    }
    assert (m["weights"], m["parameters"], m["constants"]) == (1, 8, 0)
    assert not any("pickle" in w for w in f.warnings)


@pytest.mark.parametrize("where", ["sample_inputs", "pickled_weight", "legacy"])
def test_pickles_inside_a_pt2_archive_are_scanned_not_loaded(tmp_path: Path, where: str) -> None:
    evil = {"x": _Evil()}
    if where == "sample_inputs":  # torch.save zip in data/sample_inputs/
        data = pt2_bytes(files={"m/data/sample_inputs/model.pt": torch_zip(evil)})
    elif where == "pickled_weight":  # a weight the config marks use_pickle
        weights = {"t": {"path_name": "weight_1", "use_pickle": True, "tensor_meta": {}}}
        data = pt2_bytes(
            weights=weights, files={"m/data/weights/weight_1": pickle.dumps(evil, protocol=4)}
        )
    else:  # torch 2.1 - 2.5 layout
        data = zip_bytes(
            {
                "m/serialized_exported_program.json": json.dumps({"graph_module": {}}),
                "m/serialized_state_dict.pt": torch_zip(evil),
                "m/version": "1",
            }
        )
    f = inspect_path(write(tmp_path, "model.pt2", data))
    assert f.format == "pytorch-export"
    assert "posix.system" in f.metadata["unsafe_imports"] or "os.system" in str(
        f.metadata["unsafe_imports"]
    )
    assert any("outside the allow-list" in w for w in f.warnings)
    assert not Path("/tmp/regtui-pwned").exists()


def test_an_aotinductor_package_names_its_compiled_code(tmp_path: Path) -> None:
    data = pt2_bytes(files={"m/data/aotinductor/model/model.so": b"\x7fELF"})
    f = inspect_path(write(tmp_path, "model.pt2", data))
    assert any("AOTInductor" in w and "model.so" in w for w in f.warnings)


@fuzz_settings(40)
@given(program=st.one_of(JSON_VALUES, st.just("{not json"), st.just("[" * 100_000)))
def test_hostile_pt2_programs_become_warnings(program: Any) -> None:
    with workdir() as d:
        text = program if isinstance(program, str) else json.dumps(program)
        f = inspect_checked(write(d, "m.pt2", pt2_bytes(program=text)))
        assert f.format == "pytorch-export"


@fuzz_settings(40)
@given(mutated(pt2_bytes(files={"m/data/sample_inputs/model.pt": torch_zip({"x": 1})})))
def test_mutated_pt2_archives(data: bytes) -> None:
    with workdir() as d:
        inspect_checked(write(d, "m.pt2", data))


# ------------------------------------------------------------------------ skops


def test_skops_file_names_its_types_and_constructor_arguments(tmp_path: Path) -> None:
    p = write(tmp_path, "model.skops", skops_bytes(skops_schema({"C": 0.5, "max_iter": 100})))
    assert is_artifact_candidate(p)
    f = inspect_path(p)
    assert (f.format, f.framework) == ("skops", "sklearn")
    assert f.metadata["object"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert f.metadata["types"] == [
        "builtins.dict",
        "builtins.str",
        "numpy.ndarray",
        "sklearn.linear_model._logistic.LogisticRegression",
    ]
    assert f.params == {"C": 0.5, "max_iter": 100}
    assert "untrusted_types" not in f.metadata and f.warnings == []


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (node("os", "system", "FunctionNode"), "os.system"),
        (node("builtins", "eval", "FunctionNode"), "builtins.eval"),
        (node("numpy", "load", "FunctionNode"), "numpy.load"),
        (node("mypkg.models", "Custom"), "mypkg.models.Custom"),
        (node("pandas.core.frame", "DataFrame"), "pandas.core.frame.DataFrame"),
        (
            node("sklearn.pipeline", "Pipeline", "MethodNode",
                 content={"func": "__reduce__", "obj": node("sklearn.pipeline", "Pipeline")}),
            "sklearn.pipeline.Pipeline.__reduce__",
        ),
    ],
)  # fmt: skip
def test_skops_types_outside_the_safe_list_are_flagged(
    tmp_path: Path, extra: dict[str, Any], named: str
) -> None:
    # nested deep in the tree, as a pipeline step would be
    deep = node("builtins", "list", "ListNode", content=[node("builtins", "dict", "DictNode",
                content={"step": extra})])  # fmt: skip
    f = inspect_path(write(tmp_path, "m.skops", skops_bytes(skops_schema(extra=[deep]))))
    assert named in f.metadata["untrusted_types"]
    assert any("outside the safe list" in w and named in w for w in f.warnings)


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("sklearn.linear_model._logistic.LogisticRegression", True),
        ("numpy.ndarray", True),
        ("scipy.sparse._csr.csr_matrix", True),
        ("builtins.dict", True),
        ("numpy.load", False),
        ("numpy.testing.foo", False),
        ("builtins.exec", False),
        ("xgboost.sklearn.XGBClassifier", False),  # safe for pickles, not in skops' list
    ],
)
def test_safe_type_list(name: str, safe: bool) -> None:
    assert is_safe_type(name) is safe


SKOPS_NODES = st.recursive(
    st.one_of(
        st.builds(node, st.sampled_from(["sklearn.svm", "numpy", "os", "builtins", ""]),
                  st.sampled_from(["SVC", "ndarray", "system", "dict", ""]),
                  st.sampled_from(["ObjectNode", "FunctionNode", "MethodNode", "JsonNode"])),
        st.builds(json_node, JSON_VALUES),
        JSON_VALUES,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=30,
)  # fmt: skip


@fuzz_settings(50)
@given(SKOPS_NODES, st.one_of(st.none(), st.dictionaries(st.text(max_size=8), JSON_VALUES)))
def test_generated_skops_schemas(extra: Any, params: dict[str, Any] | None) -> None:
    with workdir() as d:
        schema = skops_schema(params, extra=[extra]) if isinstance(extra, dict) else extra
        f = inspect_checked(write(d, "m.skops", skops_bytes(schema)))
        assert f.format == "skops"
        types = set(f.metadata.get("types", []))
        assert set(f.metadata.get("untrusted_types", [])) <= types
        if any(not is_safe_type(t) for t in types):
            assert any("outside the safe list" in w for w in f.warnings)


def test_hostile_skops_schemas(tmp_path: Path) -> None:
    for schema in ("[" * 100_000 + "]" * 100_000, "not json", "[1, 2]", "null"):
        data = zip_bytes({"schema.json": schema})
        f = inspect_checked(write(tmp_path, "m.skops", data))
        assert f.format == "skops" and f.warnings
    # More nodes than are walked, more types than are kept: cut, with a warning.
    items = [{"__module__": f"p{i % 999}", "__class__": ""} for i in range(101_000)]
    wide = node("builtins", "list", "ListNode", content=items)
    f = inspect_path(write(tmp_path, "m.skops", skops_bytes(wide)))
    assert len(f.metadata["untrusted_types"]) == 100
    assert any("nodes" in w for w in f.warnings)
    assert any("safe list" in w and w.endswith(" more") for w in f.warnings)
    huge = zip_bytes({"schema.json": " " * (4 << 20) + "{}"})
    f = inspect_checked(write(tmp_path, "m.skops", huge))
    assert any("over the cap" in w for w in f.warnings)
