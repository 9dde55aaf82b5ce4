"""Small builders shared by the core tests."""

from __future__ import annotations

from pathlib import Path

from regtui.catalog.service import Catalog
from tests.support.pg import url_as


def open_as(url: str, user: str) -> Catalog:
    """A catalog opened by `user`: on PostgreSQL that means logging in as that role."""
    return Catalog(url_as(url, user), user=user)


def artifact(folder: Path, name: str, content: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
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
