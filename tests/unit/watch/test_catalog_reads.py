"""The watcher's typed catalog reads: no filter text, so no quoting, no length
cap, and no wildcard in a folder name matching other folders."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.catalog.service import Catalog
from tests.support.hypothesis_runs import examples
from tests.system.watch.conftest import weights

# Names with the characters a filter string or a LIKE pattern would misread.
NAMES = st.text(alphabet=st.sampled_from(list("ab_%\\'\" .-é")), min_size=1, max_size=12).filter(
    lambda s: s.strip(" .") == s and s not in (".", "..")
)


def register(cat: Catalog, path: Path, tag: str, model: str = "m"):  # type: ignore[no-untyped-def]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(weights(tag))
    return cat.register(path, model)


@settings(
    max_examples=examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(folder=NAMES, other=NAMES)
def test_reads_by_path_take_names_literally(tmp_path: Path, folder: str, other: str) -> None:
    if folder == other:
        return
    base = Path(tempfile.mkdtemp(dir=tmp_path))  # hypothesis may run one example twice
    with Catalog(base / "c.sqlite") as cat:
        mine = register(cat, base / "runs" / folder / "model.safetensors", f"{folder}-1")
        theirs = register(cat, base / "runs" / other / "model.safetensors", f"{other}-1")
        deeper = register(cat, base / "runs" / folder / "sub" / "model.safetensors", "deep")
        assert cat.newest_in_folder(base / "runs" / folder) == mine
        assert cat.newest_in_folder(base / "runs" / other) == theirs
        assert cat.newest_in_folder(base / "runs" / folder / "sub") == deeper
        assert [v.id for v in cat.versions_at_paths([mine.path])] == [mine.id]
        assert cat.version_by_sha("m", mine.sha256) == mine
        assert cat.version_by_sha("m", "0" * 64) is None
        assert cat.version_by_sha("no-such-model", mine.sha256) is None


def test_versions_at_paths_has_no_length_cap(tmp_path: Path) -> None:
    """The filter-language version skipped paths over 3500 characters."""
    deep = tmp_path.joinpath(*(["d" * 200] * 18))
    with Catalog(tmp_path / "c.sqlite") as cat:
        f = deep / "model.safetensors"
        assert len(str(f)) > 3500
        first = register(cat, f, "one")
        second = register(cat, f, "two")
        many = [str(tmp_path / f"x{i}") for i in range(1200)] + [str(f)]  # past one IN list
        assert [v.id for v in cat.versions_at_paths(many)] == [first.id, second.id]


def test_newest_in_folder_is_the_newest(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite") as cat:
        run = tmp_path / "run"
        register(cat, run / "a.safetensors", "a")
        b = register(cat, run / "b.safetensors", "b")
        assert cat.newest_in_folder(run) == b
        assert cat.newest_in_folder(tmp_path / "elsewhere") is None


@pytest.mark.parametrize("trailing", ["", "/"])
def test_newest_in_folder_counts_a_bundle_at_the_folder_itself(
    tmp_path: Path, trailing: str
) -> None:
    with Catalog(tmp_path / "c.sqlite") as cat:
        hf = tmp_path / "bert"
        (hf).mkdir()
        (hf / "config.json").write_text('{"model_type": "bert"}')
        (hf / "model.safetensors").write_bytes(weights("bert"))
        v = cat.register(hf, "bert")
        assert cat.newest_in_folder(str(hf) + trailing) == v


def test_versions_by_sha_of_one_model_or_of_all(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite") as cat:
        a = register(cat, tmp_path / "a" / "model.safetensors", "same", model="a")
        b = register(cat, tmp_path / "b" / "model.safetensors", "same", model="b")
        register(cat, tmp_path / "c" / "model.safetensors", "other", model="a")
        assert a.sha256 == b.sha256
        assert [v.id for v in cat.versions_by_sha(a.sha256)] == [a.id, b.id]
        assert cat.versions_by_sha(a.sha256, "b") == [b]
        assert cat.versions_by_sha(a.sha256, "no-such-model") == []
        assert cat.versions_by_sha("0" * 64) == []
