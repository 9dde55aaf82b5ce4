"""No artifact is ever unpickled: pickles whose loading would create a marker file are
planted in every shape regtui meets (plain .pkl, joblib and zlib-compressed joblib,
a PyTorch zip with a malicious data.pkl, a legacy .pt, an MLflow folder with a
malicious model.pkl) and in the spellings a scanner can miss (names escape-encoded or
fetched back from the memo, a name re-exported under an allowed package, a loader
that unpickles again, a pickle inside a plain zip member or an .npz object array,
a PyTorch archive whose data.pkl torch picks differently from a naive reader, a
legacy file whose first pickle is the evil one), then put through scan (API and CLI
subprocess), show, diff, versions, verify, audit, the watcher and the TUI. The
markers never appear, and every version carries a warning naming the dangerous
import."""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import pickle
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from regtui.catalog.scan import scan
from regtui.catalog.service import Catalog
from regtui.cli.main import main
from regtui.inspect.pytorch import LEGACY_MAGIC
from tests.support.patience import patient
from tests.unit.inspect.pickle_forge import PROTO, STOP, call, glob, npy_object, spellings, zip_of

REPO = Path(__file__).resolve().parents[2]


class _Call:
    """Pickles as `func(*args)`: what a loader would run. Never unpickled here."""

    def __init__(self, func: Callable[..., Any], *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return self.func, self.args


def _system(marker: Path) -> _Call:
    return _Call(os.system, f"touch {marker}")  # pickled as posix.system (os.system on Windows)


def _exec(marker: Path) -> _Call:
    return _Call(builtins.exec, f"open({str(marker)!r}, 'w').close()")  # builtins.exec


def _torch_zip(payload: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", payload)
        zf.writestr("archive/version", "3\n")
        zf.writestr("archive/data/0", b"\0" * 16)
    return buf.getvalue()


# The dangerous import each artifact's warning must name.
SYSTEM = f"{os.system.__module__}.system"  # posix.system
EXEC = "builtins.exec"
EXEC_OLD = "__builtin__.exec"  # protocols 0-2 write Python 2 module names


def _bytes(data: bytes) -> bytes:
    return b"B" + len(data).to_bytes(4, "little") + data  # BINBYTES


def _touch(marker: Path, spelling: str) -> bytes:
    """os.system('touch marker') in one of pickle_forge's spellings."""
    return spellings(os.system.__module__, "system", f"touch {marker}")[spelling]


def _variants(m: Callable[[str], Path]) -> dict[str, tuple[bytes, str]]:
    """Artifacts a prefix or text-only scanner passed as safe; each still runs on load."""
    import uuid

    import numpy

    safe = pickle.dumps({"w": [1.0]}, protocol=2)
    evil_torch = _touch(m("torchdup"), "GLOBAL-p2")
    inner = _touch(m("reload"), "GLOBAL-p2")  # what torch.load would unpickle
    return {
        # a program run by a name under a package whose other names are allowed
        "uuid/model.pkl": (
            pickle.dumps(_Call(uuid._get_command_stdout, "touch", str(m("uuid"))), 4),
            "uuid._get_command_stdout",
        ),
        # numpy.save writes the marker (as marker.npy)
        "npsave/model.pkl": (pickle.dumps(_Call(numpy.save, str(m("npsave")), 0), 4), "numpy.save"),
        # names spelled with raw-unicode-escape / fetched back from the memo
        "escaped/model.pkl": (_touch(m("escaped"), "STACK_GLOBAL-UNICODE-escaped"), SYSTEM),
        "strescaped/model.pkl": (_touch(m("strescaped"), "STACK_GLOBAL-STRING-escaped"), SYSTEM),
        "memo/model.pkl": (_touch(m("memo"), "memo-PUT-then-MEMOIZE"), SYSTEM),
        # a loader that unpickles again (torch.load of the bytes it is given)
        "reload/model.pkl": (
            PROTO(2) + call(glob("torch.storage", "_load_from_bytes"), _bytes(inner)) + STOP,
            "torch.storage._load_from_bytes",
        ),
        # a pickle in a plain zip member; an .npz object array (np.load(allow_pickle=True))
        "zip/model.pt": (
            zip_of([("README", b"x"), ("weights.pkl", _touch(m("zip"), "GLOBAL-p4"))]),
            SYSTEM,
        ),
        "npz/arrays.bin": (zip_of([("a.npy", npy_object(_touch(m("npz"), "GLOBAL-p2")))]), SYSTEM),
        # torch.load reads the folder of the first entry, and the first of two same names
        "torch2/model.pt": (
            zip_of(
                [
                    ("b/version", b"3\n"),
                    ("a/data.pkl", safe),
                    ("a/version", b"3\n"),
                    ("b/data.pkl", _touch(m("torch2"), "GLOBAL-p2")),
                ]
            ),
            SYSTEM,
        ),
        "torchdup/model.pt": (
            zip_of(
                [
                    ("archive/version", b"3\n"),
                    ("archive/data.pkl", evil_torch),
                    ("archive/data.pkl", safe),
                ]
            ),
            SYSTEM,
        ),
        # a legacy file runs its first pickle before checking it is the magic number
        "legacy0/model.pt": (
            _touch(m("legacy0"), "GLOBAL-p2")
            + pickle.dumps(1001, 2)
            + pickle.dumps({"little_endian": True}, 2)
            + pickle.dumps({}, 2)
            + pickle.dumps([], 2),
            SYSTEM,
        ),
    }


def plant(root: Path, markers: Path) -> dict[str, str]:
    """Write the malicious artifacts under root/evil/...; returns path -> import named."""
    m = lambda name: markers / name  # noqa: E731 - each artifact has its own marker
    files: dict[str, tuple[bytes, str]] = {
        "plain/model.pkl": (pickle.dumps(_system(m("plain")), protocol=4), SYSTEM),
        "proto0/model.pkl": (pickle.dumps(_exec(m("proto0")), protocol=0), EXEC_OLD),
        "joblib/model.joblib": (pickle.dumps({"est": _exec(m("joblib"))}, protocol=3), EXEC),
        "joblibz/model.joblib": (zlib.compress(pickle.dumps([_system(m("joblibz"))], 2)), SYSTEM),
        "torch/model.pt": (_torch_zip(pickle.dumps({"w": _system(m("torch"))}, 2)), SYSTEM),
        "legacy/model.pt": (
            # The legacy layout whole (magic, protocol, sys_info, the object, its
            # storage keys; no storages), so it is sound and registered, not damaged.
            LEGACY_MAGIC
            + b"."
            + pickle.dumps(1001, 2)
            + pickle.dumps({"little_endian": True}, 2)
            + pickle.dumps(_exec(m("legacy")), 2)
            + pickle.dumps([], 2),
            EXEC_OLD,
        ),
        "mlflow/model/model.pkl": (pickle.dumps(_system(m("mlflow")), protocol=4), SYSTEM),
        **_variants(m),
    }
    out: dict[str, str] = {}
    for rel, (data, named) in files.items():
        path = root / "evil" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        out[str(path.parent if rel.startswith("mlflow") else path)] = named
    (root / "evil" / "mlflow" / "model" / "MLmodel").write_text(
        "flavors:\n  python_function: {loader_module: mlflow.sklearn, model_path: model.pkl}\n"
        "  sklearn: {pickled_model: model.pkl, serialization_format: cloudpickle}\n"
    )
    return out


@pytest.fixture
def planted(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    root, markers = tmp_path / "runs", tmp_path / "markers"
    markers.mkdir()
    return root, markers, plant(root, markers)


@pytest.fixture(autouse=True)
def _no_loader(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A second line of defence: any in-process unpickling call fails loudly."""

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("an artifact was unpickled")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    yield


def assert_no_marker(markers: Path) -> None:
    time.sleep(0.05)  # os.system would have been synchronous; exec too: no race, just care
    assert sorted(p.name for p in markers.iterdir()) == []


def assert_warned(versions: list[Any], expected: dict[str, str]) -> None:
    by_path = {v.path: v for v in versions}
    assert set(by_path) == set(expected), (sorted(by_path), sorted(expected))
    for path, named in expected.items():
        warnings = by_path[path].warnings
        assert any(named in w and "allow-list" in w for w in warnings), (path, warnings)


def test_scan_api_and_views(planted: tuple[Path, Path, dict[str, str]], sqlite_path: str) -> None:
    root, markers, expected = planted
    with Catalog(sqlite_path) as cat:
        items = scan(cat, [root])
        assert {i.outcome for i in items} == {"registered"}, [(i.path, i.detail) for i in items]
        versions = cat.versions("evil")
        assert_warned(versions, expected)
        for v in versions:
            cat.get(f"evil:{v.version}")
            cat.diff(f"evil:{v.version}", "evil:1")
        assert all(c.state == "ok" for c in cat.verify_artifacts())
        assert cat.verify_audit().ok
    assert_no_marker(markers)


def test_cli(planted: tuple[Path, Path, dict[str, str]], sqlite_path: str,
             capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    root, markers, expected = planted
    # A real subprocess for scan: the whole program, as a user runs it.
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    out = subprocess.run(
        [sys.executable, "-m", "regtui", "--db", sqlite_path, "scan", str(root), "--json"],
        capture_output=True, text=True, timeout=120, env=env, check=True,
    )  # fmt: skip
    items = json.loads(out.stdout)
    assert {i["outcome"] for i in items} == {"registered"}
    for item in items:
        named = expected[item["path"]]
        assert any(named in w for w in item["version"]["warnings"]), item
    assert_no_marker(markers)
    n = len(expected)
    capsys.readouterr()
    for argv in (
        ["versions", "evil"],
        ["versions", "evil", "--json"],
        *(["show", f"evil:{i}"] for i in range(1, n + 1)),
        *(["show", f"evil:{i}", "--json"] for i in range(1, n + 1)),
        *(["diff", f"evil:{i}", f"evil:{i % n + 1}", "--all"] for i in range(1, n + 1)),
        ["diff", "evil:1", "evil:2", "--json"],
        ["verify"],
        ["verify", "--json"],
        ["audit"],
    ):
        assert main(["--db", sqlite_path, *argv]) == 0, argv
    shown = capsys.readouterr().out
    assert SYSTEM in shown and EXEC in shown
    assert_no_marker(markers)


def test_watcher(planted: tuple[Path, Path, dict[str, str]], sqlite_path: str,
                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    watch = pytest.importorskip("regtui.watch")
    from regtui.watch import settle
    from regtui.watch.cache import HashCache

    # The planted damaged files are held before they are given up (30 s at least);
    # what this test asks is only that nothing from them runs.
    monkeypatch.setattr(settle, "HOLD_MIN", 2.0)

    root, markers, expected = planted
    late = root / "evil" / "late" / "model.pkl"  # arrives while the watcher runs
    with Catalog(sqlite_path) as cat:
        cache = HashCache(tmp_path / "watch-cache.sqlite")
        w = watch.Watcher(cat, [root], settle=0.2, cache=cache)
        w.start()
        try:
            assert w.wait_idle(patient(30))
            late.parent.mkdir(parents=True)
            late.write_bytes(pickle.dumps(_system(markers / "late"), protocol=2))
            # Wait for the late file itself: not every planted file becomes a version
            # (the watcher leaves damaged ones), so a count was never reached and the
            # loop always ran to its deadline.
            deadline = time.monotonic() + patient(30)
            while time.monotonic() < deadline and not any(
                v.path == str(late) for v in cat.versions("evil")
            ):
                time.sleep(0.05)
        finally:
            w.stop()
            cache.close()
        assert_warned(cat.versions("evil"), {**expected, str(late): SYSTEM})
    assert_no_marker(markers)


async def test_tui(planted: tuple[Path, Path, dict[str, str]], sqlite_path: str) -> None:
    app_mod = pytest.importorskip("regtui.tui.app")
    from textual.worker import WorkerCancelled, WorkerFailed

    root, markers, _expected = planted
    cat = Catalog(sqlite_path)
    scan(cat, [root])
    app = app_mod.make_app(cat)

    async def settle(pilot: Any) -> None:
        for _ in range(3):
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await pilot.app.workers.wait_for_complete()
            await pilot.pause(0.02)

    # The TUI reads versions from the catalog, never the artifact: a few screens show it.
    refs = {v.path: f"evil:{v.version}" for v in cat.versions("evil")}
    picked = [r for p, r in sorted(refs.items()) if p.endswith(("torch/model.pt", "mlflow/model"))]
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        for i, ref in enumerate(picked):
            app.open_version(ref)
            await settle(pilot)
            await pilot.press("escape")
            app.open_diff(ref, picked[i - 1])
            await settle(pilot)
            await pilot.press("escape")
        assert app.is_running
    cat.close()
    assert_no_marker(markers)
