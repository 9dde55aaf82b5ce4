"""PyTorch 2 `torch.export` archives (`.pt2`): a zip, listed and never extracted.

The PT2 archive format (torch >= 2.6) keeps `<name>/archive_format` ("pt2"),
`<name>/archive_version`, the serialized ExportedProgram as JSON in
`<name>/models/<model>.json`, raw tensor bytes in `data/weights/` and
`data/constants/` (described by `*_config.json`), and example inputs saved with
torch.save in `data/sample_inputs/<model>.pt`. Older releases (2.1 - 2.5) wrote
`serialized_exported_program.json` with `serialized_state_dict.pt`,
`serialized_constants.pt` and `serialized_example_inputs.pt`.

What the JSON says is read with caps; every pickle inside (the torch.save files,
weights marked `use_pickle`) goes through the pickle scanner for what loading it
would import. An AOTInductor package also holds compiled libraries, which
loading runs: named in a warning.
"""

from __future__ import annotations

import math
import zipfile
from collections import Counter
from typing import Any

from regtui.inspect.bounds import BadContent, bounded, clip, is_finite_number
from regtui.inspect.facts import Facts
from regtui.inspect.limits import Budget, OverLimit, loads_json
from regtui.inspect.pickle_scan import PickleScan, describe, scan_pickle
from regtui.inspect.zipcheck import (
    MAX_RATIO,
    MIN_BOMB_BYTES,
    ZIP_READ_ERRORS,
    Entry,
    check_directory,
    read_entry,
)

MAX_JSON = 16 << 20
# JSON parsed in one archive, over all its entries: each may hold MAX_JSON, and
# an archive may hold thousands of `*_config.json`.
MAX_JSON_TOTAL = 32 << 20
MAX_PICKLES = 32  # pickles scanned per archive
MAX_NESTED_ENTRIES = 10_000
_LEGACY_PROGRAM = "serialized_exported_program.json"
_NATIVE = (".so", ".dll", ".dylib", ".pyd")
_SMALL_RECORDS = ("archive_format", "archive_version", ".data/version", "byteorder")


def is_pt2(names: set[str]) -> bool:
    """Whether a zip's entry names are those of a torch.export archive."""
    return any(
        n.endswith("/archive_format") or n == "archive_format" or n.endswith(_LEGACY_PROGRAM)
        for n in names
    )


def inspect_pt2(zf: zipfile.ZipFile, entries: list[Entry], facts: Facts) -> None:
    facts.format = "pytorch-export"
    facts.framework = "torch"
    by_name = {e.name: e for e in entries}
    meta: dict[str, Any] = {"entries": len(entries)}
    for name in by_name:
        for record in _SMALL_RECORDS:
            key = record.lstrip(".").replace("/", "_")
            if key in meta or by_name[name].size > 64:
                continue  # the first of each is read, not every entry so named
            if name == record or name.endswith("/" + record):
                meta[key] = _text(zf, name)
    if meta.get("archive_format") not in (None, "pt2"):
        facts.warnings.append(f"archive_format is {meta['archive_format']!r}, not 'pt2'")
    programs = sorted(
        n
        for n in by_name
        if (_in_folder(n, "models") and n.endswith(".json")) or n.endswith(_LEGACY_PROGRAM)
    )
    budget = Budget(MAX_JSON_TOTAL, "JSON bytes parsed in the .pt2 archive")
    meta["models"] = [_program(zf, n, facts.warnings, budget) for n in programs[:20]]
    weights = _tensor_configs(zf, by_name, facts.warnings, budget)
    meta.update(weights.pop("summary"))
    facts.metadata.update(bounded(meta))
    _scan_pickles(zf, by_name, weights["pickled"], facts)
    native = [n for n in by_name if n.lower().endswith(_NATIVE)]
    if native:
        facts.warnings.append(
            "AOTInductor package: loading it runs the compiled code it holds: "
            + ", ".join(clip(n, 200) for n in native[:10])
        )


def _in_folder(name: str, folder: str) -> bool:
    parts = name.split("/")
    return folder in parts[:-1]


def _text(zf: zipfile.ZipFile, name: str) -> str:
    return clip(read_entry(zf, name, 64).decode("utf-8", "replace").strip(), 64)


def _json(zf: zipfile.ZipFile, name: str, budget: Budget) -> Any:
    data = read_entry(zf, name, MAX_JSON)
    budget.spend(len(data))
    return loads_json(data, clip(name, 200))


def _program(zf: zipfile.ZipFile, name: str, warnings: list[str], budget: Budget) -> dict[str, Any]:
    """What a serialized ExportedProgram says: versions, graph size and operators,
    its signature's parts, and the graph module's metadata."""
    out: dict[str, Any] = {"file": name}
    try:
        doc = _json(zf, name, budget)
    except BadContent as exc:
        warnings.append(str(exc))
        return out
    if not isinstance(doc, dict):
        return out
    for key in ("schema_version", "torch_version", "opset_version", "verifiers"):
        if key in doc:
            out[key] = doc[key]
    gm = doc.get("graph_module")
    if not isinstance(gm, dict):
        return out
    graph = gm.get("graph")
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    if isinstance(nodes, list):
        out["graph_nodes"] = len(nodes)
        ops = Counter(
            str(n.get("target")) for n in nodes[:100_000] if isinstance(n, dict) and n.get("target")
        )
        out["operators"] = dict(ops.most_common(50))
    sig = gm.get("signature")
    if isinstance(sig, dict):
        kinds: Counter[str] = Counter()
        for spec in (sig.get("input_specs") or [])[:100_000]:
            if isinstance(spec, dict) and spec:
                kinds[f"input.{next(iter(spec))}"] += 1
        for spec in (sig.get("output_specs") or [])[:100_000]:
            if isinstance(spec, dict) and spec:
                kinds[f"output.{next(iter(spec))}"] += 1
        out["signature"] = dict(sorted(kinds.items()))
    if isinstance(gm.get("metadata"), dict) and gm["metadata"]:
        out["metadata"] = gm["metadata"]
    return out


def _tensor_configs(
    zf: zipfile.ZipFile, by_name: dict[str, Entry], warnings: list[str], budget: Budget
) -> dict[str, Any]:
    """Counts and sizes of the weights and constants; which entries are pickles."""
    summary: dict[str, Any] = {}
    pickled: list[str] = []
    for name in sorted(by_name):
        if not name.endswith("_config.json") or not _in_folder(name, "data"):
            continue
        kind = "weights" if "weights" in name.split("/")[-1] else "constants"
        try:
            doc = _json(zf, name, budget)
        except OverLimit as exc:
            warnings.append(f"{exc}: the remaining configs were not read")
            break
        except BadContent as exc:
            warnings.append(str(exc))
            continue
        config = doc.get("config") if isinstance(doc, dict) else None
        if not isinstance(config, dict):
            continue
        count = elements = 0
        folder = name.rsplit("/", 1)[0]
        for spec in list(config.values())[:100_000]:
            if not isinstance(spec, dict):
                continue
            count += 1
            elements += _elements(spec.get("tensor_meta"))
            path = spec.get("path_name")
            if spec.get("use_pickle") and isinstance(path, str) and f"{folder}/{path}" in by_name:
                pickled.append(f"{folder}/{path}")
        summary[kind] = summary.get(kind, 0) + count
        if kind == "weights":
            summary["parameters"] = summary.get("parameters", 0) + elements
    return {"summary": summary, "pickled": pickled}


def _elements(tensor_meta: Any) -> int:
    sizes = tensor_meta.get("sizes") if isinstance(tensor_meta, dict) else None
    if not isinstance(sizes, list) or len(sizes) > 64:
        return 0
    dims = [s.get("as_int") if isinstance(s, dict) else None for s in sizes]
    if not all(is_finite_number(d) and isinstance(d, int) and d >= 0 for d in dims):
        return 0  # symbolic sizes
    n = math.prod(dims)  # type: ignore[arg-type]
    return n if n < 1 << 62 else 0


def _scan_pickles(
    zf: zipfile.ZipFile, by_name: dict[str, Entry], pickled: list[str], facts: Facts
) -> None:
    """Every pickle the archive holds, scanned (never loaded): torch.save files
    (`*.pt`, themselves zips with a data.pkl, or plain pickles) and raw pickles."""
    names = [n for n in sorted(by_name) if n.endswith(".pt")] + pickled
    imports: list[str] = []
    unsafe: list[str] = []
    for name in names[:MAX_PICKLES]:
        try:
            scan = _scan_entry(zf, name)
        except BadContent as exc:
            facts.warnings.append(str(exc))
            continue
        if scan is None:
            continue
        meta, warnings = describe(scan)
        facts.warnings.extend(f"{clip(name, 200)}: {w}" for w in warnings)
        imports += [n for n in meta["imports"] if n not in imports]
        unsafe += [n for n in meta.get("unsafe_imports", []) if n not in unsafe]
    if len(names) > MAX_PICKLES:  # not seen, so not trusted
        facts.warnings.append(f"{len(names) - MAX_PICKLES} more pickles inside were not scanned")
        unsafe.append(f"<{len(names) - MAX_PICKLES} pickles not scanned>")
    if imports:
        facts.metadata["imports"] = bounded(imports)
    if unsafe:
        facts.metadata["unsafe_imports"] = bounded(unsafe)
        facts.metadata["pickle_unsafe"] = True


def _scan_entry(zf: zipfile.ZipFile, name: str) -> PickleScan | None:
    try:
        with zf.open(name) as fh:
            head = fh.read(4)
            if head.startswith(b"\x80"):
                fh.seek(0)
                return scan_pickle(fh, seekable=False)
            if head != b"PK\x03\x04":
                return None
            check_directory(fh, clip(name, 200))  # before zipfile builds a record per entry
            fh.seek(0)
            with zipfile.ZipFile(fh) as inner:  # a torch.save zip inside the archive
                infos = inner.infolist()
                if len(infos) > MAX_NESTED_ENTRIES:
                    raise BadContent(f"{clip(name, 200)} holds {len(infos)} entries: not scanned")
                pkl = next((i for i in infos if i.filename.endswith("data.pkl")), None)
                if pkl is None:
                    return None
                ratio = pkl.file_size / max(pkl.compress_size, 1)
                if pkl.file_size >= MIN_BOMB_BYTES and ratio > MAX_RATIO:
                    raise BadContent(f"{clip(name, 200)}: data.pkl inflates {ratio:.0f}:1")
                with inner.open(pkl) as pf:
                    return scan_pickle(pf, seekable=False, sequence=False)
    except ZIP_READ_ERRORS as exc:
        raise BadContent(f"cannot read {clip(name, 200)}: {clip(str(exc), 200)}") from None
