"""The format table is the one place that says which formats regtui reads: every
kind `detect.sniff` names is an entry, each entry can be named (it has a signature),
its names are its own, and `inspect_file` runs the entry's reader and only that."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regtui.inspect import detect, file_reader, formats
from regtui.inspect.bounds import Damaged
from regtui.inspect.facts import Facts


def test_every_entry_has_a_signature_sniff_can_name_it_by() -> None:
    unnamed = [k for k, f in formats.FORMATS.items() if f.strong is None and f.weak is None]
    assert not unnamed
    assert len(formats.FORMATS) >= 14


def test_each_extension_belongs_to_one_entry_and_says_its_kind() -> None:
    owners: dict[str, str] = {}
    for kind, fmt in formats.FORMATS.items():
        for ext in fmt.extensions:
            assert ext == ext.lower() and ext.startswith("."), ext
            assert ext not in owners, f"{ext} claimed by {owners.get(ext)} and {kind}"
            owners[ext] = kind
            assert detect.MODEL_EXTENSIONS[ext] == kind


@given(st.binary(min_size=4, max_size=64), st.sampled_from(sorted(detect.MODEL_EXTENSIONS)))
def test_sniff_names_only_kinds_of_the_table(head: bytes, ext: str) -> None:
    assert detect.sniff(head, len(head) + 100, ext) in {None, *formats.FORMATS}


def test_the_table_order_decides_between_two_strong_signatures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a fake kind whose signature matches every head, put last and then first
    always = formats.Format(formats.FORMATS["json"].read, strong=lambda head, size: True)
    monkeypatch.setitem(formats.FORMATS, "always", always)
    assert detect.sniff(b"GGUF" + bytes(60), 64, ".gguf") == "gguf"
    reordered = {"always": always, **{k: v for k, v in formats.FORMATS.items() if k != "always"}}
    monkeypatch.setattr(formats, "FORMATS", reordered)
    monkeypatch.setattr(detect, "FORMATS", reordered)
    assert detect.sniff(b"GGUF" + bytes(60), 64, ".gguf") == "always"


def test_each_table_entry_is_the_one_that_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # inspect_file reads what the table says, and only that: swap one entry and
    # the swapped reader runs with the file's head and size.
    seen: list[tuple[str, int]] = []

    def fake(path: Path, facts: Facts, head: bytes, size: int) -> None:
        seen.append((path.name, size))

    swapped = dataclasses.replace(formats.FORMATS["gguf"], read=fake)
    monkeypatch.setitem(formats.FORMATS, "gguf", swapped)
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF" + bytes(60))
    facts = Facts()
    file_reader.inspect_file(path, facts)
    assert seen == [("m.gguf", 64)]
    assert facts.format == "gguf"


def test_a_kind_without_an_entry_is_unknown_damage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(formats.FORMATS, "gguf")
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF" + bytes(60))
    facts = Facts()
    with pytest.raises(Damaged, match="not recognised as a model format"):
        file_reader.inspect_file(path, facts)
    assert facts.format == "unknown"
