"""The format table and the detector name the same formats: every kind `detect.sniff`
can return has exactly one inspector in `formats.INSPECTORS`, and the table holds no
kind the detector never names (a dead entry would hide a renamed one)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from regtui.inspect import detect, formats
from regtui.inspect.bounds import Damaged
from regtui.inspect.facts import Facts


def detected_kinds() -> set[str]:
    """Every kind sniff can name, read from detect.py itself: the strings its strong
    signatures return, and the kinds of its weak ones."""
    tree = ast.parse(inspect.getsource(detect))
    strong = next(
        node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "_strong"
    )
    returned = {
        node.value.value
        for node in ast.walk(strong)
        if isinstance(node, ast.Return)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }
    return returned | {kind for kind, _test in detect._WEAK}


def test_the_reading_of_detect_finds_its_formats() -> None:
    # A guard on the AST reading above: were detect.py reshaped so that it found
    # nothing, the equality below would hold for an empty table.
    kinds = detected_kinds()
    assert {"gguf", "zip", "pickle", "compressed", "json", "xgboost-binary"} <= kinds
    assert len(kinds) >= 14


def test_every_detected_format_has_exactly_one_inspector() -> None:
    assert set(formats.INSPECTORS) == detected_kinds()


def test_each_table_entry_is_the_one_that_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # inspect_file reads what the table says, and only that: swap one entry and
    # the swapped reader runs with the file's head and size.
    seen: list[tuple[str, int]] = []

    def fake(path: Path, facts: Facts, head: bytes, size: int) -> None:
        seen.append((path.name, size))

    monkeypatch.setitem(formats.INSPECTORS, "gguf", formats.Inspector(fake, names_format=True))
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF" + bytes(60))
    facts = Facts()
    formats.inspect_file(path, facts)
    assert seen == [("m.gguf", 64)]
    assert facts.format == "gguf"


def test_a_kind_without_an_entry_is_unknown_damage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(formats.INSPECTORS, "gguf")
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF" + bytes(60))
    facts = Facts()
    with pytest.raises(Damaged, match="not recognised as a model format"):
        formats.inspect_file(path, facts)
    assert facts.format == "unknown"
