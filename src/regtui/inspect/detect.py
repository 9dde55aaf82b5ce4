"""Which format a file holds, decided by its first bytes; names only break ties.

Also the naming rules the scanner and the watcher share: which names are
temporary or sidecars (never artifacts) and which files may be models.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

from regtui.inspect.bounds import open_file
from regtui.inspect.safetensors import MAX_HEADER

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


def sniff(head: bytes, size: int) -> str | None:
    """The format the first bytes show, or None if they show none we know."""
    if len(head) < 4:
        return None
    if head.startswith(b"GGUF"):
        return "gguf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "hdf5"
    if head[4:8] == b"TFL3":
        return "tflite"
    if head.startswith(b"CBM1"):
        return "catboost"
    if head.startswith(b"binf"):
        return "xgboost-binary"
    if head[0] == 0x80 and len(head) > 1 and 2 <= head[1] <= 5:
        return "pickle"
    if head.startswith((b"\x1f\x8b", b"\xfd7zXZ\x00", b"BZh")) or head[:2] in (
        b"x\x01",
        b"x\x5e",
        b"x\x9c",
        b"x\xda",
    ):
        return "compressed"
    if _looks_like_safetensors(head):
        return "safetensors"
    stripped = head.lstrip()
    if stripped.startswith(b"{"):
        compact = re.sub(rb"\s+", b"", stripped[:200])
        if compact.startswith(b'{"learner"'):
            return "xgboost-json"
        if head[1:2] in b"iUIlL" and b"learner" in head[:32]:
            return "xgboost-ubj"
        return "json"
    if head.startswith(b"tree\n") and b"version=" in head:
        return "lightgbm"
    if _looks_like_onnx(head):
        return "onnx"
    return None


def _looks_like_safetensors(head: bytes) -> bool:
    """An 8-byte header length a real header can have, then the start of a JSON
    object: `{"` or `{}`. One `{` byte alone occurs by chance (a nine-byte ONNX
    file was once taken for safetensors). The length is not checked against the
    file size: a header that claims more than the file holds is the inspector's
    to report as damage."""
    if len(head) < 10:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    if not 2 <= n <= MAX_HEADER or head[8:9] != b"{":
        return False
    return head[9:].lstrip(b" \t\r\n")[:1] in (b'"', b"}")


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
        found = sniff(read_head(path, 512), _size(path))
        return found is not None and found not in ("json", "compressed")
    return False


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
