"""Which registrable unit a changed path belongs to: itself, or the bundle folder(s)
around it. Names only and a few stats: this runs for every file-system event."""

from __future__ import annotations

import re
from pathlib import Path

from regtui.hashing import CHECKPOINT_DIR
from regtui.inspect.sidecars import METRIC_FILES, PARAM_FILES

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
# indexes, and the data files MLflow's flavors write before their MLmodel.
_SHARD = re.compile(r".+-\d+-of-\d+\.\w+")
_INDEX = re.compile(r".+\.(safetensors|bin|h5|msgpack)\.index\.json")
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
    return low in MLFLOW_DATA_NAMES or bool(_SHARD.fullmatch(low) or _INDEX.fullmatch(low))


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
    from regtui.inspect import bundle_root, is_bundle_dir, is_ignored_name

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
