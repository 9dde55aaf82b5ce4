"""`scan` and the watcher agree on what the artifacts of a tree are and which
model each belongs to: both ask inspect.layouts, scan through find_artifacts,
the watcher's live events through units_for."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from regtui.catalog.scan import scan
from regtui.catalog.service import Catalog
from regtui.inspect.layouts import find_artifacts, units_for
from tests.system.watch.conftest import Harness, wait_for, weights

HF_CONFIG = '{"model_type": "bert"}'


def build(top: Path) -> None:
    """Lone files at the top and deeper, Hugging Face bundles with and inside a
    `checkpoint-N/`, and names that are no artifact (sidecars, dot folders, notes)."""
    files = {
        "lone.safetensors": weights("lone"),
        "My Run 1/model.safetensors": weights("run1"),
        "My Run 1/sub/deeper.safetensors": weights("deeper"),
        "My Run 1/metrics.json": b'{"acc": 0.9}',
        "hf/config.json": HF_CONFIG.encode(),
        "hf/model.safetensors": weights("hf"),
        "hf/checkpoint-1/config.json": HF_CONFIG.encode(),
        "hf/checkpoint-1/model.safetensors": weights("hf-ckpt"),
        "checkpoint-7/config.json": HF_CONFIG.encode(),
        "checkpoint-7/model.safetensors": weights("ckpt7"),
        "trainer/run/checkpoint-2/config.json": HF_CONFIG.encode(),
        "trainer/run/checkpoint-2/model.safetensors": weights("trainer"),
        ".git/objects.safetensors": weights("git"),
        "notes.txt": b"nothing to see",
    }
    for rel, data in files.items():
        p = top / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def scanned(tmp_path: Path, tree: Path) -> set[tuple[str, str]]:
    with Catalog(tmp_path / "scan.sqlite") as cat:
        items = scan(cat, [tree])
    assert {i.outcome for i in items} == {"registered"}, items
    return {(i.path, i.model) for i in items}


def test_scan_and_the_watcher_find_the_same_artifacts_and_models(
    harness: Harness, tmp_path: Path
) -> None:
    # The watcher sees the tree arrive, folder by folder (live events, no catch-up).
    staging = tmp_path / "staging"
    build(staging)
    harness.start(catch_up=False, bundle_wait=0.3, hold=1.0)
    for entry in sorted(staging.iterdir()):
        shutil.move(entry, harness.root / entry.name)
    expected = scanned(tmp_path, harness.root)
    assert len(expected) == 7, expected
    wait_for(lambda: harness.count() == len(expected), timeout=30)
    watched = {(e.path, e.model) for e in harness.rec.of("registered")}
    assert watched == expected
    assert not harness.rec.of("error", "refused")


def test_each_file_belongs_to_the_unit_the_scan_finds_it_in(tmp_path: Path) -> None:
    """What a change to any file makes pending is an artifact scan finds (or,
    for what is no artifact, nothing scan finds)."""
    root = tmp_path / "runs"
    build(root)
    found = [p for p in find_artifacts(root) if isinstance(p, Path)]
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            units = units_for(root, path)
            if ".git" in path.parts or name in ("notes.txt", "metrics.json"):
                # Not an artifact; a sidecar is a unit of its own (to be logged).
                assert all(u not in found for u, _ in units), (path, units)
                continue
            [(unit, bundle)] = units
            assert unit in found, (path, unit)
            assert bundle == unit.is_dir()
