"""One pass over folders: find artifacts, hash and inspect them in parallel,
register what is new in batched transactions, and refuse (with the reason) what
is damaged. Used by `regtui scan`, the watcher's catch-up and the demo.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from regtui.catalog.records import ScanItem
from regtui.catalog.service import Candidate, Catalog
from regtui.errors import ArtifactError, RegtuiError, UsageError
from regtui.hashing import CHECKPOINT_DIR

BATCH = 500
# Below this size preparing an artifact is Python work (headers, sidecars), which
# threads cannot share under the GIL: their hand-offs made a scan of small files
# slower than doing it in one thread. Larger files are hashed in the pool, where
# hashlib runs without the GIL.
POOL_MIN_BYTES = 1 << 20
_BAD_NAME_CHARS = re.compile(r"[^a-z0-9._-]+")


def normalise_model_name(name: str) -> str:
    """A folder name made into a valid model name ("My Run 1" -> "my-run-1")."""
    out = _BAD_NAME_CHARS.sub("-", name.lower()).lstrip("._-")[:128].rstrip("-")
    return out or "model"


def model_for(root: Path, path: Path, fixed: str | None = None) -> str:
    """The model an artifact belongs to: `fixed`, else the first folder under the root
    that holds it; a file right in the root, or a `checkpoint-N/` folder right in it,
    belongs to the root's own name."""
    if fixed:
        return fixed
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return normalise_model_name(path.parent.name)
    if len(parts) >= 2:
        return normalise_model_name(parts[0])
    if path.is_dir() and not CHECKPOINT_DIR.fullmatch(path.name):
        return normalise_model_name(path.name)
    return normalise_model_name(root.resolve().name)


def find_artifacts(root: Path) -> Iterator[Path]:
    """Artifacts under root, in name order: bundle folders (whole, with their
    `checkpoint-N/` folders as versions of their own) and candidate files.
    Symlinks are never followed."""
    if root.is_file():
        yield root
        return
    yield from _walk(root)


def _walk(folder: Path) -> Iterator[Path]:
    from regtui.inspect import is_artifact_candidate, is_bundle_dir, is_ignored_name

    if is_bundle_dir(folder):
        yield folder
        for sub in _subdirs(folder):
            if CHECKPOINT_DIR.fullmatch(sub.name) and is_bundle_dir(sub):
                yield sub
        return
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if is_ignored_name(entry.name):
            continue
        path = Path(entry.path)
        if entry.is_symlink():
            # Not followed here: the inspector decides (a link out of the root is refused).
            if not entry.is_dir():
                yield path
            continue
        if entry.is_dir():
            yield from _walk(path)
        elif entry.is_file() and is_artifact_candidate(path):
            yield path


def _subdirs(p: Path) -> list[Path]:
    try:
        return sorted(x for x in p.iterdir() if x.is_dir() and not x.is_symlink())
    except OSError:
        return []


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
    jobs: list[tuple[Path, Path, str]] = []
    for root in roots:
        root = Path(root).expanduser().absolute()
        if not root.exists():
            raise UsageError(f"{root}: no such file or folder")
        for path in find_artifacts(root):
            jobs.append((root, path, model_for(root, path, model)))

    items: list[ScanItem] = []

    def emit(item: ScanItem) -> None:
        items.append(item)
        if on_item is not None:
            on_item(item)

    def prepare(job: tuple[Path, Path, str]) -> Candidate | ScanItem:
        root, path, name = job
        try:
            cand = catalog.prepare(path, name, root=root)
        except ArtifactError as exc:
            outcome = "refused" if ": refused:" in str(exc) else "error"
            return ScanItem(str(path), name, outcome, detail=str(exc))
        except RegtuiError as exc:
            return ScanItem(str(path), name, "error", detail=str(exc))
        if cand.damage:
            # Only an explicit register records a damaged artifact (and policy keeps
            # it from shipping); a scan leaves it out and says why.
            return ScanItem(str(path), name, "refused", detail=f"damaged: {cand.damage}")
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
                    "registered" if res.created else "exists",
                    res.version,
                )
            )
        pending.clear()

    n = workers or min(4, (os.cpu_count() or 1) + 1)
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="regtui-scan") as pool:
        pooled = {i: pool.submit(prepare, job) for i, job in enumerate(jobs) if _pooled(job[1])}
        for i, job in enumerate(jobs):
            # In the order found, whichever thread prepared it.
            result = pooled.pop(i).result() if i in pooled else prepare(job)
            if isinstance(result, ScanItem):
                emit(result)
            else:
                pending.append(result)
                if len(pending) >= BATCH:
                    flush()
    flush()
    return items
