"""PyTorch checkpoints: zip archives (torch.save since 1.6) and legacy pickle files.

The zip is listed (never extracted); tensor storages are its `data/N` entries, and
its `data.pkl` is walked by the pickle scanner for imports and tensor shapes. A
legacy file's storages are followed after its pickles (count, then bytes), so a
short one is damaged and only one whose last storage ends the file is complete.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

from regtui.inspect.bounds import BadContent, Damaged, clip, open_file
from regtui.inspect.facts import Facts
from regtui.inspect.pickle_members import scan_members
from regtui.inspect.pickle_scan import (
    PickleScan,
    describe,
    raise_if_over_limit,
    raise_if_truncated,
    scan_pickle,
)
from regtui.inspect.runlogs import lightning_counters
from regtui.inspect.zipcheck import ZIP_READ_ERRORS, Entry, read_entry

LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"
# A legacy file holds five pickles (magic, protocol, system info, the object, the
# storage keys), then raw storage bytes that must not be walked as a sixth.
LEGACY_PICKLES = 5
_STORAGE_DTYPES = {
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
    "BoolStorage": "bool", "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128",
}  # fmt: skip
_ELEMENT_BYTES = {
    "FloatStorage": 4, "DoubleStorage": 8, "HalfStorage": 2, "BFloat16Storage": 2,
    "LongStorage": 8, "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1,
    "ByteStorage": 1, "BoolStorage": 1, "ComplexFloatStorage": 8,
    "ComplexDoubleStorage": 16,
}  # fmt: skip


def _storage_dtypes(scan: PickleScan) -> dict[str, int]:
    out: dict[str, int] = {}
    for kind, _numel in scan.storages.values():
        short = kind.rsplit(".", 1)[-1]
        name = _STORAGE_DTYPES.get(short, short)
        out[name] = out.get(name, 0) + 1
    return dict(sorted(out.items()))


def _tensor_meta(scan: PickleScan) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if scan.tensors:
        meta["tensors"] = scan.tensors
        meta["parameters"] = scan.tensor_elements
    if scan.storages:
        meta["storage_dtypes"] = _storage_dtypes(scan)
    return meta


def _raw_name(info: zipfile.ZipInfo) -> bytes:
    """An entry's name as the bytes in the archive (what PyTorch's reader compares)."""
    return info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")


def torch_prefix(zf: zipfile.ZipFile) -> bytes | None:
    """The folder PyTorch reads every record from: the part of the *first* entry's
    name before its first '/' (PyTorchStreamReader::init); None if it has no '/'."""
    infos = zf.infolist()
    if not infos:
        return None
    first = _raw_name(infos[0])
    return first.split(b"/", 1)[0] if b"/" in first else None


def torch_record(zf: zipfile.ZipFile, prefix: bytes | None, record: str) -> zipfile.ZipInfo | None:
    """The entry torch.load reads as `record`: the first one in the central directory
    named exactly `<prefix>/<record>` (miniz's case-sensitive lookup), even when later
    entries repeat the name (Python's zipfile would open the last)."""
    if prefix is None:
        return None
    want = prefix + b"/" + record.encode()
    return next((i for i in zf.infolist() if _raw_name(i) == want), None)


def inspect_torch_zip(zf: zipfile.ZipFile, entries: list[Entry], facts: Facts) -> None:
    names = [e.name for e in entries]
    if not any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
        raise BadContent("zip archive without data.pkl: not a PyTorch checkpoint")
    raw_prefix = torch_prefix(zf)
    pkl = torch_record(zf, raw_prefix, "data.pkl")
    facts.framework = "torch"
    if pkl is None or raw_prefix is None:
        facts.format = "zip"
        facts.warnings.append(
            "torch.load would not find data.pkl in the folder of the archive's first entry: "
            "not loadable as a PyTorch checkpoint"
        )
        scans = scan_members(zf)
        scans.merge_into(facts)
        return
    prefix = pkl.filename[: -len("data.pkl")]
    storages = [e for e in entries if e.name.startswith(prefix + "data/")]
    is_script = any(n.startswith(prefix + "code/") for n in names)
    facts.format = "torchscript" if is_script else "pytorch"
    try:
        with zf.open(pkl) as fh:
            scan = scan_pickle(fh, seekable=False)  # torch loads one; any after it too
    except ZIP_READ_ERRORS as exc:
        raise Damaged(f"cannot read data.pkl: {clip(str(exc), 200)}") from None
    raise_if_over_limit(scan, "data.pkl")
    meta, warnings = describe(scan)
    facts.metadata.update(
        {
            "entries": len(entries),
            "tensor_storages": len(storages),
            "storage_bytes": sum(e.size for e in storages),
            **_tensor_meta(scan),
            **meta,
            **lightning_counters(scan.top),
        }
    )
    others = [e for e in entries if e.name.endswith("/data.pkl") or e.name == "data.pkl"]
    if len(others) > 1:
        warnings.append(
            f"archive holds {len(others)} data.pkl entries: torch.load reads "
            f"{clip(pkl.orig_filename, 200)} (the first in the folder of the first entry)"
        )
    warnings += _records(zf, raw_prefix, facts)
    if is_script:
        warnings.append("TorchScript archive: loading it runs the code in its code/ folder")
    if len(storages) != len(scan.storages) and scan.complete:
        warnings.append(
            f"data.pkl refers to {len(scan.storages)} storages but the archive holds {len(storages)}"
        )
    facts.warnings.extend(warnings)
    # Every other pickle in the archive too: torch.load leaves them alone, but another
    # loader (or a later torch) may not.
    scan_members(zf, skip=lambda i: i is pkl, loaded=lambda _i: False).merge_into(facts)
    raise_if_truncated(scan, "data.pkl")


def _small_record(zf: zipfile.ZipFile, info: zipfile.ZipInfo | None) -> bytes | None:
    if info is None or info.file_size > 64:
        return None
    try:
        return read_entry(zf, info.filename, 64)
    except BadContent:
        return None


def _records(zf: zipfile.ZipFile, prefix: bytes, facts: Facts) -> list[str]:
    """The version and byteorder records torch.load reads before data.pkl, looked up
    as it looks them up; warnings where it would refuse the archive."""
    warnings: list[str] = []
    version = torch_record(zf, prefix, ".data/version") or torch_record(zf, prefix, "version")
    if version is None:
        warnings.append("no version record: torch.load refuses this archive")
    else:
        raw = (_small_record(zf, version) or b"").strip()
        if raw.isdigit():
            facts.metadata["archive_version"] = int(raw)
        else:
            warnings.append("version record is not a number: torch.load refuses this archive")
    order = torch_record(zf, prefix, "byteorder")
    if order is not None:
        text = _small_record(zf, order)
        if text in (b"little", b"big"):
            facts.metadata["byteorder"] = text.decode()
        else:
            warnings.append("byteorder record is neither 'little' nor 'big': torch.load refuses it")
    return warnings


def inspect_legacy_torch(path: Path, facts: Facts) -> None:
    """torch.save(..., _use_new_zipfile_serialization=False): pickles, then raw storages."""
    with open_file(path) as fh:
        scan = scan_pickle(fh, max_pickles=LEGACY_PICKLES)
        raise_if_over_limit(scan, "legacy PyTorch checkpoint")
        size = fh.seek(0, 2)
        meta, warnings = describe(scan)
        facts.format = "pytorch-legacy"
        facts.framework = "torch"
        facts.metadata.update({"tensor_storages": len(scan.storages), **_tensor_meta(scan), **meta})
        if scan.storages:
            facts.metadata["storage_elements"] = sum(n for _k, n in scan.storages.values())
        facts.warnings.extend(warnings)
        raise_if_truncated(scan)
        if scan.complete:
            facts.complete = _legacy_storages_end(fh, scan, size, facts.warnings)


def _legacy_storages_end(fh: BinaryIO, scan: PickleScan, size: int, warnings: list[str]) -> bool:
    """Follow the storages after the five pickles; True only if the last one ends the file.

    torch writes the storages in the order of their sorted keys (the fifth pickle),
    each as a little-endian int64 element count and then its raw bytes. Damaged if
    the file stops short of any of them or a count disagrees with the pickle's."""
    if scan.pickles < LEGACY_PICKLES:
        raise Damaged(
            f"legacy PyTorch checkpoint ends after {scan.pickles} of its {LEGACY_PICKLES} "
            f"pickles ({size} bytes): truncated"
        )
    at = scan.end
    for key in sorted(scan.storages):
        kind, numel = scan.storages[key]
        width = _ELEMENT_BYTES.get(kind.rsplit(".", 1)[-1])
        if width is None:
            warnings.append(f"storage type {clip(kind, 60)} unknown: completeness not checked")
            return False
        fh.seek(at)
        raw = fh.read(8)
        if len(raw) < 8:
            raise Damaged(_short(size, at + 8, key))
        (count,) = struct.unpack("<q", raw)
        if count != numel:
            raise Damaged(
                f"legacy PyTorch storage {clip(key, 40)} holds {count} elements where its "
                f"pickle says {numel}: corrupt or misaligned"
            )
        at += 8 + numel * width
        if at > size:
            raise Damaged(_short(size, at, key))
    if at < size:
        warnings.append(f"{size - at} bytes after the last legacy PyTorch storage")
    return at == size


def _short(size: int, need: int, key: str) -> str:
    return (
        f"legacy PyTorch checkpoint holds {size} bytes but its storages need at least "
        f"{need} (cut in storage {clip(key, 40)}): truncated"
    )
