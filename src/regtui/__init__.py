"""regtui: a local-first model registry with a terminal UI.

`from regtui import Registry` gives training scripts the catalog service;
it is imported lazily so that `regtui --version` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Registry", "__version__"]

if TYPE_CHECKING:
    from regtui.catalog.service import Catalog as Registry


def __getattr__(name: str) -> Any:
    if name == "Registry":
        from regtui.catalog.service import Catalog

        return Catalog
    raise AttributeError(name)
