"""Which format a file holds, decided by its first bytes; names only break ties.

The signatures and their order are the format table's (formats.FORMATS); here is
how they are tried, and the naming rules the scanner and the watcher share: which
names are temporary or sidecars (never artifacts) and which files may be models.
"""

from __future__ import annotations

import re
from pathlib import Path

from regtui.inspect.bounds import open_file
from regtui.inspect.formats import FORMATS
from regtui.inspect.pickle_files import PICKLE_EXTS

HEAD_BYTES = 4096

# Extensions that say "this is a model file" on their own: those of the table's
# formats, and these, whose files are formats inside a container (a zip, a pickle) or
# a folder.
MODEL_EXTENSIONS = {ext: kind for kind, f in FORMATS.items() for ext in f.extensions} | {
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".ckpt": "pytorch",
    ".bin": "pytorch",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "joblib",
    ".sav": "pickle",
    ".keras": "keras",
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
    for kind, fmt in FORMATS.items():
        if fmt.strong is not None and fmt.strong(head, size):
            return kind
    allowed = _weak_allowed(ext)
    for kind, fmt in FORMATS.items():
        if fmt.weak is not None and kind in allowed and fmt.weak(head, size):
            return kind
    return None


# Names that may hold anything: the weak signatures each may still show.
_MAYBE_WEAK = {".model": {"xgboost-binary"}}


def _weak_allowed(ext: str | None) -> set[str]:
    if ext is None:
        return set()
    allowed = {"json"} | _MAYBE_WEAK.get(ext, set()) | _COMPATIBLE.get(ext, set())
    if ext in MODEL_EXTENSIONS:
        allowed.add(MODEL_EXTENSIONS[ext])
    if ext in PICKLE_EXTS:
        allowed |= {"pickle", "compressed"}  # compressed joblib/pickle
    return allowed


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
