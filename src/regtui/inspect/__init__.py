"""Artifact inspectors: turn a path into Facts without executing anything from it.

`inspect_path` decides the format from content (magic bytes, headers), reads
only bounded headers, adds sidecar metrics/params and lineage, and never raises
for bad content: hostile input becomes a refusal or a warning, and bytes the
format shows incomplete or lying (or content that is no model at all) become
`Facts.damage`. Where the format proves the bytes whole, `Facts.complete` says so.
The naming helpers are shared with the scanner and the watcher.
"""

from __future__ import annotations

import bz2
import contextlib
import errno
import gzip
import lzma
import os
import stat
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from regtui.errors import ArtifactError
from regtui.hashing import tree_members
from regtui.inspect.bounds import (
    MAX_WARNING_CHARS,
    MAX_WARNINGS,
    BadContent,
    Damaged,
    NotRegular,
    Refused,
    bounded,
    clip,
    open_file,
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
from regtui.inspect.detect import (
    HEAD_BYTES,
    extension_mismatch,
    is_artifact_candidate,
    is_ignored_name,
    sniff,
)
from regtui.inspect.facts import Facts
from regtui.inspect.gguf import inspect_gguf
from regtui.inspect.impostors import error_page, json_document, lfs_pointer
from regtui.inspect.keras import inspect_keras
from regtui.inspect.lineage import lineage_for
from regtui.inspect.onnx import inspect_onnx
from regtui.inspect.pickle_members import scan_members
from regtui.inspect.pickle_scan import (
    PickleScan,
    add_plain_reading,
    describe,
    framework_from_globals,
    raise_if_over_limit,
    raise_if_truncated,
    scan_pickle,
)
from regtui.inspect.pt2 import inspect_pt2, is_pt2
from regtui.inspect.pytorch import LEGACY_MAGIC, inspect_legacy_torch, inspect_torch_zip
from regtui.inspect.safetensors import inspect_safetensors
from regtui.inspect.sidecars import add_sidecars
from regtui.inspect.skops import inspect_skops, is_skops
from regtui.inspect.tensorflow import inspect_hdf5, inspect_savedmodel, inspect_tflite
from regtui.inspect.trees import (
    inspect_catboost,
    inspect_lightgbm,
    inspect_xgboost_json,
    inspect_xgboost_ubj,
)
from regtui.inspect.zipcheck import ends_complete, list_zip
from regtui.tree_walk import resolve

__all__ = [
    "Facts",
    "bundle_root",
    "inspect_path",
    "is_artifact_candidate",
    "is_bundle_dir",
    "is_ignored_name",
]

MAX_DECOMPRESSED_RATIO = 64  # compressed joblib/pickle: scanned up to this many times its size
_SELF_NAMED = {
    "safetensors",
    "gguf",
    "onnx",
    "hdf5",
    "tflite",
    "xgboost-json",
    "xgboost-ubj",
    "lightgbm",
}
_PICKLE_EXTS = {".pkl", ".pickle", ".joblib", ".sav", ".pt", ".pth", ".bin", ".ckpt"}


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
                _inspect_file(path, facts)
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
        _inspect_file(path, sub)
    except Refused as exc:
        sub.refused = str(exc)
    except Damaged as exc:
        sub.damage = str(exc)
    except BadContent as exc:
        sub.warnings.append(str(exc))
    except OSError as exc:
        sub.warnings.append(f"cannot read: {exc.strerror or exc}")
    return sub


def _inspect_file(path: Path, facts: Facts) -> None:
    # Size and head from one descriptor (opened without blocking: a FIFO would
    # wait for a writer forever), the one the readlog checks against the hash.
    try:
        with open_file(path) as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(HEAD_BYTES) if size else b""
    except NotRegular as exc:
        raise Refused(f"is {exc.kind}, not a regular file") from None
    if size == 0:
        raise Refused("empty file (0 bytes)")
    pointer = lfs_pointer(head)
    page = error_page(head)
    if pointer:
        facts.format = "git-lfs-pointer"
        raise Damaged(pointer)
    if page:
        facts.format, reason = page
        raise Damaged(reason)
    kind = sniff(head, size, path.suffix.lower())
    ext = path.suffix.lower()
    if kind is None and ext in (".onnx", ".safetensors", ".gguf"):
        kind = ext[1:]  # damaged magic: let the format's reader say what is wrong
    if kind is None and ext in _PICKLE_EXTS and head[:1] in (b"(", b"c", b"]", b"}", b"I", b"N"):
        kind = "pickle"  # protocol 0/1 pickles have no PROTO opcode
    if kind is None and ext == ".pb":
        facts.format = "tensorflow-graph"
        facts.framework = "tensorflow"
        facts.warnings.append("a .pb file outside a SavedModel folder: recognised by name only")
        return
    if kind in _SELF_NAMED:
        facts.format = kind  # known from the magic, even if the rest turns out damaged
    if kind == "safetensors":
        inspect_safetensors(path, facts, head, size)
    elif kind == "gguf":
        inspect_gguf(path, facts)
    elif kind == "onnx":
        inspect_onnx(path, facts)
    elif kind == "zip":
        _inspect_zip(path, facts)
    elif kind == "pickle":
        if head.startswith(LEGACY_MAGIC):
            inspect_legacy_torch(path, facts)
        else:
            _inspect_pickle(path, facts)
    elif kind == "compressed":
        _inspect_compressed(path, facts, head, size)
    elif kind == "hdf5":
        inspect_hdf5(path, facts)
    elif kind == "tflite":
        inspect_tflite(path, facts)
    elif kind == "catboost":
        inspect_catboost(path, facts)
    elif kind == "xgboost-json":
        inspect_xgboost_json(path, facts)
    elif kind == "xgboost-ubj":
        inspect_xgboost_ubj(path, facts)
    elif kind == "xgboost-binary":
        facts.format = "xgboost-binary"
        facts.framework = "xgboost"
        facts.warnings.append("legacy XGBoost binary format: recognised, not parsed")
    elif kind == "lightgbm":
        inspect_lightgbm(path, facts)
    elif kind == "json":
        facts.format = "json"
        raise Damaged(json_document(head))
    else:
        # Registered by name, yet no model format we know: it must not ship as one.
        facts.format = "unknown"
        raise Damaged(
            f"content not recognised as a model format ({size} bytes, starts {head[:8].hex()})"
        )
    if facts.format != "unknown":
        mismatch = extension_mismatch(path, facts.format)
        if mismatch:
            facts.warnings.insert(0, mismatch)


def _inspect_zip(path: Path, facts: Facts) -> None:
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


def _inspect_pickle(path: Path, facts: Facts) -> None:
    with open_file(path, 1 << 16) as fh:
        scan = scan_pickle(fh)
    add_plain_reading(scan, lambda: open_file(path, 1 << 16))
    _pickle_facts(path, facts, scan)
    raise_if_over_limit(scan)
    raise_if_truncated(scan)
    # pickle.dump writes STOP last: a STOP on the file's last byte proves it whole.
    facts.complete = scan.complete and scan.end == path.stat().st_size


def _pickle_facts(path: Path, facts: Facts, scan: PickleScan) -> None:
    meta, warnings = describe(scan)
    names = meta["imports"]
    joblib = path.suffix.lower() == ".joblib" or any(n.startswith("joblib.") for n in names)
    facts.format = "joblib" if joblib else "pickle"
    facts.framework = framework_from_globals(names)
    if scan.tensors:
        meta["tensors"] = scan.tensors
        meta["parameters"] = scan.tensor_elements
    facts.metadata.update(meta)
    facts.warnings.extend(warnings)


def _inspect_compressed(path: Path, facts: Facts, head: bytes, size: int) -> None:
    """Compressed joblib/pickle, scanned through a streaming decompressor with a cap.
    joblib.load finds the compression by content, not name: any name whose data
    inflates to a pickle (PROTO first) is scanned."""
    if path.suffix.lower() not in _PICKLE_EXTS:
        with _decompressed(path, head) as (_raw, stream):
            try:
                first = stream.read(2)
            except (OSError, EOFError, zlib.error, lzma.LZMAError):
                first = b""
        if not (first[:1] == b"\x80" and first[1:2] in [bytes([i]) for i in range(6)]):
            facts.format = "unknown"
            facts.warnings.append("compressed data that is not a known model format")
            return
    limit = max(size * MAX_DECOMPRESSED_RATIO, 64 << 20)
    with _decompressed(path, head) as (_raw, stream):
        capped = _Capped(stream, limit)
        try:
            scan = scan_pickle(capped, seekable=False)  # type: ignore[arg-type]
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            raise Damaged(f"damaged compressed data: {exc}") from None
    with contextlib.suppress(OSError, EOFError, zlib.error, lzma.LZMAError):
        add_plain_reading(scan, lambda: _plain_stream(path, head, limit))
    _pickle_facts(path, facts, scan)
    facts.metadata["compressed"] = True
    if capped.hit:  # what lies past the cap could import anything: not half-read
        raise Refused(
            f"compressed pickle inflates past {MAX_DECOMPRESSED_RATIO}x the file "
            f"(limit {limit} bytes): too large to scan whole, treated as unsafe"
        )
    raise_if_over_limit(scan, "compressed pickle")
    raise_if_truncated(scan, "compressed pickle")


@contextlib.contextmanager
def _plain_stream(path: Path, head: bytes, limit: int) -> Iterator[IO[bytes]]:
    with _decompressed(path, head) as (_raw, stream):
        yield _Capped(stream, limit)  # type: ignore[misc]


@contextlib.contextmanager
def _decompressed(path: Path, head: bytes) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
    """The file and a streaming decompressor over it (gzip, bz2, xz, else zlib)."""
    raw = open_file(path)
    stream: Any
    if head.startswith(b"\x1f\x8b"):
        stream = gzip.GzipFile(fileobj=raw)
    elif head.startswith(b"BZh"):
        stream = bz2.BZ2File(raw)
    elif head.startswith(b"\xfd7zXZ"):
        stream = lzma.LZMAFile(raw)  # noqa: SIM115 - closed below
    else:
        stream = _ZlibReader(raw)
    with raw, stream:
        yield raw, stream


class _Capped:
    """A read-only stream that ends (as if truncated) after `limit` bytes."""

    def __init__(self, inner: IO[bytes], limit: int) -> None:
        self.inner = inner
        self.left = limit
        self.hit = False

    def read(self, n: int = -1) -> bytes:
        if n < 0 or n > self.left:
            n = self.left
        data = self.inner.read(n) if n else b""
        self.left -= len(data)
        if self.left <= 0 and not self.hit and data:
            self.hit = bool(self.inner.read(1))
        return data

    def readline(self, limit: int = -1) -> bytes:
        out = bytearray()
        while limit < 0 or len(out) < limit:
            b = self.read(1)
            if not b:
                break
            out += b
            if b == b"\n":
                break
        return bytes(out)


class _ZlibReader:
    """zlib stream (joblib's 'zlib' compressor) as a file object."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.d = zlib.decompressobj()
        self.buf = bytearray()
        self.pos = 0  # read up to here; dropped only when more is inflated (linear)

    def read(self, n: int = -1) -> bytes:
        want = n if n >= 0 else 1 << 30
        while len(self.buf) - self.pos < want and not self.d.eof:
            data = self.d.unconsumed_tail or self.raw.read(1 << 16)
            if not data:
                break
            del self.buf[: self.pos]
            self.pos = 0
            self.buf += self.d.decompress(data, 1 << 20)
        out = bytes(self.buf[self.pos : self.pos + want])
        self.pos += len(out)
        return out

    def close(self) -> None:
        pass

    def __enter__(self) -> _ZlibReader:
        return self

    def __exit__(self, *exc: object) -> None:
        pass
