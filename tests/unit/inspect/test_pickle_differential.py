"""picklescan as a second opinion: over one generated corpus (pickles built opcode by
opcode with globals drawn from picklescan's own dangerous list and from safe ones,
every spelling pickle accepts, memo games, several pickles in a row, and the
containers they travel in), every artifact picklescan calls dangerous regtui flags
too. picklescan is asked in-process on bytes; regtui through `inspect_path`."""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.inspect import inspect_path
from regtui.inspect.pickle_allow import is_allowed
from tests.support.hypothesis_runs import examples
from tests.unit.inspect.pickle_forge import imports_in_row, npy_object, spellings, zip_of

scanner = pytest.importorskip("picklescan.scanner")


def _pairs(table: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for module, names in table.items():
        if names == "*":
            out.append((module, "system" if module in ("os", "posix", "nt") else "anything"))
        elif isinstance(names, str):
            out.append((module, names))
        else:
            out += [(module, n) for n in sorted(names)]
    return out


DANGEROUS = _pairs(scanner._unsafe_globals)
SAFE = [*_pairs(scanner._safe_globals), ("builtins", "set"), ("numpy", "dtype")]
SPELLINGS = sorted(spellings("m", "n"))
CONTAINERS = ["pkl", "two-pickles", "zip", "npz", "nested-zip", "torch", "torch-second-folder"]


def _pickle(pair: tuple[str, str], spelling: str) -> bytes:
    return spellings(*pair).get(spelling) or spellings(*pair)["GLOBAL-p4"]


def _artifact(body: bytes, container: str) -> tuple[str, bytes]:
    safe = pickle.dumps({"w": 1}, protocol=2)
    if container == "pkl":
        return "model.pkl", body
    if container == "two-pickles":  # a loader may call load() twice
        return "model.pkl", safe + body
    if container == "zip":
        return "model.zip", zip_of([("README", b"x"), ("model.pkl", body)])
    if container == "npz":
        return "arrays.npz", zip_of([("a.npy", npy_object(body))])
    if container == "nested-zip":
        return "bundle.zip", zip_of([("inner.pt", zip_of([("archive/data.pkl", body)]))])
    if container == "torch":
        return "model.pt", zip_of([("archive/version", b"3\n"), ("archive/data.pkl", body)])
    return "model.pt", zip_of([("b/version", b"3\n"), ("a/data.pkl", safe), ("b/data.pkl", body)])


def _picklescan_dangerous(name: str, data: bytes) -> bool:
    try:
        result = scanner.scan_bytes(io.BytesIO(data), name, Path(name).suffix)
    except Exception:  # no verdict from it
        return False
    return result.issues_count > 0


def _regtui_flags(path: Path) -> bool:
    f = inspect_path(path)
    return bool(f.metadata.get("pickle_unsafe")) or f.refused is not None


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    pairs=st.lists(st.sampled_from(DANGEROUS + SAFE), min_size=1, max_size=3),
    spelling=st.sampled_from(SPELLINGS),
    container=st.sampled_from(CONTAINERS),
)
def test_every_pickle_picklescan_calls_dangerous_regtui_flags(
    tmp_path: Path, pairs: list[tuple[str, str]], spelling: str, container: str
) -> None:
    # several globals: all but the last pickled whole in front (pickles in a row)
    body = b"".join(_pickle(p, spelling) for p in pairs)
    name, data = _artifact(body, container)
    path = tmp_path / name
    path.write_bytes(data)
    if _picklescan_dangerous(name, data) and not _regtui_flags(path):
        # picklescan cannot follow the stack (DUP, MARK, memo games): where it calls a
        # pickle dangerous that regtui passes, the unpickler itself arbitrates: every
        # import it would make must be an allowed pair
        made = imports_in_row(body)
        assert made and all(is_allowed(m, n, 2) or is_allowed(m, n, 4) for m, n in made), (
            pairs, spelling, container, made, inspect_path(path).metadata
        )  # fmt: skip


@pytest.mark.parametrize("spelling", ["GLOBAL-p4", "STACK_GLOBAL-UNICODE-escaped", "memo-MEMOIZE"])
@pytest.mark.parametrize("pair", DANGEROUS)
def test_each_global_picklescan_lists_as_dangerous_is_flagged(
    tmp_path: Path, pair: tuple[str, str], spelling: str
) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(_pickle(pair, spelling))
    assert _picklescan_dangerous("model.pkl", path.read_bytes())
    assert _regtui_flags(path)
