"""Artifact inspectors: turn a path into Facts without executing anything from it.

This is the seam the catalog calls during registration. The real inspectors
(issue "Artifact inspectors") replace the body of `inspect_path`; its
signature and the Facts it returns are the contract.
"""

from __future__ import annotations

from pathlib import Path

from regtui.inspect.facts import Facts

__all__ = ["Facts", "inspect_path"]


def inspect_path(path: Path, *, root: Path | None = None) -> Facts:
    """Facts about `path` (file or bundle folder). `root` is the watched or
    scanned root, if any: nothing outside it may be followed."""
    return Facts()
