"""A scan that prepares small files in forked workers gives exactly what a scan in
one process gives: the same lines, the same versions with the same values, for
real and hostile samples and for sidecars holding values JSON cannot carry; a
worker that dies or fails costs nothing but time; no worker outlives the scan;
and nothing forks while another thread runs."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regtui.catalog import scan_processes
from regtui.catalog.scan import scan
from regtui.catalog.service import Catalog
from tests.support.hypothesis_runs import examples
from tests.unit.inspect.helpers import safetensors_bytes

SAMPLES = Path(__file__).resolve().parents[2] / "sample_models"
SAME = ("version", "path", "sha256", "size_bytes", "format", "framework", "metrics", "params")
ALSO = ("tags", "metadata", "lineage", "warnings", "damage", "datasets")


def _forks(monkeypatch: pytest.MonkeyPatch, run: int = 3) -> list[int]:
    """Fork even for a handful of files; returns the worker counts used."""
    used: list[int] = []
    real = scan_processes.usable
    monkeypatch.setattr(scan_processes, "MIN_JOBS", 1)
    monkeypatch.setattr(scan_processes, "RUN", run)
    # The test process has threads of its own (pytest-xdist's channel, threads an
    # earlier test left waiting): these tests fork anyway, as they are about what a
    # fork does; the thread rule itself is checked in a fresh interpreter below.
    monkeypatch.setattr(scan_processes, "only_thread", lambda: True)

    def counting(n: int) -> int:
        used.append(real(n))
        return used[-1]

    monkeypatch.setattr(scan_processes, "usable", counting)
    return used


def _outcome(db: Path, roots: list[Path]) -> tuple[list[tuple[Any, ...]], dict[str, list[Any]]]:
    with Catalog(db) as cat:
        items = scan(cat, roots)
        lines = [(i.path, i.model, str(i.outcome), i.detail) for i in items]
        rows = {
            m.name: [[getattr(v, k) for k in SAME + ALSO] for v in cat.versions(m.name)]
            for m in cat.models()
        }
    return lines, rows


def _both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, roots: list[Path], run: int = 3
) -> tuple[Any, Any]:
    with monkeypatch.context() as m:
        m.setattr(scan_processes, "usable", lambda n: 0)
        alone = _outcome(tmp_path / "alone.db", roots)
    used = _forks(monkeypatch, run)
    forked = _outcome(tmp_path / "forked.db", roots)
    assert used and max(used) >= 1, "the scan did not fork"
    return alone, forked


@pytest.mark.parametrize("run", [1, 3, 64])
def test_samples_come_out_the_same_forked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: int
) -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: scans never fork")
    roots = [tmp_path / "runs", tmp_path / "hostile"]
    shutil.copytree(SAMPLES / "runs", roots[0], symlinks=True)
    shutil.copytree(SAMPLES / "hostile", roots[1], symlinks=True)
    alone, forked = _both(tmp_path, monkeypatch, roots, run)
    assert forked == alone
    assert {line[2] for line in alone[0]} >= {"registered", "refused"}


# Sidecar texts, some with values JSON cannot bring back equal (a YAML date, an
# integer key, a float that is not finite, a set): those go back to the parent.
SIDECARS = [
    ("hparams.yaml", 'lr: 0.01\nlayers: [64, 32]\nname: "a\\nb"\n'),
    ("hparams.yaml", "started: 2024-05-01\nlr: 1e-3\n"),
    ("hparams.yaml", "1: one\n2: two\n"),
    ("hparams.yaml", "big: 123456789012345678901234567890\n"),
    ("hparams.yaml", "odd: !!set {a, b}\n"),
    ("params.json", '{"lr": NaN, "depth": 3}'),
    ("metrics.json", '{"auc": Infinity, "loss": 0.5}'),
    ("metrics.yaml", "auc: .nan\nf1: 0.7\n"),
    ("metrics.csv", "epoch,step,val_loss\n0,10,0.5\n1,20,0.25\n"),
    ("params.yaml", 'text: "[bold]x[/bold] \\u001b[31m"\n'),
]


@settings(max_examples=examples(12), deadline=None)
@given(
    picks=st.lists(st.sampled_from(range(len(SIDECARS))), min_size=1, max_size=4),
    files=st.integers(2, 9),
    meta=st.dictionaries(st.text(max_size=8), st.text(max_size=12), max_size=3),
)
def test_sidecar_values_come_out_the_same_forked(
    tmp_path_factory: pytest.TempPathFactory,
    picks: list[int],
    files: int,
    meta: dict[str, str],
) -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: scans never fork")
    tmp = tmp_path_factory.mktemp("sidecars")
    root = tmp / "runs"
    for f, pick in enumerate(picks):
        folder = root / f"m{f}"
        folder.mkdir(parents=True)
        name, text = SIDECARS[pick]
        (folder / name).write_text(text)
        for i in range(files):
            (folder / f"epoch={i}-step={i * 10}.safetensors").write_bytes(
                safetensors_bytes({"w": ("F32", [i + 1])}, {**meta, "i": str(i)})
            )
    with pytest.MonkeyPatch.context() as mp:
        alone, forked = _both(tmp, mp, [root], run=2)
    assert forked == alone


def _models(tmp_path: Path, count: int) -> Path:
    """runs/churn/m00.safetensors … with distinct bytes: one model's versions."""
    root = tmp_path / "runs" / "churn"
    root.mkdir(parents=True)
    for i in range(count):
        (root / f"m{i:02}.safetensors").write_bytes(safetensors_bytes({"w": ("F32", [i + 1])}))
    return root


def test_a_worker_that_dies_or_fails_costs_only_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: scans never fork")
    root = _models(tmp_path, 24)
    with monkeypatch.context() as m:
        m.setattr(scan_processes, "usable", lambda n: 0)
        alone = _outcome(tmp_path / "alone.db", [root.parent])
    parent = os.getpid()
    real = Catalog.prepare

    def fragile(self: Catalog, path: Any, *args: Any, **kwargs: Any) -> Any:
        if os.getpid() != parent:
            if Path(path).name == "m05.safetensors":
                os._exit(3)  # the worker holding runs 0, 2, 4, … dies mid-way
            if Path(path).name == "m10.safetensors":
                raise MemoryError("in a worker")
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(Catalog, "prepare", fragile)
    used = _forks(monkeypatch, run=2)
    forked = _outcome(tmp_path / "forked.db", [root.parent])
    assert used and max(used) >= 2
    assert forked == alone
    assert len(forked[1]["churn"]) == 24


def test_no_worker_outlives_a_scan_that_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: scans never fork")
    root = _models(tmp_path, 40)
    _forks(monkeypatch, run=2)
    forked: list[int] = []
    real_fork = scan_processes._fork

    def spy(*args: Any) -> Any:
        worker = real_fork(*args)
        forked.append(worker.pid)
        return worker

    monkeypatch.setattr(scan_processes, "_fork", spy)

    def broken(self: Catalog, candidates: Any) -> Any:
        raise RuntimeError("the catalog went away")

    monkeypatch.setattr(Catalog, "add_candidates", broken)
    monkeypatch.setattr("regtui.catalog.scan.BATCH", 3)
    with Catalog(tmp_path / "c.db") as cat, pytest.raises(RuntimeError, match="went away"):
        scan(cat, [root.parent])
    assert len(forked) >= 2
    for pid in forked:  # reaped: not even a zombie is left
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


_THREADS = """
import _thread, threading, time
from regtui.catalog.scan_processes import MIN_JOBS, usable
print(usable(10_000), usable(MIN_JOBS - 1))
stop = threading.Event()
{start}
time.sleep(0.1)
print(usable(10_000))
"""


@pytest.mark.parametrize(
    "start",
    [
        "threading.Thread(target=stop.wait, daemon=True).start()",
        # a thread threading never hears of, as a C library's would be
        "_thread.start_new_thread(stop.wait, ())",
    ],
)
def test_never_forks_beside_another_thread(start: str) -> None:
    """In a fresh interpreter (pytest-xdist's worker has a thread of its own)."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _THREADS.format(start=start)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    alone, few, beside = (int(x) for x in out)
    assert (alone >= 2) if (os.cpu_count() or 1) >= 2 else (alone == 0)
    assert few == 0 and beside == 0


@pytest.mark.parametrize(
    "values",
    [
        {"a": (1, 2)},
        {1: "int key"},
        {"x": float("nan")},
        {"x": float("inf")},
        {"s": {1, 2}},
        {"b": b"bytes"},
        {"ok": [1, "two", {"three": 3.5}], "none": None, "t": True},
    ],
)
def test_a_line_carries_only_what_reads_back_equal(values: dict[Any, Any]) -> None:
    line = scan_processes.line_for(7, [values, {"fine": 1}])
    number, results = json.loads(line)
    assert number == 7 and results[1] == {"fine": 1}
    try:
        equal = json.loads(json.dumps(values, allow_nan=False)) == values
    except (TypeError, ValueError):
        equal = False
    assert results[0] == (values if equal else None)
