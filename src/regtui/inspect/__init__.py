"""Artifact inspectors: turn a path into Facts without executing anything from it.

`inspect_path` decides the format from content (magic bytes, headers), reads
only bounded headers, adds sidecar metrics/params and lineage, and never raises
for bad content: hostile input becomes a refusal or a warning, and bytes the
format shows incomplete or lying (or content that is no model at all) become
`Facts.damage`. Where the format proves the bytes whole, `Facts.complete` says so.
Which inspector reads which format is the table in `formats.py`. The naming
helpers are shared with the scanner and the watcher.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from regtui.errors import ArtifactError
from regtui.hashing import tree_members
from regtui.inspect.bounds import (
    MAX_WARNING_CHARS,
    MAX_WARNINGS,
    BadContent,
    Damaged,
    Refused,
    bounded,
    clip,
)
from regtui.inspect.bundles import (
    bundle_files,
    bundle_kind,
    bundle_root,
    inspect_huggingface,
    inspect_mlflow,
    is_bundle_dir,
    merge_inner,
    savedmodel_files,
)
from regtui.inspect.detect import is_artifact_candidate, is_ignored_name
from regtui.inspect.facts import Facts
from regtui.inspect.file_reader import inspect_file
from regtui.inspect.lineage import lineage_for
from regtui.inspect.sidecars import add_sidecars
from regtui.inspect.tensorflow import inspect_savedmodel
from regtui.tree_walk import resolve

__all__ = [
    "Facts",
    "bundle_root",
    "inspect_path",
    "is_artifact_candidate",
    "is_bundle_dir",
    "is_ignored_name",
]


def inspect_path(path: Path, *, root: Path | None = None, folder: bool | None = None) -> Facts:
    """Facts about `path` (file or bundle folder). `root` is the watched or
    scanned root, if any: nothing outside it may be followed. `folder`, from a
    caller that resolved `path` already (catalog.artifacts.entry), says what it
    is: then it is not resolved again, only checked against the root."""
    facts = Facts()
    try:
        reason = _link_refusal(path, root) if folder is None else _entry_refusal(path, folder, root)
        if reason:
            facts.refused = reason
            return facts
        bundle = path.is_dir() if folder is None else folder
        run_dir = path if bundle else path.parent
        try:
            if bundle:
                _inspect_bundle(path, facts, root)
            else:
                inspect_file(path, facts)
        except Damaged as exc:
            # Still read its run's sidecars and lineage: an explicit register
            # records a damaged version with everything else it can know.
            facts.damage = str(exc)
        if facts.refused is None:
            add_sidecars(facts, path, root, bundle)
            facts.lineage = lineage_for(run_dir.absolute())
    except Refused as exc:
        facts.refused = clip(str(exc), MAX_WARNING_CHARS)
    except BadContent as exc:
        facts.warnings.append(str(exc))
    except OSError as exc:
        facts.warnings.append(f"cannot read: {exc.strerror or exc}")
    except Exception as exc:  # last resort: a bug here must not stop a scan
        facts.warnings.append(f"inspector failed: {type(exc).__name__}: {exc}")
    return _finish(facts)


def _finish(facts: Facts) -> Facts:
    if facts.damage is not None:
        facts.damage = clip(" ".join(facts.damage.split()), MAX_WARNING_CHARS)  # one line
        facts.complete = False  # damaged bytes are never proven whole
    facts.metadata = bounded(facts.metadata)
    facts.params = bounded(facts.params)
    facts.lineage = bounded(facts.lineage)
    facts.metrics = {clip(k, 200): v for k, v in list(facts.metrics.items())[:500]}
    seen: list[str] = []
    for w in facts.warnings:
        w = clip(w, MAX_WARNING_CHARS)
        if w not in seen:
            seen.append(w)
    if len(seen) > MAX_WARNINGS:
        seen = [*seen[:MAX_WARNINGS], f"… and {len(seen) - MAX_WARNINGS} more warnings"]
    facts.warnings = seen
    return facts


def _link_refusal(path: Path, root: Path | None) -> str | None:
    """A reason to refuse `path` for its symlinks, or None: a dangling or looping
    link; with a root, a path that resolves outside it; in a bundle folder, any
    link that hashing.tree_members would not hash as bytes (dangling, looping, to
    a folder, or leaving the bundle)."""
    try:
        real, st = resolve(path)
    except OSError as exc:
        if not os.path.islink(path):
            return None  # missing: the hash says so
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        return f"broken symlink -> {clip(os.readlink(path), 300)}"
    return _entry_refusal(Path(real), stat.S_ISDIR(st.st_mode), root)


def _entry_refusal(path: Path, folder: bool, root: Path | None) -> str | None:
    """`_link_refusal` for a path resolved already: no link left to follow."""
    if root is not None and not _resolves_inside(os.fspath(path), root):
        return f"symlink points outside the watched root: {clip(os.fspath(path), 300)}"
    return _bundle_link_refusal(path) if folder else None


def _resolves_inside(real: str, root: Path) -> bool:
    """Whether a resolved path lies in `root`. Scans and watches pass their root
    resolved, and a resolved path that starts with a root's spelling is inside
    it (each part of that spelling is then a real folder): no resolve needed."""
    if _under(real, os.fspath(root)):
        return True
    try:
        return _under(real, resolve(root)[0])
    except OSError:  # gone: nothing resolves inside it
        return False


def _under(path: str, top: str) -> bool:
    top = top.rstrip(os.sep)
    return path == top or path.startswith(top + os.sep)


def _bundle_link_refusal(folder: Path) -> str | None:
    try:
        tree_members(folder)
    except ArtifactError as exc:
        return clip(str(exc), MAX_WARNING_CHARS)
    return None


def _inspect_bundle(folder: Path, facts: Facts, root: Path | None) -> None:
    kind = bundle_kind(folder)
    if kind is None:
        # Asked for by name (scans only pick recognised bundles): register it as
        # plain files, hashed whole, and say that nothing inside was understood.
        facts.format = "folder"
        facts.metadata["bundle_files"] = len(bundle_files(folder))
        facts.warnings.append(
            "not a recognised bundle (MLflow, Hugging Face, SavedModel): registered as a "
            "plain folder without inspecting its files"
        )
        return
    files = bundle_files(folder)
    facts.metadata["bundle_files"] = len(files)
    if kind == "mlflow":
        inspect_mlflow(folder, facts)
    elif kind == "savedmodel":
        inspect_savedmodel(folder, facts)
        facts.metadata.update(savedmodel_files(folder))
        return
    else:
        inspect_huggingface(folder, facts, files)
    merge_inner(facts, folder, files, _inspect_inner)


def _inspect_inner(path: Path) -> Facts:
    sub = Facts()
    try:
        inspect_file(path, sub)
    except Refused as exc:
        sub.refused = str(exc)
    except Damaged as exc:
        sub.damage = str(exc)
    except BadContent as exc:
        sub.warnings.append(str(exc))
    except OSError as exc:
        sub.warnings.append(f"cannot read: {exc.strerror or exc}")
    return sub
