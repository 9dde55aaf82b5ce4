"""One pass over folders: find artifacts, hash and inspect them in parallel,
register what is new in batched transactions, and refuse (with the reason) what
is damaged. Used by `regtui scan` and the demo. What is an artifact, and of
which model, is inspect.layouts' (the watcher asks it too).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from pathlib import Path

from regtui.catalog.artifacts import entry_path
from regtui.catalog.records import ScanItem
from regtui.catalog.scan_processes import Forked, Job
from regtui.catalog.service import Candidate, Catalog
from regtui.errors import ArtifactChanged, ArtifactError, ArtifactGone, RegtuiError, UsageError
from regtui.inspect.folder_names import Memo, remembered
from regtui.inspect.layouts import find_artifacts, model_for, shown_path
from regtui.tree_walk import Skipped

BATCH = 500
# Below this size preparing an artifact is Python work (headers, sidecars), which
# threads cannot share under the GIL: their hand-offs made a scan of small files
# slower than doing it in one thread. Larger files are hashed in the pool, where
# hashlib runs without the GIL.
POOL_MIN_BYTES = 1 << 20


class ScanOutcome(StrEnum):
    """What a scan did with one entry (a str: JSON and text output show the value)."""

    REGISTERED = "registered"
    EXISTS = "exists"  # the bytes were a version of the model already
    REFUSED = "refused"  # the entry itself will not do; scanning again changes nothing
    ERROR = "error"  # it moved under the scan, or the catalog failed: another scan may do


def _pooled(path: Path) -> bool:
    """Big files, folders (bundles) and links go to the thread pool."""
    try:
        st = os.lstat(path)
    except OSError:
        return False  # gone: prepare says so, quickly
    return not stat.S_ISREG(st.st_mode) or st.st_size >= POOL_MIN_BYTES


def scan(
    catalog: Catalog,
    roots: Sequence[Path],
    model: str | None = None,
    *,
    on_item: Callable[[ScanItem], None] | None = None,
    workers: int | None = None,
) -> list[ScanItem]:
    """Register everything new under `roots`; errors on one artifact don't stop the rest."""
    items: list[ScanItem] = []

    def emit(item: ScanItem) -> None:
        items.append(item)
        if on_item is not None:
            on_item(item)

    jobs: list[Job] = []
    skipped: list[ScanItem] = []
    for given in roots:
        try:
            root = entry_path(given)
        except ArtifactError as exc:
            raise UsageError(str(exc).replace(": refused:", ":")) from None
        for found in find_artifacts(root):
            if isinstance(found, Skipped):
                name = model_for(root, found.path, model)
                skipped.append(
                    ScanItem(shown_path(found.path), name, ScanOutcome.REFUSED, detail=found.reason)
                )
            else:
                jobs.append((root, found, model_for(root, found, model)))
    for item in skipped:
        emit(item)

    # One scan asks each folder for its sidecars once, whichever thread asks.
    names_seen = Memo()

    def prepare(job: Job) -> Candidate | ScanItem:
        root, path, name = job
        try:
            with remembered(names_seen):
                cand = catalog.prepare(path, name, root=root)
        except (ArtifactChanged, ArtifactGone) as exc:
            # An entry that moved under the scan is an error: another scan may do.
            return ScanItem(str(path), name, ScanOutcome.ERROR, detail=str(exc))
        except ArtifactError as exc:
            # What is wrong with the entry itself (refused, unreadable) is a refusal.
            return ScanItem(str(path), name, ScanOutcome.REFUSED, detail=str(exc))
        except RegtuiError as exc:
            return ScanItem(str(path), name, ScanOutcome.ERROR, detail=str(exc))
        if cand.damage:
            # Only an explicit register records a damaged artifact (and policy keeps
            # it from shipping); a scan leaves it out and says why.
            return ScanItem(str(path), name, ScanOutcome.REFUSED, detail=f"damaged: {cand.damage}")
        return cand

    pending: list[Candidate] = []

    def flush() -> None:
        if not pending:
            return
        for cand, res in zip(pending, catalog.add_candidates(pending), strict=True):
            emit(
                ScanItem(
                    str(cand.path),
                    cand.model,
                    ScanOutcome.REGISTERED if res.created else ScanOutcome.EXISTS,
                    res.version,
                )
            )
        pending.clear()

    big = {i for i, job in enumerate(jobs) if _pooled(job[1])}
    small = [i for i in range(len(jobs)) if i not in big]
    n = workers or min(4, (os.cpu_count() or 1) + 1)
    # The processes fork first, while this is the only thread.
    with (
        Forked(prepare, jobs, small) as forked,
        ThreadPoolExecutor(max_workers=n, thread_name_prefix="regtui-scan") as pool,
    ):
        pooled = {i: pool.submit(prepare, jobs[i]) for i in sorted(big)}
        for i, job in enumerate(jobs):
            # In the order found, whichever thread or process prepared it.
            if i in pooled:
                result = pooled.pop(i).result()
            else:
                taken = forked.take(i)
                result = prepare(job) if taken is None else taken
            if isinstance(result, ScanItem):
                emit(result)
            else:
                pending.append(result)
                if len(pending) >= BATCH:
                    flush()
    flush()
    return items
