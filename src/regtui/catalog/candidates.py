"""An artifact made ready to be written as a version: inspected and hashed, with
no database work, so any thread may do it (the watcher's workers do).

`Catalog.prepare` is `Preparer.prepare`; `catalog.new_versions` writes what it returns.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from regtui import readlog
from regtui.catalog.artifacts import entry
from regtui.catalog.input_checks import (
    clean_metrics,
    clean_params,
    clean_tags,
    has_nul,
    without_nul,
)
from regtui.catalog.refs import check_model_name
from regtui.errors import ArtifactChanged, ArtifactRefused
from regtui.hashing import Digest, Progress, hash_path, iter_tree
from regtui.inspect.folder_names import remembered

if TYPE_CHECKING:
    from regtui.inspect.facts import Facts

READ_ATTEMPTS = 3  # looks at an artifact that keeps changing before it is refused


@dataclass
class Candidate:
    """An artifact hashed and inspected, ready to be written as a version."""

    path: Path
    model: str
    digest: Digest
    format: str = "unknown"
    framework: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Why the format shows the artifact incomplete or lying (None: sound).
    damage: str | None = None
    # Whether the format itself proves the bytes complete (the watcher need not
    # wait out the whole settle time for such a file).
    complete: bool = False
    datasets: list[dict[str, Any]] = field(default_factory=list)
    # The metrics/params the caller gave explicitly (not read from sidecars): on
    # registering the same bytes again these replace what the version holds,
    # while sidecar values only fill in what it lacks.
    given_metrics: dict[str, float] = field(default_factory=dict)
    given_params: dict[str, Any] = field(default_factory=dict)


# What a candidate holds that an artifact or its sidecars may have said.
_READ_FIELDS = (
    "metrics",
    "params",
    "tags",
    "metadata",
    "lineage",
    "warnings",
    "damage",
    "datasets",
)


def storable(cand: Candidate) -> Candidate:
    """`cand` as both backends store it: a NUL in text an artifact or its sidecars
    gave (a header's metadata, a sidecar's tag) shown as U+FFFD. PostgreSQL stores
    no NUL in text or JSONB, so such an artifact could not be registered there at
    all, while SQLite took it; what a person gives is refused instead (refuse_nul)."""
    if not any(has_nul(getattr(cand, f)) for f in _READ_FIELDS):
        return cand
    return replace(cand, **{f: without_nul(getattr(cand, f)) for f in _READ_FIELDS})


class Preparer:
    """Holds no state: `Catalog` inherits `prepare` from here, so its body stays
    one text that the registration path and the watcher share."""

    def prepare(
        self,
        path: str | os.PathLike[str],
        model: str,
        *,
        metrics: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
        lineage: dict[str, Any] | None = None,
        root: Path | None = None,
        progress: Progress | None = None,
        datasets: Sequence[str | os.PathLike[str]] = (),
        dataset_progress: Progress | None = None,
    ) -> Candidate:
        """Inspect and hash an artifact (no database work; safe in any thread).

        Explicit metrics/params/tags/lineage win over what sidecars said.
        `datasets` are paths (hashed, see catalog.datasets) or URIs (never
        fetched) of the data that made it; sidecars naming data add theirs.
        """
        from regtui.catalog import datasets as data

        check_model_name(model)
        p, folder = entry(path)  # resolved first: the version is the bytes, not a link to them
        given_metrics = clean_metrics(metrics)
        given_params = clean_params(params)
        named = data.given(datasets, dataset_progress)  # before the artifact: fail fast
        with remembered():  # its sidecars, run folder and data files: each name asked once
            facts, digest = self._inspect_and_hash(p, folder, root, progress)
            warnings = list(facts.warnings)
            found = data.merge(named, data.from_sidecars(p, facts.metadata, warnings, root, folder))
        return Candidate(
            path=p,
            model=model,
            digest=digest,
            format=facts.format,
            framework=facts.framework,
            metrics={**clean_metrics(facts.metrics, given=False), **given_metrics},
            params={**facts.params, **given_params},
            tags=clean_tags(tags),
            metadata=facts.metadata,
            lineage={**facts.lineage, **(lineage or {})},
            warnings=warnings,
            damage=facts.damage,
            complete=facts.complete,
            datasets=found,
            given_metrics=given_metrics,
            given_params=given_params,
        )

    @staticmethod
    def _inspect_and_hash(
        p: Path, folder: bool, root: Path | None, progress: Progress | None
    ) -> tuple[Facts, Digest]:
        """Facts and sha256 of one and the same file or bundle (readlog): the
        identity of every file is taken before inspection and after hashing, and
        the hash re-checks every range inspection read. A file that changes
        meanwhile is looked at again, up to READ_ATTEMPTS times, then refused.
        Inspection runs under a deadline (bounds.deadline): over it, refused.
        `p` is resolved (artifacts.entry), `folder` says whether it is a bundle."""
        from regtui.inspect import inspect_path
        from regtui.inspect.bounds import deadline

        why = ""
        for _ in range(READ_ATTEMPTS):
            with readlog.reading() as log:
                before = readlog.snapshot(p, _members(p, folder))
                with deadline() as limit:
                    facts = inspect_path(p, root=root, folder=folder)
                if limit.passed:  # even if an inspector swallowed the refusal
                    raise ArtifactRefused(f"{p}: refused: {limit.reason()}")
                if facts.refused and not log.changed:
                    raise ArtifactRefused(f"{p}: refused: {facts.refused}")
                digest: Digest | None = None
                with contextlib.suppress(readlog.Changed):  # the log says why
                    digest = hash_path(p, progress, folder)
                after = readlog.snapshot(p, _members(p, folder))
                problem = readlog.mismatch(log, before, after)
            if problem is None and digest is not None:
                return facts, digest
            why = problem or "changed while it was being read"
        raise ArtifactChanged(
            f"{p}: refused: changed while it was being read ({READ_ATTEMPTS} tries); "
            f"try again when it is quiet: {why[:300]}"
        )


def _members(p: Path, folder: bool) -> list[Path] | None:
    """The files a bundle's hash covers (None for a file): the listing that must
    be the same before inspection and after hashing."""
    return [f for _, f in iter_tree(p, checkpoints=False)] if folder else None
