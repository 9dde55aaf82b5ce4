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

from regtui.catalog.artifacts import entry_path
from regtui.catalog.records import ScanItem
from regtui.catalog.service import Candidate, Catalog
from regtui.errors import ArtifactError, RegtuiError, UsageError
from regtui.hashing import CHECKPOINT_DIR, kind_of
from regtui.inspect.folder_names import Memo, remembered
from regtui.tree_walk import Skipped, walk

BATCH = 500
# Below this size preparing an artifact is Python work (headers, sidecars), which
# threads cannot share under the GIL: their hand-offs made a scan of small files
# slower than doing it in one thread. Larger files are hashed in the pool, where
# hashlib runs without the GIL.
POOL_MIN_BYTES = 1 << 20
_TRANSIENT = ("changed while", "deleted while", "no such file")
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


def find_artifacts(root: Path) -> Iterator[Path | Skipped]:
    """Artifacts under root, in name order: bundle folders (whole, with their
    `checkpoint-N/` folders as versions of their own) and candidate files.

    Never raises for what it meets and always finishes: links are not followed
    (a link that looks like an artifact is yielded, and the inspector decides),
    and what cannot be an artifact for a reason worth telling (a folder that
    cannot be listed or lies too deep, a name that is not UTF-8, a FIFO or device
    named like a model) is yielded as Skipped, one line each.
    """
    from regtui.inspect import is_bundle_dir, is_ignored_name

    if not root.is_dir():
        yield root
        return
    if is_bundle_dir(root):
        yield root
        yield from _checkpoint_bundles(root)
        return
    bundles: set[str] = set()

    def descend(entry: os.DirEntry[str], _depth: int) -> bool:
        if is_ignored_name(entry.name) or not _utf8(entry.name):
            return False
        if is_bundle_dir(Path(entry.path)):
            bundles.add(entry.path)
            return False
        return not _hf_blobs(entry)

    for found in walk(root, descend):
        if isinstance(found, Skipped):
            yield found
            continue
        entry, _ = found
        if is_ignored_name(entry.name):
            continue
        path = Path(entry.path)
        if not _utf8(entry.name):
            yield Skipped(path, f"name is not valid UTF-8 ({_shown(entry.name)}); rename it")
        elif entry.path in bundles:
            yield path
            yield from _checkpoint_bundles(path)
        else:
            yield from _file_entry(entry, path)


def _hf_blobs(entry: os.DirEntry[str]) -> bool:
    """A Hugging Face cache repository's `blobs/`: its files are the bytes of the
    snapshots' links, found and registered through the snapshot bundles."""
    return entry.name == "blobs" and os.path.isdir(
        os.path.join(os.path.dirname(entry.path), "snapshots")
    )


def _file_entry(entry: os.DirEntry[str], path: Path) -> Iterator[Path | Skipped]:
    """A non-folder entry: an artifact candidate, a special file named like one
    (refused: reading it could block), or nothing."""
    from regtui.inspect import is_artifact_candidate

    try:
        mode = entry.stat(follow_symlinks=False).st_mode
    except OSError as exc:
        yield Skipped(path, f"cannot stat: {exc.strerror or exc}")
        return
    if stat.S_ISLNK(mode):
        # Not followed here: the inspector decides (a loop or a link out of the root is refused).
        if not _link_to_folder(path):
            yield path
    elif stat.S_ISREG(mode):
        if is_artifact_candidate(path):
            yield path
    elif not stat.S_ISDIR(mode) and _named_like_model(path):
        yield Skipped(path, f"is {kind_of(mode)}, not a regular file")


def _link_to_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False  # dangling or a loop: yielded, and refused with the reason


def _named_like_model(path: Path) -> bool:
    from regtui.inspect.detect import MAYBE_EXTENSIONS, MODEL_EXTENSIONS

    ext = path.suffix.lower()
    return ext in MODEL_EXTENSIONS or ext in MAYBE_EXTENSIONS


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(name: str) -> str:
    """A name that is not UTF-8, with its raw bytes as \\x escapes."""
    return os.fsencode(name).decode("ascii", "backslashreplace")


def _checkpoint_bundles(folder: Path) -> Iterator[Path]:
    from regtui.inspect import is_bundle_dir

    for sub in _subdirs(folder):
        if CHECKPOINT_DIR.fullmatch(sub.name) and is_bundle_dir(sub):
            yield sub


def _subdirs(p: Path) -> list[Path]:
    try:
        return sorted(x for x in p.iterdir() if x.is_dir() and not x.is_symlink())
    except OSError:
        return []


def shown_path(path: Path) -> str:
    """A path as text that any output takes (a name that is not UTF-8 escaped)."""
    text = str(path)
    return text if _utf8(text) else _shown(text)


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

    jobs: list[tuple[Path, Path, str]] = []
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
                    ScanItem(shown_path(found.path), name, "refused", detail=found.reason)
                )
            else:
                jobs.append((root, found, model_for(root, found, model)))
    for item in skipped:
        emit(item)

    # One scan asks each folder for its sidecars once, whichever thread asks.
    names_seen = Memo()

    def prepare(job: tuple[Path, Path, str]) -> Candidate | ScanItem:
        root, path, name = job
        try:
            with remembered(names_seen):
                cand = catalog.prepare(path, name, root=root)
        except ArtifactError as exc:
            # What is wrong with the entry itself (refused, unreadable) is a refusal;
            # an entry that moved under the scan is an error: another scan may do.
            msg = str(exc)
            outcome = "error" if any(t in msg for t in _TRANSIENT) else "refused"
            return ScanItem(str(path), name, outcome, detail=msg)
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
