"""Which registrable unit a changed path belongs to: itself, or the bundle folder(s)
around it. Names only and a few stats: this runs for every file-system event."""

from __future__ import annotations

from pathlib import Path

from regtui.catalog.scan import CHECKPOINT_DIR


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
    A `checkpoint-N/` bundle inside a bundle makes both pending, as scan registers
    both. Anything under an ignored folder (`.git`, `.cache`, ...) is ignored.
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
        out = [(bundle, True)]
        if CHECKPOINT_DIR.fullmatch(bundle.name):
            parent = bundle.parent
            if parent != root.parent and _under(parent, root) is not None and is_bundle_dir(parent):
                out.append((parent, True))
        else:
            inner = _under(path, bundle) or ()
            if len(inner) >= 2 and CHECKPOINT_DIR.fullmatch(inner[0]):
                sub = bundle / inner[0]
                if is_bundle_dir(sub):
                    out.append((sub, True))
        return out
    if not parts or is_ignored_name(parts[-1]):
        return []
    return [(path, False)]
