"""`show` and `diff` print values as a person reads them, never as Python reprs;
`diff` fits the terminal and cuts long values where they differ."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.catalog.records import VersionInfo
from regtui.catalog.service import Catalog
from regtui.catalog.version_fields import COLUMNS
from regtui.cli import output
from tests.support.hypothesis_runs import examples
from tests.unit.cli.test_injection import assert_terminal_safe
from tests.unit.helpers import model_bytes

# What a Python repr of a container, None or a boolean looks like in text.
REPR = re.compile(r"\{'|\['|\('|': |\bNone\b|\bTrue\b|\bFalse\b|\{\}|\[\]")

keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)
leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(max_size=12)
)
nested = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=12,
)
records = st.dictionaries(keys, nested, max_size=4)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VersionInfo]:
    folder = tmp_path_factory.mktemp("human")
    artifact = folder / "m.safetensors"
    artifact.write_bytes(model_bytes("human"))
    with Catalog(folder / "c.sqlite", user="alice") as cat:
        yield cat.register(artifact, "churn")


def with_values(v: VersionInfo, **values: Any) -> VersionInfo:
    """`v` with these JSON columns (params, meta, lineage, tags) replaced."""
    row = list(v._row)
    for name, value in values.items():
        row[COLUMNS.index(name)] = json.dumps(value)
    return VersionInfo(row, v.model, v.stages)


def _no_repr_in(text: str, values: dict[str, Any]) -> None:
    """No repr pattern that the values themselves do not spell out as text."""
    raw = json.dumps(values, ensure_ascii=False)
    for found in REPR.finditer(text):
        token = found.group()
        # `('` is also how `(k=v)` starts for a key that itself starts with a quote.
        spelled = token[-1] == "'" and "\"'" in raw
        assert token in raw or token.strip(": ") in raw or spelled, f"{token!r} in: {text}"


@settings(
    max_examples=examples(60),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    deadline=None,
)
@given(params=records, meta=records, lineage=records)
def test_show_renders_nested_values_as_text(
    base: VersionInfo,
    params: dict[str, Any],
    meta: dict[str, Any],
    lineage: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    v = with_values(base, params=params, meta=meta, lineage=lineage)
    output.print_version(v)
    text = capsys.readouterr().out
    _no_repr_in(text, {"p": params, "m": meta, "l": lineage})
    assert_terminal_safe(text)


def test_lineage_of_parents_reads_as_text(
    base: VersionInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    lineage = {
        "git": {"commit": "abc123", "dirty": False, "branch": None},
        "parents": [{"name": "x", "version": 2}, {"name": "y", "version": 7}],
        "notes": [],
    }
    output.print_version(with_values(base, lineage=lineage, params={"layers": [64, 32]}))
    text = capsys.readouterr().out
    lines = {" ".join(line.split()) for line in text.splitlines()}
    for shown in (
        "git.commit abc123",
        "git.dirty false",
        "git.branch -",
        "parents (name=x, version=2); (name=y, version=7)",
        "notes (none)",
        "layers 64, 32",
    ):
        assert shown in lines, (shown, text)
    assert REPR.search(text) is None, text


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "-"),
        (True, "true"),
        ([], "(none)"),
        ({}, "(empty)"),
        (["a", "b"], "a, b"),
        ([[1, 2], [3]], "(1, 2); (3)"),
        ({"a": {"b": [1, None]}}, "a=(b=(1, -))"),
        (0.1 + 0.2, "0.3"),
    ],
)
def test_human_renders_each_shape(value: Any, shown: str) -> None:
    assert output.human(value) == shown


def _diff_lines(
    base: VersionInfo,
    left: str,
    right: str,
    columns: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> list[str]:
    from regtui.catalog.diff import diff_versions as compare

    monkeypatch.setenv("COLUMNS", str(columns))
    a = with_values(base, params={"path": left})
    b = with_values(base, params={"path": right})
    output.print_diff(compare(a, b))
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_diff_fits_the_terminal_and_shows_where_long_values_differ(
    base: VersionInfo,
    columns: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stem = "/data/experiments/team-growth/churn/" + "nested/" * 20
    left, right = stem + "run-0041/model.safetensors", stem + "run-0042/model.safetensors"
    lines = _diff_lines(base, left, right, columns, monkeypatch, capsys)
    row = next(line for line in lines if line.startswith("~") and "path" in line)
    assert all(len(line) <= columns for line in lines), (columns, lines)
    assert "0041" in row and "0042" in row, row  # the difference survives the cut
    assert "…" in row


def test_diff_without_a_terminal_width_uses_a_default(
    base: VersionInfo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(output.os, "get_terminal_size", _no_terminal)  # as in a pipe
    from regtui.catalog.diff import diff_versions as compare

    a = with_values(base, params={"p": "x" * 300 + "a"})
    b = with_values(base, params={"p": "x" * 300 + "b"})
    output.print_diff(compare(a, b))
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line) <= output.DIFF_WIDTH for line in lines), lines


def test_human_text_of_a_real_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Through the catalog: a lineage given at registration shows as text."""
    from regtui.cli.main import main

    artifact = tmp_path / "m.safetensors"
    artifact.write_bytes(model_bytes("lineage"))
    db = tmp_path / "c.sqlite"
    with Catalog(db) as cat:
        cat.register(
            artifact,
            "churn",
            lineage={"parents": [{"name": "base", "version": 1}]},
            params={"sched": {"kind": "cosine", "warmup": [100, 200]}},
        )
    assert main(["--db", str(db), "show", "churn:1"]) == 0
    text = capsys.readouterr().out
    lines = {" ".join(line.split()) for line in text.splitlines()}
    assert "parents (name=base, version=1)" in lines, text
    assert "sched kind=cosine, warmup=(100, 200)" in lines, text
    assert REPR.search(text) is None, text


def _no_terminal(*_: object) -> os.terminal_size:
    raise OSError("not a terminal")
