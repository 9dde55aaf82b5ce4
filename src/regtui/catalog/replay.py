"""Changes that replay a history kept elsewhere (an import from MLflow): inside
`replaying`, every change is stamped with the original time, made in the original
actor's name, and its audit event says it was imported and from where."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime

from regtui.catalog import audit, clock
from regtui.catalog.core import Core


@contextmanager
def replaying(core: Core, *, at: datetime | None, actor: str | None, source: str) -> Iterator[None]:
    """`at` None stamps now; `actor` None keeps the catalog's own (the person importing)."""
    was = core.actor
    token = audit.imported_from.set(source)
    try:
        with clock.at(at) if at else nullcontext():
            if actor:
                core.actor = actor
            yield
    finally:
        core.actor = was
        audit.imported_from.reset(token)
