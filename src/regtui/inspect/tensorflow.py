"""TensorFlow-family formats: HDF5 (.h5, recognised), TFLite (flatbuffer), SavedModel."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import IO, Any

from regtui.inspect.bounds import Damaged, clip, open_file
from regtui.inspect.facts import Facts
from regtui.inspect.limits import OverLimit
from regtui.inspect.protobuf_wire import LEN, VARINT, Wire

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def inspect_hdf5(path: Path, facts: Facts) -> None:
    """HDF5 is recognised, not parsed; Keras 2 files are told by their attribute names.
    The superblock's end-of-file address tells a file cut short."""
    facts.format = "hdf5"
    size = path.stat().st_size
    with open_file(path) as fh:
        head = fh.read(1 << 20)
    if b"keras_version" in head or b"model_config" in head:
        facts.framework = "keras"
        facts.metadata["keras_h5"] = True
    facts.metadata["note"] = "HDF5 recognised by its signature; contents are not parsed"
    end = hdf5_end(head)
    if end == -1:
        raise Damaged(f"HDF5 superblock cut short ({size} bytes): truncated")
    if end is not None and end > size:
        raise Damaged(
            f"HDF5 superblock says the file ends at byte {end} but it has {size}: truncated"
        )


def hdf5_end(head: bytes) -> int | None:
    """Base address + end-of-file address from a superblock at byte 0; -1 if the
    bytes stop inside the superblock; None if there is no superblock we can read
    there (or the address is undefined)."""
    if not head.startswith(HDF5_MAGIC):
        return None
    if len(head) < 16:
        return -1
    version = head[8]
    if version in (0, 1):
        width = head[13]
        base_at = 24 if version == 0 else 28
    elif version in (2, 3):
        width = head[9]
        base_at = 12
    else:
        return None
    if width not in (2, 4, 8):
        return None
    if len(head) < base_at + 3 * width:
        return -1
    fmt = {2: "<H", 4: "<I", 8: "<Q"}[width]
    base: int
    eof: int
    (base,) = struct.unpack_from(fmt, head, base_at)
    (eof,) = struct.unpack_from(fmt, head, base_at + 2 * width)
    undefined = (1 << (8 * width)) - 1
    if undefined in (base, eof):
        return None
    return base + eof


class _Flat:
    """Minimal bounded flatbuffer table access over a seekable file."""

    def __init__(self, fh: IO[bytes], size: int) -> None:
        self.fh = fh
        self.size = size

    def u(self, fmt: str, at: int) -> int:
        n = struct.calcsize(fmt)
        if at < 0 or at + n > self.size:
            raise Damaged(f"TFLite offset {at} outside the file: truncated or lying")
        self.fh.seek(at)
        value: int = struct.unpack(fmt, self.fh.read(n))[0]
        return value

    def field(self, table: int, index: int) -> int | None:
        """Absolute offset of field `index` of the table at `table`, or None if absent."""
        vtable = table - self.u("<i", table)
        vsize = self.u("<H", vtable)
        slot = 4 + 2 * index
        if slot >= vsize:
            return None
        rel = self.u("<H", vtable + slot)
        return table + rel if rel else None

    def vector_len(self, at: int) -> int:
        vec = at + self.u("<I", at)
        return self.u("<I", vec)

    def string(self, at: int, cap: int = 1000) -> str:
        s = at + self.u("<I", at)
        n = self.u("<I", s)
        if s + 4 + n > self.size:
            raise Damaged("TFLite string runs past the end of the file: truncated or lying")
        self.fh.seek(s + 4)
        return clip(self.fh.read(min(n, cap)).decode("utf-8", errors="replace"), cap)


def inspect_tflite(path: Path, facts: Facts) -> None:
    size = path.stat().st_size
    facts.format = "tflite"
    facts.framework = "tensorflow"
    with open_file(path) as fh:
        fb = _Flat(fh, size)
        root = fb.u("<I", 0)
        meta: dict[str, Any] = {}
        v = fb.field(root, 0)
        if v is not None:
            meta["schema_version"] = fb.u("<I", v)
        for key, idx in (
            ("operator_codes", 1),
            ("subgraphs", 2),
            ("buffers", 4),
            ("signature_defs", 7),
        ):
            at = fb.field(root, idx)
            if at is not None:
                meta[key] = fb.vector_len(at)
        d = fb.field(root, 3)
        if d is not None:
            meta["description"] = fb.string(d)
    facts.metadata.update(meta)


def inspect_savedmodel(folder: Path, facts: Facts) -> None:
    """saved_model.pb: schema version, meta graph tags, TF version, signature names."""
    facts.format = "savedmodel"
    facts.framework = "tensorflow"
    pb = folder / "saved_model.pb"
    if not pb.is_file():
        facts.warnings.append("SavedModel in text form (saved_model.pbtxt): not parsed")
        return
    size = pb.stat().st_size
    meta: dict[str, Any] = {"meta_graphs": []}
    with open_file(pb, 1 << 16) as fh:
        w = Wire(fh, size)
        try:
            for num, wt, val, at in w.fields(0, size):
                if num == 1 and wt == VARINT:
                    meta["schema_version"] = val
                elif num == 2 and wt == LEN and len(meta["meta_graphs"]) < 20:
                    meta["meta_graphs"].append(_meta_graph(w, at, at + val))
        except OverLimit as exc:
            facts.warnings.append(f"saved_model.pb only partly read: {exc}")
    facts.metadata.update(meta)


def _meta_graph(w: Wire, start: int, end: int) -> dict[str, Any]:
    out: dict[str, Any] = {"tags": [], "signatures": []}
    for num, wt, val, at in w.fields(start, end):
        if num == 1 and wt == LEN:  # MetaInfoDef
            for n2, w2, v2, a2 in w.fields(at, at + val):
                if n2 == 4 and w2 == LEN and len(out["tags"]) < 50:
                    out["tags"].append(w.string(a2, v2, 200))
                elif n2 == 5 and w2 == LEN:
                    out["tensorflow_version"] = w.string(a2, v2, 100)
        elif num == 5 and wt == LEN and len(out["signatures"]) < 100:  # signature_def map entry
            for n2, w2, v2, a2 in w.fields(at, at + val):
                if n2 == 1 and w2 == LEN:
                    out["signatures"].append(w.string(a2, v2, 200))
    return out


# Signatures (formats.FORMATS): `looks_like_*` decides alone; `may_be_*` is trusted
# only where the file's name allows the format (detect.sniff).


def looks_like_hdf5(head: bytes, size: int) -> bool:
    return head.startswith(b"\x89HDF\r\n\x1a\n")


def looks_like_tflite(head: bytes, size: int) -> bool:
    # the flatbuffer's root table lies inside the file
    return head[4:8] == b"TFL3" and 8 <= struct.unpack_from("<I", head)[0] < size


def may_be_tflite(head: bytes, size: int) -> bool:
    return head[4:8] == b"TFL3"  # a root offset the reader refuses
