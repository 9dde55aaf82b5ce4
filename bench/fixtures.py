"""Test data: small artifact files, big sparse files, bulk-generated catalogs."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import time
from pathlib import Path

from bench.common import CACHE_DIR, REPO

GEN_VERSION = "1"  # bump when the generated data changes shape
MODEL = "bench-model"


def safetensors_bytes(seed: int, payload: int = 64) -> bytes:
    """A small valid safetensors file whose bytes differ by seed."""
    header = json.dumps(
        {
            "__metadata__": {"seed": str(seed)},
            "w": {"dtype": "U8", "shape": [payload], "data_offsets": [0, payload]},
        },
        separators=(",", ":"),
    ).encode()
    data = hashlib.sha256(str(seed).encode()).digest() * (payload // 32 + 1)
    return struct.pack("<Q", len(header)) + header + data[:payload]


def write_small_artifacts(folder: Path, n: int, *, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + n):
        p = folder / f"model-{i:06d}.safetensors"
        p.write_bytes(safetensors_bytes(i))
        paths.append(p)
    return paths


def sparse_safetensors(path: Path, size: int) -> Path:
    """A safetensors file of `size` bytes: a real header, then a hole (no disk used)."""
    if path.exists() and path.stat().st_size == size:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    probe = json.dumps({"w": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}}).encode()
    hlen = len(probe) + 32
    payload = size - 8 - hlen
    header = json.dumps(
        {"w": {"dtype": "U8", "shape": [payload], "data_offsets": [0, payload]}}
    ).encode()
    header = header.ljust(hlen, b" ")
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(header)) + header)
        fh.truncate(size)
    return path


def src_fingerprint() -> str:
    """Changes whenever the catalog code or schema changes (then the cache is rebuilt)."""
    h = hashlib.sha256(GEN_VERSION.encode())
    for p in sorted((REPO / "src/regtui").glob("catalog/*.py")) + sorted(
        (REPO / "src/regtui/migrations").rglob("*.py")
    ):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def model_name(i: int, models: int) -> str:
    """The model of the i-th generated version: MODEL, or one of `models` in turn."""
    return MODEL if models == 1 else f"{MODEL}-{i % models:03d}"


def candidates(start: int, stop: int, total: int, models: int = 1) -> list:  # list[Candidate]
    from regtui.catalog.service import Candidate
    from regtui.hashing import Digest

    return [
        Candidate(
            path=Path(f"/bench/runs/{model_name(i, models)}/model-{i:06d}.safetensors"),
            model=model_name(i, models),
            digest=Digest(hashlib.sha256(i.to_bytes(8, "little")).hexdigest(), 1_000_000 + i),
            format="safetensors",
            framework="pytorch",
            metrics={"auc": (i * 7919 % 100_000) / 100_000, "loss": 1 - i / total},
            params={"lr": 0.001, "epochs": i % 50, "layers": 4},
            tags={"team": f"team-{i % 100}", "run": f"run-{i}"},
        )
        for i in range(start, stop)
    ]


def generate_catalog(db: Path | str, n: int, *, batch: int = 5000, models: int = 1) -> float:
    """Write n versions (of MODEL, or spread over `models` models) into a new catalog
    through the service; returns versions/s."""
    from regtui.catalog.service import Catalog

    t0 = time.perf_counter()
    on_server = str(db).startswith("postgresql")  # the server names who acts there
    with Catalog(db, user=None if on_server else "bench-gen") as cat:
        for s in range(0, n, batch):
            cat.add_candidates(candidates(s, min(n, s + batch), n, models))
    return n / (time.perf_counter() - t0)


def cached_catalog(n: int, dest: Path, models: int = 1) -> tuple[Path, float | None]:
    """A catalog with n versions (spread over `models` models) copied to dest;
    generated once per code fingerprint.

    Returns (path, generation rate in versions/s or None when the cache was reused).
    """
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    stem = f"regtui-{n}" if models == 1 else f"regtui-{n}x{models}"
    cached = CACHE_DIR / f"{stem}-{src_fingerprint()}.db"
    rate = None
    if not cached.exists():
        for old in CACHE_DIR.glob(f"{stem}-*.db*"):
            old.unlink()
        tmp = cached.with_suffix(".gen")
        for p in tmp.parent.glob(tmp.name + "*"):
            p.unlink()
        rate = generate_catalog(tmp, n, models=models)
        _checkpoint(tmp)
        tmp.rename(cached)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, dest)
    return dest, rate


def _checkpoint(db: Path) -> None:
    """Fold the WAL into the main file so one file copy is the whole catalog."""
    import sqlite3

    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    for suffix in ("-wal", "-shm"):
        p = Path(str(db) + suffix)
        if p.exists():
            p.unlink()
