"""`regtui demo`: a fresh temporary catalog seeded from the sample models, with history.

`seed_demo` registers the sample artifacts and adds a little history (approvals by
a second user, a promotion to production, a promotion rolled back, a rejection),
so every screen has something to show. `seed_synthetic` makes a catalog of any
size without files (fixed paths, hashes and metrics) for tests and benchmarks.
No Textual here except inside `run_demo`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from regtui.catalog.service import Candidate, Catalog
from regtui.errors import RegtuiError
from regtui.hashing import Digest
from regtui.settings import sqlite_file

REVIEWER = "reviewer"


class SamplesMissing(RegtuiError):
    """This installation has no sample models (a wheel built without them)."""


def sample_models_dir() -> Path:
    """The sample models: inside the installed package (the wheel maps the top-level
    sample_models/ to regtui/sample_models/, see setup.py), else the source tree's."""
    here = Path(__file__).resolve().parent
    for folder in (here / "sample_models", here.parent.parent / "sample_models"):
        if (folder / "runs").is_dir():
            return folder
    raise SamplesMissing(
        f"no sample models in this installation (looked in {here / 'sample_models'}); "
        "reinstall regtui from its wheel or sdist"
    )


def _register_samples(catalog: Catalog, runs: Path) -> None:
    from regtui.catalog.scan import scan

    scan(catalog, [runs])


def _sidecar(path: Path, name: str) -> dict[str, object]:
    for folder in (path.parent if path.is_file() else path, path.parent):
        f = folder / name
        if f.is_file():
            try:
                data = json.loads(f.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}
            return data if isinstance(data, dict) else {}
    return {}


def _register_explicit(catalog: Catalog, runs: Path) -> None:
    for model_dir in sorted(p for p in runs.iterdir() if p.is_dir()):
        for run in sorted(p for p in model_dir.iterdir() if p.is_dir()):
            for f in sorted(run.iterdir()):
                if f.is_file() and f.suffix != ".json" and not f.name.startswith("."):
                    metrics = {
                        k: v
                        for k, v in _sidecar(f, "metrics.json").items()
                        if isinstance(v, int | float)
                        and not isinstance(v, bool)
                        and math.isfinite(v)
                    }
                    try:
                        catalog.register(
                            f,
                            model=model_dir.name,
                            metrics=metrics,
                            params=_sidecar(f, "params.json"),
                        )
                    except RegtuiError:
                        continue


def add_history(catalog: Catalog, reviewer: Catalog) -> None:
    """Approvals by `reviewer`, a production promotion, one rolled back, one rejected."""
    models = [m for m in catalog.models() if m.versions]
    if not models:
        return
    first = models[0]
    vs = [v.version for v in catalog.versions(first.name)]
    if len(vs) >= 2:
        reviewer.approve(f"{first.name}:{vs[0]}", "baseline: offline eval passed")
        reviewer.approve(f"{first.name}:{vs[1]}", "beats the baseline on held-out data")
        reviewer.promote(f"{first.name}:{vs[0]}", "production", "first release")
        reviewer.promote(f"{first.name}:{vs[1]}", "production", "better auc")
        reviewer.rollback(first.name, "production", reason="latency regression in serving")
        reviewer.promote(f"{first.name}:{vs[-1]}", "staging", "try the newest in staging")
    elif vs:
        reviewer.approve(f"{first.name}:{vs[0]}", "looks good")
        reviewer.promote(f"{first.name}:{vs[0]}", "production", "first release")
    for other in models[1:2]:
        ovs = [v.version for v in catalog.versions(other.name)]
        if ovs:
            best = ovs[-2] if len(ovs) >= 2 else ovs[-1]
            reviewer.approve(f"{other.name}:{best}", "best validation score")
            reviewer.promote(f"{other.name}:{best}", "production", "release")
        if len(ovs) >= 2:
            reviewer.reject(f"{other.name}:{ovs[-1]}", "trained on the wrong split")
    for other in models[2:3]:
        ovs = [v.version for v in catalog.versions(other.name)]
        if ovs:
            reviewer.approve(f"{other.name}:{ovs[0]}", "ok for staging")
            reviewer.promote(f"{other.name}:{ovs[0]}", "staging", "staging trial")
    catalog.edit_model(
        first.name,
        description=f"# {first.name}\n\nDemo model seeded from `sample_models/`.\n\n"
        "- owner: the demo\n- promote with `p`, roll back with `r`\n",
        tags={"team": "demo"},
        reason="describe the demo model",
    )


def seed_demo(catalog: Catalog, samples: Path | None = None) -> None:
    """Register the sample artifacts, then add a little history."""
    runs = (samples or sample_models_dir()) / "runs"
    if not runs.is_dir():
        raise SamplesMissing(f"{runs}: no such folder of sample runs")
    _register_samples(catalog, runs)
    if not any(v.metrics for m in catalog.models() for v in catalog.versions(m.name, limit=20)):
        _register_explicit_into_fresh(catalog, runs)
    with Catalog(catalog.url, user=REVIEWER) as reviewer:
        add_history(catalog, reviewer)


def _register_explicit_into_fresh(catalog: Catalog, runs: Path) -> None:
    """The inspectors gave no metrics: add the sidecars' metrics as explicit values.

    Same bytes under a model never make a second version, so this only works on a
    catalog where scanning registered nothing yet; otherwise the scan stands.
    """
    if catalog.count_versions():
        return
    _register_explicit(catalog, runs)


def seed_synthetic(
    catalog: Catalog,
    reviewer: Catalog | None = None,
    *,
    models: Iterable[str] = ("churn-xgb", "fraud-net", "sentiment-bert"),
    versions: int = 6,
    batch: int = 5000,
) -> None:
    """Versions with fixed paths, hashes and metrics (no files), plus some history."""
    names = list(models)
    for name in names:
        pending: list[Candidate] = []
        for i in range(1, versions + 1):
            pending.append(_candidate(name, i))
            if len(pending) >= batch:
                catalog.add_candidates(pending)
                pending = []
        if pending:
            catalog.add_candidates(pending)
    if reviewer is not None:
        add_history(catalog, reviewer)


def _candidate(model: str, i: int) -> Candidate:
    sha = hashlib.sha256(f"{model}/{i}".encode()).hexdigest()
    seed = int(sha[:8], 16)
    auc = round(0.80 + 0.1 * (1 - math.exp(-i / 4)) + (seed % 100) / 5000, 4)
    loss = round(0.5 - 0.2 * (1 - math.exp(-i / 4)) + (seed % 37) / 2000, 4)
    fmt = ("onnx", "safetensors", "xgboost-json")[seed % 3]
    return Candidate(
        path=Path(f"/srv/runs/{model}/run-{i:03d}/model.{fmt.split('-')[0]}"),
        model=model,
        digest=Digest(sha, 1_000_000 + (seed % 90_000_000)),
        format=fmt,
        framework={"onnx": "onnx", "safetensors": "pytorch", "xgboost-json": "xgboost"}[fmt],
        metrics={"auc": auc, "loss": loss, "latency_ms": round(3 + (seed % 50) / 10, 1)},
        params={"lr": round(0.1 / i, 5), "depth": 4 + i % 5, "seed": seed % 1000},
        lineage={
            "run_dir": f"/srv/runs/{model}/run-{i:03d}",
            "git_commit": sha[:12],
            "host": "trainer-01",
        },
        warnings=["pickle: loading would import sklearn.ensemble"]
        if fmt == "xgboost-json" and i % 4 == 0
        else [],
    )


@contextlib.contextmanager
def demo_catalog() -> Iterator[Catalog]:
    """A fresh temporary catalog seeded from the sample models, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="regtui-demo-"))
    # The demo's kept copies (content store) go to the temporary folder, not the user's data.
    old_data = os.environ.get("REGTUI_DATA_DIR")
    os.environ["REGTUI_DATA_DIR"] = str(folder / "data")
    try:
        with Catalog(folder / "catalog.sqlite") as catalog:
            seed_demo(catalog)
            yield catalog
    finally:
        if old_data is None:
            os.environ.pop("REGTUI_DATA_DIR", None)
        else:
            os.environ["REGTUI_DATA_DIR"] = old_data
        shutil.rmtree(folder, ignore_errors=True)


def run_demo() -> int:
    """Open the TUI on a fresh temporary catalog seeded from the sample models."""
    from regtui.tui.app import make_app

    with demo_catalog() as catalog:
        app = make_app(catalog)
        app.run()
        return int(app.return_code or 0)


def check_demo(out: TextIO | None = None) -> int:
    """`regtui demo --headless-check`: seed the demo catalog as `regtui demo` does and
    print what the TUI would open on, one line per version, with no terminal UI.
    Exit code 1 when no version came with metrics (a broken installation)."""
    from regtui.cli.output import headline_metrics, safe

    out = out or sys.stdout
    with demo_catalog() as catalog:
        models = catalog.models()
        versions = [v for m in models for v in catalog.versions(m.name)]
        measured = sum(1 for v in versions if v.metrics)
        out.write(f"samples: {safe(sample_models_dir())}\n")
        for v in versions:
            cells = [
                safe(v.ref),
                safe(v.format),
                v.approval.status,
                ",".join(safe(s) for s in v.stages) or "-",
                safe(headline_metrics(v, 4)) or "-",
            ]
            out.write("  ".join(cells) + "\n")
        out.write(
            f"demo catalog: {len(models)} models, {len(versions)} versions, "
            f"{measured} with metrics, {catalog.audit_head()[0]} audit events\n"
        )
        hostile = sample_models_dir() / "hostile"
        if hostile.is_dir():
            _show_hostile(catalog, hostile, out)
    return 0 if measured else 1


def _show_hostile(beside: Catalog, hostile: Path, out: TextIO) -> None:
    """What regtui makes of the hostile samples (zip bombs, lying headers, pickles
    that would run a command), scanned into a second throwaway catalog."""
    from regtui.catalog.scan import scan
    from regtui.cli.output import safe
    from regtui.errors import reason_for

    out.write("hostile samples (read, never loaded):\n")
    with Catalog(Path(str(sqlite_file(beside.url))).with_name("hostile.sqlite")) as catalog:
        for item in sorted(scan(catalog, [hostile]), key=lambda i: i.path):
            name = Path(item.path).name
            detail = reason_for(str(item.path), item.detail)
            if item.version is not None:
                warnings = item.version.warnings
                detail = warnings[-1] if warnings else item.version.format
            out.write(f"  {item.outcome}  {safe(name)}  {safe(detail, 120)}\n")
