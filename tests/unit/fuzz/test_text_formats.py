"""Fuzzing the text-based readers: XGBoost JSON, LightGBM text, MLflow MLmodel YAML,
Hugging Face config.json and README front matter, and the metric/param sidecars
(JSON and YAML), plus the bounded JSON/YAML loaders under them."""

from __future__ import annotations

import contextlib
import json
import struct
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from regtui.inspect.bounds import BadContent, bounded, load_yaml_text
from regtui.inspect.bundles import model_card
from regtui.inspect.sidecars import flatten, read_sidecars
from tests.unit.fuzz.support import (
    JSON_VALUES,
    TEXT,
    fuzz_settings,
    inspect_checked,
    workdir,
    write,
)

TINY_SAFETENSORS = struct.pack("<Q", 2) + b"{}"


def dump_yaml(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False)


# Text that YAML parsers find hard: aliases (bombs), tags, deep nesting, bad indents.
YAML_TRICKS = st.sampled_from(
    ["a: &x [1, 2]\nb: *x\n", "!!python/object/apply:os.system ['touch /tmp/x']\n",
     "a: !!binary AAAA\n", "[" * 200 + "]" * 200, "a:\n  - b\n - c\n", "? [a, b]\n: c\n",
     "a: 1e999\nb: .nan\nc: -.inf\n", "a: 0x" + "f" * 40 + "\n", "a: 1" + "0" * 400 + "\n",
     "%YAML 1.1\n---\na: b\n...\n---\nc: d\n", "\ufeffa: b\n", "a: \"\\x1b[31m\"\n",
     "a: 2026-13-45\n"]
)  # fmt: skip
YAML_TEXT = st.one_of(YAML_TRICKS, JSON_VALUES.map(dump_yaml), TEXT)


# --------------------------------------------------------------------- XGBoost


@st.composite
def xgboost_docs(draw: st.DrawFn) -> str:
    learner = draw(st.one_of(
        st.fixed_dictionaries({
            "objective": st.one_of(st.fixed_dictionaries({"name": TEXT}), JSON_VALUES),
            "learner_model_param": st.one_of(st.dictionaries(
                st.sampled_from(["num_feature", "num_class", "num_target", "base_score"]),
                st.one_of(TEXT, JSON_VALUES, st.sampled_from(["1e999", "NaN", "12", "1" * 5000]))),
                JSON_VALUES),
            "feature_names": st.one_of(st.lists(TEXT, max_size=5), JSON_VALUES),
            "gradient_booster": st.one_of(st.fixed_dictionaries({
                "name": st.sampled_from(["gbtree", "dart", "gblinear"]),
                "model": st.one_of(st.fixed_dictionaries({
                    "gbtree_model_param": st.one_of(st.fixed_dictionaries({"num_trees": st.one_of(TEXT, JSON_VALUES)}), JSON_VALUES),
                    "trees": JSON_VALUES}), JSON_VALUES),
                "gbtree": JSON_VALUES}), JSON_VALUES),
        }),
        JSON_VALUES,
    ))  # fmt: skip
    doc = {"learner": learner, "version": draw(st.one_of(st.lists(JSON_VALUES, max_size=4), JSON_VALUES))}
    text = json.dumps(doc)
    if draw(st.booleans()):
        text = text[: draw(st.integers(len('{"learner"'), len(text)))]
    return text


@fuzz_settings(30)
@given(xgboost_docs())
def test_xgboost_json(text: str) -> None:
    with workdir() as d:
        facts = inspect_checked(write(d, "model.json", text))
        assert facts.format == "xgboost-json"


# -------------------------------------------------------------------- LightGBM

LGBM_KEYS = st.sampled_from(
    ["version", "num_class", "num_tree_per_iteration", "max_feature_idx", "objective",
     "feature_names", "tree_sizes", "feature_infos", "[x"]
)  # fmt: skip


@st.composite
def lightgbm_models(draw: st.DrawFn) -> str:
    lines = ["tree", "version=v4"]
    for _ in range(draw(st.integers(0, 8))):
        lines.append(f"{draw(LGBM_KEYS)}={draw(TEXT)}")
    body = "\n".join(lines) + "\n\n" + draw(TEXT)
    if draw(st.booleans()):
        params = "".join(f"[{draw(st.sampled_from(['lr', 'a.b', 'x y', '']))}: {draw(TEXT)}]\n"
                         for _ in range(draw(st.integers(0, 4))))  # fmt: skip
        body += f"\nparameters:\n{params}end of parameters\n"
    return body


@fuzz_settings(40)
@given(lightgbm_models())
def test_lightgbm(text: str) -> None:
    with workdir() as d:
        facts = inspect_checked(write(d, "model.txt", text))
        assert facts.format == "lightgbm"


# ---------------------------------------------------------------------- MLflow


@st.composite
def mlmodels(draw: st.DrawFn) -> str:
    doc = draw(st.one_of(
        st.fixed_dictionaries({
            "flavors": st.one_of(st.dictionaries(
                st.one_of(st.sampled_from(["python_function", "sklearn", "pytorch"]), TEXT),
                st.one_of(st.dictionaries(TEXT, JSON_VALUES, max_size=4), JSON_VALUES), max_size=4),
                JSON_VALUES),
            "run_id": st.one_of(TEXT, JSON_VALUES),
            "utc_time_created": st.one_of(TEXT, JSON_VALUES),
            "signature": st.one_of(st.dictionaries(
                st.sampled_from(["inputs", "outputs", "params", "x"]),
                st.one_of(JSON_VALUES.map(json.dumps), JSON_VALUES, TEXT), max_size=3),
                JSON_VALUES),
        }),
        JSON_VALUES,
    ))  # fmt: skip
    text = dump_yaml(doc)
    if draw(st.booleans()):
        text += draw(YAML_TEXT)
    return text


@fuzz_settings(30)
@given(mlmodels(), st.one_of(st.none(), TEXT))
def test_mlflow_bundle(mlmodel: str, requirements: str | None) -> None:
    with workdir() as d:
        folder = d / "run" / "model"
        write(folder, "MLmodel", mlmodel)
        write(folder, "model.pkl", b"\x80\x04N.")
        if requirements is not None:
            write(folder, "requirements.txt", requirements)
        facts = inspect_checked(folder)
        assert facts.format == "mlflow"


# ---------------------------------------------------------------- Hugging Face


@st.composite
def model_cards(draw: st.DrawFn) -> str:
    front = draw(st.one_of(
        st.fixed_dictionaries({
            "license": st.one_of(TEXT, JSON_VALUES),
            "tags": st.one_of(st.lists(TEXT, max_size=4), JSON_VALUES),
            "base_model": JSON_VALUES,
            "model-index": st.one_of(st.lists(st.fixed_dictionaries({
                "results": st.one_of(st.lists(st.fixed_dictionaries({
                    "dataset": st.one_of(st.fixed_dictionaries({"name": TEXT}), JSON_VALUES),
                    "metrics": st.one_of(st.lists(st.one_of(st.fixed_dictionaries({
                        "type": TEXT, "value": st.one_of(st.floats(allow_nan=False), JSON_VALUES)}),
                        JSON_VALUES), max_size=3), st.lists(JSON_VALUES, max_size=3), st.none()),
                }), max_size=3), JSON_VALUES)}), max_size=2), JSON_VALUES),
        }),
        JSON_VALUES,
    ))  # fmt: skip
    text = f"---\n{dump_yaml(front)}"
    if draw(st.booleans()):
        text += draw(YAML_TEXT)
    return text + draw(st.sampled_from(["\n---\n# Card\n", "\n", "\n---"])) + draw(TEXT)


@fuzz_settings(30)
@given(model_cards(), st.one_of(JSON_VALUES.map(json.dumps), TEXT))
def test_huggingface_bundle(card: str, config: str) -> None:
    with workdir() as d:
        folder = d / "run" / "hf"
        write(folder, "config.json", config)
        write(folder, "model.safetensors", TINY_SAFETENSORS)
        write(folder, "README.md", card)
        warnings: list[str] = []
        with contextlib.suppress(BadContent):
            model_card(folder / "README.md", warnings)
        facts = inspect_checked(folder)
        assert facts.format == "huggingface"


# -------------------------------------------------------------------- sidecars

SIDECAR_NAMES = st.sampled_from(
    ["metrics.json", "metrics.yaml", "params.json", "params.yaml", "hparams.yaml",
     "all_results.json", "eval_results.json", "trainer_state.json"]
)  # fmt: skip


@st.composite
def sidecar_sets(draw: st.DrawFn) -> dict[str, str]:
    files: dict[str, str] = {}
    for name in draw(st.lists(SIDECAR_NAMES, max_size=4, unique=True)):
        if name == "trainer_state.json":
            value: Any = draw(st.one_of(st.fixed_dictionaries({
                "best_metric": JSON_VALUES, "global_step": JSON_VALUES,
                "log_history": st.one_of(st.lists(st.dictionaries(
                    st.one_of(st.just("eval_loss"), TEXT), JSON_VALUES, max_size=3), max_size=3),
                    JSON_VALUES)}), JSON_VALUES))  # fmt: skip
        else:
            value = draw(st.one_of(st.dictionaries(TEXT, JSON_VALUES, max_size=6), JSON_VALUES))
        if name.endswith(".json"):
            files[name] = draw(st.one_of(st.just(json.dumps(value)), TEXT))
        else:
            files[name] = draw(st.one_of(st.just(dump_yaml(value)), YAML_TEXT))
    return files


@fuzz_settings(40)
@given(sidecar_sets())
def test_sidecars(files: dict[str, str]) -> None:
    with workdir() as d:
        run = d / "run"
        model = write(run, "model.safetensors", TINY_SAFETENSORS)
        for name, text in files.items():
            write(run, name, text)
        metrics: dict[str, float] = {}
        params: dict[str, Any] = {}
        warnings: list[str] = []
        read_sidecars(run, metrics, params, warnings)  # BadContent is turned into warnings
        facts = inspect_checked(model)
        assert all(isinstance(v, float) for v in facts.metrics.values())


@fuzz_settings(50)
@given(YAML_TEXT)
def test_yaml_loader_accepts_only_plain_data(text: str) -> None:
    try:
        doc = load_yaml_text(text, "x.yaml")
    except BadContent:
        return
    json.dumps(bounded(doc), allow_nan=False)  # plain data, never a Python object


@fuzz_settings(40)
@given(JSON_VALUES)
def test_bounded_and_flatten(value: Any) -> None:
    json.dumps(bounded(value), allow_nan=False)
    flat = flatten({"root": value})
    assert len(flat) <= 200


def test_yaml_alias_bomb_is_refused_quickly() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    with workdir() as d:
        run = d / "run"
        model = write(run, "model.safetensors", TINY_SAFETENSORS)
        write(run, "params.yaml", bomb)
        facts = inspect_checked(model)
        assert any("aliases" in w for w in facts.warnings)
