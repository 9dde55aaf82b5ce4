"""Small builders shared by the core tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from regtui.catalog.service import Catalog
from regtui.inspect.detect import MODEL_EXTENSIONS
from tests.support.pg import url_as
from tests.unit.inspect.helpers import safetensors_bytes


def open_as(url: str, user: str) -> Catalog:
    """A catalog opened by `user`: on PostgreSQL that means logging in as that role."""
    return Catalog(url_as(url, user), user=user)


def model_bytes(content: bytes | str) -> bytes:
    """A small, sound safetensors file standing for `content`: distinct content gives
    distinct bytes (text rides in its metadata; bytes set its size and a digest), so
    tests can make versions of "model 1" and "model 2" that are real models, not the
    unrecognised content that registers as damaged."""
    if isinstance(content, str):
        return safetensors_bytes({"w": ("U8", [1])}, {"content": content})
    digest = hashlib.sha256(content).hexdigest()
    return safetensors_bytes({"w": ("U8", [len(content)])}, {"sha256": digest})


def artifact(folder: Path, name: str, content: bytes | str) -> Path:
    """A file `name` under `folder`: under a model file's name it holds
    `model_bytes(content)`; any other file (data, a sidecar) holds `content` itself."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in MODEL_EXTENSIONS:
        path.write_bytes(model_bytes(content))
    else:
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def catalog_with_versions(url: str, folder: Path, n: int = 3, user: str = "alice") -> Catalog:
    """A catalog with model `churn` holding versions 1..n of distinct bytes."""
    cat = open_as(url, user)
    for i in range(1, n + 1):
        cat.register(
            artifact(folder, f"m{i}.bin", f"model {i}"),
            "churn",
            metrics={"auc": 0.8 + i / 100, "loss": 1 / i},
            params={"lr": 0.1 / i},
            tags={"team": "growth" if i % 2 else "core"},
        )
    return cat
