"""`regtui demo`: a fresh temporary catalog seeded from sample_models/, with history.

`seed_demo` registers the sample artifacts and adds a little history (approvals by
a second user, a promotion to production, a promotion rolled back, a rejection),
so every screen has something to show. `seed_synthetic` makes a catalog of any
size without files (fixed paths, hashes and metrics) for tests and benchmarks.
No Textual here except inside `run_demo`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from regtui.catalog.service import Candidate, Catalog
from regtui.errors import RegtuiError
from regtui.hashing import Digest

REVIEWER = "reviewer"


def sample_models_dir() -> Path:
    """`sample_models/` of the source tree (also where an sdist unpacks it)."""
    return Path(__file__).resolve().parents[2] / "sample_models"


def _register_samples(catalog: Catalog, runs: Path) -> None:
    try:
        from regtui.catalog.scan import scan
    except ImportError:  # pragma: no cover - scan ships with the core
        scan = None
    if scan is not None:
        scan(catalog, [runs])
        return
    for model_dir in sorted(p for p in runs.iterdir() if p.is_dir()):  # pragma: no cover
        for run in sorted(p for p in model_dir.iterdir() if p.is_dir()):
            for f in sorted(run.iterdir()):
                if f.is_file() and not f.name.endswith(".json"):
                    catalog.register(f, model=model_dir.name)


def _make_tiny_runs(folder: Path) -> Path:
    """Tiny stand-in artifacts when sample_models/ is missing (a bare checkout)."""
    runs = folder / "runs"
    specs = {
        "churn-xgb": [(0.861, 0.41), (0.874, 0.38), (0.892, 0.35), (0.887, 0.36)],
        "fraud-net": [(0.912, 0.22), (0.931, 0.19), (0.925, 0.2)],
        "sentiment-bert": [(0.842, 0.48), (0.866, 0.44)],
    }
    for model, rows in specs.items():
        for i, (auc, loss) in enumerate(rows, start=1):
            run = runs / model / f"run-{i:03d}"
            run.mkdir(parents=True, exist_ok=True)
            (run / "model.onnx").write_bytes(f"{model} weights {i}".encode() * 64)
            (run / "metrics.json").write_text(json.dumps({"auc": auc, "loss": loss}))
            (run / "params.json").write_text(json.dumps({"lr": 0.1 / i, "depth": 4 + i}))
    return runs


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
    samples = samples or sample_models_dir()
    runs = samples / "runs"
    tmp: Path | None = None
    if not runs.is_dir():
        tmp = Path(tempfile.mkdtemp(prefix="regtui-samples-"))
        runs = _make_tiny_runs(tmp)
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


def run_demo() -> int:
    """Open the TUI on a fresh temporary catalog seeded from sample_models/."""
    from regtui.tui.app import make_app

    folder = Path(tempfile.mkdtemp(prefix="regtui-demo-"))
    # The demo's kept copies (content store) go to the temporary folder, not the user's data.
    old_data = os.environ.get("REGTUI_DATA_DIR")
    os.environ["REGTUI_DATA_DIR"] = str(folder / "data")
    try:
        with Catalog(folder / "catalog.sqlite") as catalog:
            seed_demo(catalog)
            app = make_app(catalog)
            app.run()
            return int(app.return_code or 0)
    finally:
        if old_data is None:
            os.environ.pop("REGTUI_DATA_DIR", None)
        else:
            os.environ["REGTUI_DATA_DIR"] = old_data
        shutil.rmtree(folder, ignore_errors=True)
