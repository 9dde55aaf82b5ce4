"""Zip archives: which model format a zip holds (torch.export, skops, torch.save,
Keras), read by that format's inspector; every pickle inside is scanned."""

from __future__ import annotations

from pathlib import Path

from regtui.inspect.facts import Facts
from regtui.inspect.keras import inspect_keras
from regtui.inspect.pickle_members import scan_members
from regtui.inspect.pt2 import inspect_pt2, is_pt2
from regtui.inspect.pytorch import inspect_torch_zip
from regtui.inspect.skops import inspect_skops, is_skops
from regtui.inspect.zipcheck import ends_complete, list_zip


def inspect_zip(path: Path, facts: Facts) -> None:
    facts.format = "zip"  # until the entries say which format: a damaged one stays "zip"
    zf, entries = list_zip(path)
    with zf:
        names = {e.name for e in entries}
        if is_pt2(names):
            inspect_pt2(zf, entries, facts)  # scans its torch.save files and pickled weights
            scan_members(
                zf, skip=lambda i: i.filename.endswith(".pt"), loaded=lambda _i: False
            ).merge_into(facts)
        elif is_skops(names):
            inspect_skops(zf, entries, facts)
            # skops reads its arrays with allow_pickle=False: a pickle there counts if whole
            scan_members(zf, loaded=lambda _i: False).merge_into(facts)
        elif any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            inspect_torch_zip(zf, entries, facts)  # scans its other members too
        elif "config.json" in names and ("metadata.json" in names or path.suffix == ".keras"):
            inspect_keras(zf, entries, facts)
            scan_members(zf, loaded=lambda _i: False).merge_into(facts)
        else:
            facts.format = "zip"
            facts.metadata["entries"] = sorted(names)[:100]
            facts.warnings.append("zip archive that is not a known model format")
            # .npz object arrays and any pickle inside: np.load or unzip-and-load reads them
            scan_members(zf).merge_into(facts)
    facts.complete = ends_complete(path)


# Signatures (formats.FORMATS): `looks_like_*` decides alone; `may_be_*` is trusted
# only where the file's name allows the format (detect.sniff).


def looks_like_zip(head: bytes, size: int) -> bool:
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))
