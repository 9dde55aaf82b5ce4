"""Which format a file holds, decided by its first bytes; names only break ties.

Also the naming rules the scanner and the watcher share: which names are
temporary or sidecars (never artifacts) and which files may be models.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

from regtui.inspect.bounds import open_file
from regtui.inspect.pytorch import LEGACY_MAGIC  # a torch.save() file of the legacy format
from regtui.inspect.safetensors import MAX_HEADER, decoded_header

HEAD_BYTES = 4096

# Extensions that say "this is a model file" on their own.
MODEL_EXTENSIONS = {
    ".safetensors": "safetensors",
    ".onnx": "onnx",
    ".gguf": "gguf",
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".ckpt": "pytorch",
    ".bin": "pytorch",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "joblib",
    ".sav": "pickle",
    ".keras": "keras",
    ".h5": "hdf5",
    ".hdf5": "hdf5",
    ".tflite": "tflite",
    ".ubj": "xgboost-ubj",
    ".cbm": "catboost",
    ".pb": "savedmodel",
    ".pt2": "pytorch-export",
    ".skops": "skops",
}
# Extensions whose files are models only if their content says so.
MAYBE_EXTENSIONS = {".json", ".txt", ".model", ""}

# Which detected formats an extension may legitimately hold (for the mismatch warning).
_COMPATIBLE = {
    ".bin": {"pytorch", "pytorch-legacy", "pickle", "safetensors", "gguf", "xgboost-binary"},
    ".pt": {"pytorch", "pytorch-legacy", "torchscript", "pickle"},
    ".pth": {"pytorch", "pytorch-legacy", "torchscript", "pickle"},
    ".ckpt": {"pytorch", "pytorch-legacy", "pickle"},
    ".pkl": {"pickle", "joblib", "pytorch", "pytorch-legacy"},
    ".pickle": {"pickle", "joblib"},
    ".sav": {"pickle", "joblib"},
    ".joblib": {"joblib", "pickle"},
    ".h5": {"hdf5"},
    ".hdf5": {"hdf5"},
    ".pb": {"savedmodel", "onnx"},
}

_SIDECAR_NAMES = {
    "metrics.json",
    "metrics.yaml",
    "metrics.yml",
    "params.json",
    "params.yaml",
    "params.yml",
    "hparams.yaml",
    "hparams.yml",
    "trainer_state.json",
    "eval_results.json",
    "all_results.json",
    "train_results.json",
    "training_args.bin",
    "config.json",
    "generation_config.json",
    "requirements.txt",
    "conda.yaml",
    "python_env.yaml",
    "mlmodel",
    "input_example.json",
    "serving_input_example.json",
    "registered_model_meta",
}
_NOT_MODEL = re.compile(
    r"(?i)^(readme.*|license.*|tokenizer.*|vocab\..*|merges\.txt|special_tokens_map\.json|"
    r"added_tokens\.json|preprocessor_config\.json|.*\.(md|yaml|yml|csv|tsv|log|py|ipynb|npy|"
    r"npz|png|jpg|jpeg|gif|svg|html|toml|cfg|ini|lock|sh|parquet|arrow)|.*\.index\.json)$"
)
_TEMP = re.compile(
    r"(?i).*(\.tmp|\.temp|\.part|\.partial|\.lock|\.crdownload|\.swp|\.incomplete|~)$"
)


def is_ignored_name(name: str) -> bool:
    """Names never taken as artifacts: dot files, temporary/partial downloads,
    sidecars. Applies to folders too (the scanner skips `.git`, `__pycache__`)."""
    if not name or name.startswith(".") or name == "__pycache__":
        return True
    if _TEMP.fullmatch(name):
        return True
    return name.lower() in _SIDECAR_NAMES


def read_head(path: Path, n: int = HEAD_BYTES) -> bytes:
    try:
        with open_file(path) as fh:
            return fh.read(n)
    except OSError:
        return b""


def sniff(head: bytes, size: int, ext: str | None = None) -> str | None:
    """The format the first bytes show, or None if they show none we know.

    A strong signature (several fixed bytes, or a structure checked against the
    file's size) decides alone; the extension only earns a mismatch warning. A
    weak one (two or three bytes that occur by chance) is trusted only when the
    extension `ext` (lower case, with its dot) names that format; without `ext`
    only strong signatures count."""
    if len(head) < 4:
        return None
    found = _strong(head, size)
    if found is not None:
        return found
    allowed = _weak_allowed(ext)
    for kind, test in _WEAK:
        if kind in allowed and test(head, size):
            return kind
    return None


def _strong(head: bytes, size: int) -> str | None:
    if head.startswith(b"GGUF"):
        return "gguf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "hdf5"
    if head[4:8] == b"TFL3" and 8 <= struct.unpack_from("<I", head)[0] < size:
        return "tflite"  # the flatbuffer's root table lies inside the file
    if head.startswith(b"CBM1"):
        return "catboost"
    if head.startswith(LEGACY_MAGIC) or _framed_pickle(head, size):
        return "pickle"
    if head.startswith((b"\x1f\x8b\x08", b"\xfd7zXZ\x00")) or _BZIP2.match(head):
        return "compressed"
    if _zlib_pickle(head):
        return "compressed"
    if _looks_like_safetensors(head, size):
        return "safetensors"
    if re.sub(rb"\s+", b"", head.lstrip()[:200]).startswith(b'{"learner"'):
        return "xgboost-json"
    if _UBJ_LEARNER.match(head):
        return "xgboost-ubj"
    if head.startswith(b"tree\n") and b"\nversion=" in head:
        return "lightgbm"
    return None


_BZIP2 = re.compile(rb"BZh[1-9](1AY&SY|\x17rE8P\x90)")
# XGBoost's UBJSON: an object whose first key (keys are sorted) is "learner".
_UBJ_LEARNER = re.compile(rb"\{(?:[iU]\x07|I\x00\x07|l\x00{3}\x07|L\x00{7}\x07)learner")


def _framed_pickle(head: bytes, size: int) -> bool:
    """Protocol 4/5 pickle with its first FRAME, whose length fits the file."""
    if len(head) < 11 or head[0] != 0x80 or head[1] not in (4, 5) or head[2] != 0x95:
        return False
    n: int
    (n,) = struct.unpack_from("<Q", head, 3)
    return 0 < n <= size - 11


def _weak_pickle(head: bytes, size: int) -> bool:
    return head[0] == 0x80 and 2 <= head[1] <= 5


def _weak_zlib(head: bytes, size: int) -> bool:
    return head[:2] in (b"x\x01", b"x\x5e", b"x\x9c", b"x\xda")


def _zlib_pickle(head: bytes) -> bool:
    """A zlib start whose first inflated bytes begin a pickle: the two together do not
    occur by chance, and joblib finds its compression by content, whatever the name."""
    if not _weak_zlib(head, 0):
        return False
    try:
        out = zlib.decompressobj().decompress(head, 16)
    except zlib.error:
        return False
    return len(out) >= 2 and out[0] == 0x80 and 2 <= out[1] <= 5


def _weak_safetensors(head: bytes, size: int) -> bool:
    """The safetensors start without the size check: under a safetensors name, a
    header that claims more than the file holds is the reader's to call damage."""
    return _safetensors_start(head, MAX_HEADER)


def _weak_json(head: bytes, size: int) -> bool:
    return head.lstrip()[:1] == b"{"


def _weak_xgboost_binary(head: bytes, size: int) -> bool:
    return head.startswith(b"binf")


# Weak signatures, in the order tried; each only where the extension allows it.
_WEAK = (
    ("safetensors", _weak_safetensors),
    ("pickle", _weak_pickle),
    ("compressed", _weak_zlib),
    ("xgboost-binary", _weak_xgboost_binary),
    ("onnx", lambda head, size: _looks_like_onnx(head)),
    ("tflite", lambda head, size: head[4:8] == b"TFL3"),  # a root offset the reader refuses
    ("json", _weak_json),  # a JSON document is never a model: it only explains damage
)
# Names that may hold anything: the weak signatures each may still show.
_MAYBE_WEAK = {".model": {"xgboost-binary"}}
_PICKLE_FAMILY = {".pkl", ".pickle", ".joblib", ".sav", ".pt", ".pth", ".bin", ".ckpt"}


def _weak_allowed(ext: str | None) -> set[str]:
    if ext is None:
        return set()
    allowed = {"json"} | _MAYBE_WEAK.get(ext, set()) | _COMPATIBLE.get(ext, set())
    if ext in MODEL_EXTENSIONS:
        allowed.add(MODEL_EXTENSIONS[ext])
    if ext in _PICKLE_FAMILY:
        allowed |= {"pickle", "compressed"}  # compressed joblib/pickle
    return allowed


def _safetensors_start(head: bytes, limit: int) -> bool:
    """An 8-byte header length in 2..limit, then the start of a JSON object: `{"`
    or `{}`. One `{` byte alone occurs by chance (a nine-byte ONNX file was once
    taken for safetensors)."""
    if len(head) < 10:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    if not 2 <= n <= limit or head[8:9] != b"{":
        return False
    return head[9:].lstrip(b" \t\r\n")[:1] in (b'"', b"}")


_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    """The safetensors start with a header length that fits the file, and the
    header's bytes in the head are JSON text (no control bytes: binary formats
    such as ONNX show some within a few bytes); a header that fits the head must
    also parse as a JSON object."""
    if not _safetensors_start(head, min(size - 8, MAX_HEADER)):
        return False
    (n,) = struct.unpack("<Q", head[:8])
    if _CONTROL.search(head, 8, 8 + n):
        return False
    if 8 + n > len(head):
        return True
    try:
        return isinstance(decoded_header(head[8 : 8 + n]), dict)
    except (ValueError, RecursionError):
        return False


def _looks_like_onnx(head: bytes) -> bool:
    # ModelProto starts with ir_version (field 1, varint), then another known field.
    return (
        len(head) >= 3
        and head[0] == 0x08
        and 2 <= head[1] <= 20
        and head[2] in (0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42, 0x72)
    )


def extension_mismatch(path: Path, detected: str) -> str | None:
    """A warning if the name's extension promises another format than the content."""
    ext = path.suffix.lower()
    expected = MODEL_EXTENSIONS.get(ext)
    if expected is None or expected == detected:
        return None
    if detected in _COMPATIBLE.get(ext, set()):
        return None
    return f"extension {ext} but content is {detected}"


def is_artifact_candidate(path: Path) -> bool:
    """A file that might be a model: by extension, or by magic bytes for names
    that could hold anything (.json, .txt, .model, no extension)."""
    name = path.name
    if is_ignored_name(name) or _NOT_MODEL.fullmatch(name):
        return False
    ext = path.suffix.lower()
    if ext in MODEL_EXTENSIONS:
        return True
    if ext in MAYBE_EXTENSIONS or len(ext) > 12:
        found = sniff(read_head(path, 512), _size(path), ext)
        return found is not None and found not in ("json", "compressed")
    return False


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
