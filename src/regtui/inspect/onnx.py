"""ONNX models: ModelProto read with the bounded wire walker, raw tensor data skipped.

Field numbers are those of onnx.proto (stable since IR version 3). ONNX cannot
prove itself complete (protobuf has no end marker), but a message that stops
mid-field, or a model without the graph and opsets every exporter writes, is damage.
"""

from __future__ import annotations

import math
from pathlib import Path, PurePath
from typing import Any

from regtui.inspect.bounds import BadContent, Damaged, Refused, clip, open_file
from regtui.inspect.facts import Facts
from regtui.inspect.limits import OverLimit
from regtui.inspect.protobuf_wire import LEN, VARINT, Wire

MAX_IO = 200  # graph inputs/outputs described
# Initializer names kept to tell weights from inputs: bounded in characters, as
# each name may be 1,000 long (100k of them would be 100 MB).
MAX_INIT_NAME_CHARS = 4_000_000
MAX_INITIALIZERS = 1_000_000
MAX_NODES = 5_000_000
MAX_DIMS = 64
MAX_PROPS = 200
MAX_UNKNOWN_TOP = 64
_OPSETS_SINCE_IR = 3  # opset_import is required from IR version 3 on
# ModelProto's field numbers in onnx.proto (up to IR version 10).
_MODEL_FIELDS = {1, 2, 3, 4, 5, 6, 7, 8, 14, 20, 25}
_ELEM = {
    1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
    8: "string", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64",
    14: "complex64", 15: "complex128", 16: "bfloat16", 17: "float8e4m3fn",
    18: "float8e4m3fnuz", 19: "float8e5m2", 20: "float8e5m2fnuz", 21: "uint4", 22: "int4",
    23: "float4e2m1",
}  # fmt: skip


class _Onnx:
    def __init__(self, w: Wire, folder: Path) -> None:
        self.w = w
        self.folder = folder
        self.params = 0
        self.initializers = 0
        self.external: list[str] = []
        self.nodes = 0
        self.op_types: dict[str, int] = {}
        self.warnings: list[str] = []

    def model(self) -> dict[str, Any]:
        w = self.w
        meta: dict[str, Any] = {"opset_import": {}}
        props: dict[str, str] = {}
        unknown = 0
        for num, wt, val, at in w.fields(0, w.size):
            if num not in _MODEL_FIELDS:
                # A ModelProto has a handful of top-level fields; thousands of
                # strange ones mean this is not ONNX, and walking them all is slow.
                unknown += 1
                if unknown > MAX_UNKNOWN_TOP:
                    raise Damaged(f"not an ONNX model: unexpected field {num} at byte {at}")
            if num == 1 and wt == VARINT:
                meta["ir_version"] = val
            elif num == 2 and wt == LEN:
                meta["producer_name"] = w.string(at, val)
            elif num == 3 and wt == LEN:
                meta["producer_version"] = w.string(at, val)
            elif num == 4 and wt == LEN:
                meta["domain"] = w.string(at, val)
            elif num == 5 and wt == VARINT:
                meta["model_version"] = val
            elif num == 6 and wt == LEN:
                meta["doc_string"] = w.string(at, val, 1000)
            elif num == 7 and wt == LEN:
                try:
                    meta["graph"] = self.graph(at, at + val)
                except OverLimit as exc:
                    # Facts partial: the graph's own length is known, so the walk
                    # resumes after it for the opsets (a few more fields at most).
                    meta["graph"] = {}
                    self.warnings.append(f"ONNX graph only partly read: {exc}")
                    w.budget.limit = w.budget.used + 10_000
            elif num == 8 and wt == LEN:
                domain, version = self.opset(at, at + val)
                if len(meta["opset_import"]) < 100:
                    meta["opset_import"][domain or "ai.onnx"] = version
            elif num == 14 and wt == LEN and len(props) < MAX_PROPS:
                k, v = self.string_pair(at, at + val)
                props[k] = v
        if "ir_version" not in meta:
            raise Damaged("not an ONNX model: no ir_version field")
        if "graph" not in meta:
            raise Damaged("ONNX model without a graph: truncated or not a model")
        if not meta["opset_import"] and meta["ir_version"] >= _OPSETS_SINCE_IR:
            # Exporters write the opsets right after the graph: a cut there drops them.
            raise Damaged("ONNX model without opset_import: truncated")
        if props:
            meta["metadata_props"] = props
        meta["parameters"] = self.params
        meta["initializers"] = self.initializers
        meta["nodes"] = self.nodes
        meta["op_types"] = dict(sorted(self.op_types.items(), key=lambda kv: -kv[1])[:50])
        if self.external:
            meta["external_data"] = sorted(set(self.external))[:50]
        return meta

    def opset(self, start: int, end: int) -> tuple[str, int | None]:
        domain, version = "", None
        for num, wt, val, at in self.w.fields(start, end):
            if num == 1 and wt == LEN:
                domain = self.w.string(at, val, 200)
            elif num == 2 and wt == VARINT:
                version = val
        return domain, version

    def string_pair(self, start: int, end: int) -> tuple[str, str]:
        key, value = "", ""
        for num, wt, val, at in self.w.fields(start, end):
            if num == 1 and wt == LEN:
                key = self.w.string(at, val, 200)
            elif num == 2 and wt == LEN:
                value = self.w.string(at, val, 1000)
        return key, value

    def graph(self, start: int, end: int) -> dict[str, Any]:
        g: dict[str, Any] = {"inputs": [], "outputs": []}
        init_names: set[str] = set()
        init_chars = 0
        inputs: list[dict[str, Any]] = []
        for num, wt, val, at in self.w.fields(start, end):
            if wt != LEN:
                continue
            if num == 1:
                self.nodes += 1
                if self.nodes > MAX_NODES:
                    raise BadContent(f"ONNX graph has more than {MAX_NODES} nodes")
                op = self.node_op(at, at + val)
                if op and (op in self.op_types or len(self.op_types) < 500):
                    self.op_types[op] = self.op_types.get(op, 0) + 1
            elif num == 2:
                g["name"] = self.w.string(at, val, 200)
            elif num == 5:
                self.initializers += 1
                if self.initializers > MAX_INITIALIZERS:
                    raise BadContent(f"ONNX graph has more than {MAX_INITIALIZERS} initializers")
                name = self.tensor(at, at + val)
                if name and init_chars < MAX_INIT_NAME_CHARS:
                    init_names.add(name)
                    init_chars += len(name)
            elif num in (11, 12):
                target = inputs if num == 11 else g["outputs"]
                if len(target) < MAX_IO:
                    target.append(self.value_info(at, at + val))
        # Old exporters list initializers among inputs too: those are weights, not inputs.
        g["inputs"] = [i for i in inputs if i.get("name") not in init_names]
        return g

    def node_op(self, start: int, end: int) -> str | None:
        for num, wt, val, at in self.w.fields(start, end):
            if num == 4 and wt == LEN:
                return self.w.string(at, val, 200)
        return None

    def tensor(self, start: int, end: int) -> str | None:
        dims: list[int] = []
        name = None
        external = False
        location = None
        for num, wt, val, at in self.w.fields(start, end):
            if num == 1:
                if wt == VARINT:
                    dims.append(val)
                elif wt == LEN:
                    dims.extend(self.w.packed_varints(at, val, MAX_DIMS))
            elif num == 8 and wt == LEN:
                name = self.w.string(at, val, 1000)
            elif num == 14 and wt == VARINT:
                external = val == 1
            elif num == 13 and wt == LEN:
                k, v = self.string_pair(at, at + val)
                if k == "location":
                    location = v
        if dims and all(d >= 0 for d in dims):
            self.params += math.prod(dims[:MAX_DIMS])
        elif not dims:
            self.params += 1  # a scalar
        if external or location is not None:
            self.check_external(location, name)
        return name

    def check_external(self, location: str | None, name: str | None) -> None:
        if not location:
            self.warnings.append(
                f"initializer {clip(str(name), 200)!r} is external with no location"
            )
            return
        pure = PurePath(location.replace("\\", "/"))
        base = self.folder.resolve()
        target = (base / pure).resolve()
        if pure.is_absolute() or not target.is_relative_to(base):
            raise Refused(
                f"ONNX external data {clip(location, 200)!r} points outside the model's folder"
            )
        if len(self.external) < 1000:
            self.external.append(location)
        if not target.exists():
            self.warnings.append(f"ONNX external data file {clip(location, 200)!r} is missing")

    def value_info(self, start: int, end: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for num, wt, val, at in self.w.fields(start, end):
            if num == 1 and wt == LEN:
                out["name"] = self.w.string(at, val, 200)
            elif num == 2 and wt == LEN:
                out.update(self.type_proto(at, at + val))
        return out

    def type_proto(self, start: int, end: int) -> dict[str, Any]:
        for num, wt, val, at in self.w.fields(start, end):
            if num in (1, 8) and wt == LEN:  # tensor_type, sparse_tensor_type
                return self.tensor_type(at, at + val)
            if num in (4, 5, 9) and wt == LEN:
                return {"type": {4: "sequence", 5: "map", 9: "optional"}[num]}
        return {}

    def tensor_type(self, start: int, end: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for num, wt, val, at in self.w.fields(start, end):
            if num == 1 and wt == VARINT:
                out["elem_type"] = _ELEM.get(val, str(val))
            elif num == 2 and wt == LEN:
                out["shape"] = self.shape(at, at + val)
        return out

    def shape(self, start: int, end: int) -> list[int | str | None]:
        dims: list[int | str | None] = []
        for num, wt, val, at in self.w.fields(start, end):
            if num == 1 and wt == LEN and len(dims) < MAX_DIMS:
                dim: int | str | None = None
                for n2, w2, v2, a2 in self.w.fields(at, at + val):
                    if n2 == 1 and w2 == VARINT:
                        dim = v2
                    elif n2 == 2 and w2 == LEN:
                        dim = self.w.string(a2, v2, 100)
                dims.append(dim)
        return dims


def inspect_onnx(path: Path, facts: Facts) -> None:
    size = path.stat().st_size
    with open_file(path, 1 << 16) as fh:
        walker = _Onnx(Wire(fh, size), path.parent)
        meta = walker.model()
    facts.format = "onnx"
    facts.framework = "onnx"
    graph = meta.get("graph", {})
    meta["inputs"] = graph.pop("inputs", [])
    meta["outputs"] = graph.pop("outputs", [])
    if graph.get("name"):
        meta["graph_name"] = graph["name"]
    meta.pop("graph", None)
    facts.metadata.update(meta)
    facts.warnings.extend(walker.warnings)


# Signatures (formats.FORMATS): `looks_like_*` decides alone; `may_be_*` is trusted
# only where the file's name allows the format (detect.sniff).


def may_be_onnx(head: bytes, size: int) -> bool:
    # ModelProto starts with ir_version (field 1, varint), then another known field.
    return (
        len(head) >= 3
        and head[0] == 0x08
        and 2 <= head[1] <= 20
        and head[2] in (0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42, 0x72)
    )
