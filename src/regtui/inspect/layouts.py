"""Artifact layouts and model naming, in one place for `scan` and the watcher:
which files and folders are artifacts (find_artifacts), which unit a changed
path belongs to (units_for: itself, or the bundle folder around it), which
names are sidecars or a bundle's parts, and the model a path belongs to
(model_for). What makes a folder a bundle is inspect.bundles' (bundle_kind);
what makes a file a candidate is inspect.detect's (is_artifact_candidate).

units_for runs for every file-system event: names and a few stats only.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from regtui.catalog.refs import check_model_name
from regtui.errors import RegtuiError, UsageError
from regtui.hashing import CHECKPOINT_DIR, kind_of
from regtui.inspect.bounds import BadContent, load_yaml
from regtui.inspect.bundles import SHARD, WEIGHTS_INDEX, bundle_root, is_bundle_dir
from regtui.inspect.detect import (
    MAYBE_EXTENSIONS,
    MODEL_EXTENSIONS,
    is_artifact_candidate,
    is_ignored_name,
)
from regtui.inspect.sidecars import METRIC_FILES, PARAM_FILES
from regtui.tree_walk import Skipped, walk

__all__ = [
    "Skipped",
    "bundle_root",
    "find_artifacts",
    "is_artifact_candidate",
    "is_bundle_dir",
    "is_bundle_inner_name",
    "is_ignored_name",
    "is_sidecar",
    "model_for",
    "normalise_model_name",
    "shown_path",
    "units_for",
]

_BAD_NAME_CHARS = re.compile(r"[^a-z0-9._-]+")


def normalise_model_name(name: str) -> str:
    """A folder name made into a valid model name ("My Run 1" -> "my-run-1")."""
    out = _BAD_NAME_CHARS.sub("-", name.lower()).lstrip("._-")[:128].rstrip("-")
    return out or "model"


def model_for(root: Path, path: Path, fixed: str | None = None) -> str:
    """The model an artifact belongs to: `fixed`, else the first folder under the root
    that holds it; a file right in the root, or a `checkpoint-N/` folder right in it,
    belongs to the root's own name. In an MLflow file store (`mlruns/`) that folder is
    an experiment's number: the model is named after the experiment instead."""
    if fixed:
        return fixed
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return normalise_model_name(path.parent.name)
    experiment = experiment_name(root / parts[0]) if len(parts) >= 2 else None
    if experiment is None and len(parts) >= 1:
        experiment = experiment_name(root)  # the root is the experiment's own folder
    if experiment is not None:
        return experiment
    if len(parts) >= 2:
        return normalise_model_name(parts[0])
    if path.is_dir() and not CHECKPOINT_DIR.fullmatch(path.name):
        return normalise_model_name(path.name)
    return normalise_model_name(root.resolve().name)


_EXPERIMENT_ID = re.compile(r"[0-9]{1,20}")


def experiment_name(folder: Path) -> str | None:
    """The name of the experiment whose folder this is in an MLflow file store
    (`mlruns/<id>/meta.yaml` names it), as a model name; None for any other folder."""
    if not _EXPERIMENT_ID.fullmatch(folder.name):
        return None
    meta = folder / "meta.yaml"
    try:
        st = os.stat(meta)
    except OSError:
        return None
    return _named_in(str(meta), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=256)
def _named_in(meta: str, _mtime_ns: int, _size: int) -> str | None:
    """Read once per version of the file (a scan asks for every artifact under it)."""
    try:
        data = load_yaml(Path(meta))
    except (BadContent, RegtuiError, OSError, ValueError):
        return None
    if not isinstance(data, dict) or str(data.get("experiment_id")) != Path(meta).parent.name:
        return None
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        return None
    try:
        return check_model_name(name.strip())
    except UsageError:
        return normalise_model_name(name)


def find_artifacts(root: Path) -> Iterator[Path | Skipped]:
    """Artifacts under root, in name order: bundle folders (whole, with their
    `checkpoint-N/` folders as versions of their own) and candidate files.

    Never raises for what it meets and always finishes: links are not followed
    (a link that looks like an artifact is yielded, and the inspector decides),
    and what cannot be an artifact for a reason worth telling (a folder that
    cannot be listed or lies too deep, a name that is not UTF-8, a FIFO or device
    named like a model) is yielded as Skipped, one line each.
    """
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


# Files whose values describe the model beside them (see inspect.sidecars): not
# artifacts, but units of their own, so that one written after the model is
# logged onto its version.
SIDECAR_NAMES = frozenset(
    {
        *PARAM_FILES,
        *METRIC_FILES,
        "trainer_state.json",
        "metrics.csv",
        "history.json",
        "training.log",
    }
)


# Names a bundle writer gives its inner files and that a lone artifact almost
# never has: Hugging Face shards (`model-00001-of-00003.safetensors`) and weights
# indexes (bundles.SHARD, bundles.WEIGHTS_INDEX), and the data files MLflow's
# flavors write before their MLmodel.
MLFLOW_DATA_NAMES = frozenset(
    {"model.pkl", "model.skops", "model.xgb", "model.ubj", "model.lgb", "model.cb",
     "model.statsmodels", "python_model.pkl"}
)  # fmt: skip


def is_sidecar(name: str) -> bool:
    return name.lower() in SIDECAR_NAMES


def is_bundle_inner_name(name: str) -> bool:
    """Whether a file of this name is, nearly always, one part of a bundle folder
    being written (so it is not registered on its own while its folder changes)."""
    low = name.lower()
    return low in MLFLOW_DATA_NAMES or bool(SHARD.fullmatch(low) or WEIGHTS_INDEX.fullmatch(low))


def _under(path: Path, root: Path) -> tuple[str, ...] | None:
    try:
        return path.relative_to(root).parts
    except ValueError:
        return None


def units_for(
    root: Path, path: Path, memo: dict[Path, Path | None] | None = None
) -> list[tuple[Path, bool]]:
    """(unit path, is bundle) pairs that a change at `path` makes pending; [] to ignore it.

    A file inside a bundle folder makes the bundle pending (its name does not
    matter: a `.tmp` being written inside a bundle means the bundle is not quiet).
    A `checkpoint-N/` folder is a unit of its own, never part of the bundle
    around it (a Trainer's run folder). Anything under an ignored folder (`.git`, `.cache`, ...) is ignored.
    `memo` caches the bundle lookup per folder for one batch of events (a burst
    writes many files into few folders).
    """
    parts = _under(path, root)
    if parts is None:
        return []
    if any(is_ignored_name(p) for p in parts[:-1]):
        return []
    if memo is None:
        bundle = bundle_root(path, root)
    else:
        key = path.parent
        if key in memo:
            bundle = memo[key]
        else:
            bundle = memo[key] = bundle_root(path, root)
            if bundle == path:  # the path is itself a bundle folder: not a per-folder answer
                del memo[key]
    if bundle is not None and _under(bundle, root) is not None:
        inner = _under(path, bundle) or ()
        if inner and CHECKPOINT_DIR.fullmatch(inner[0]) and (len(inner) > 1 or path.is_dir()):
            # A checkpoint folder is no part of the run folder around it (see
            # hashing.iter_tree); until it is a bundle itself it is nothing yet.
            sub = bundle / inner[0]
            return [(sub, True)] if is_bundle_dir(sub) else []
        return [(bundle, True)]
    if not parts or (is_ignored_name(parts[-1]) and not is_sidecar(parts[-1])):
        return []
    return [(path, False)]
