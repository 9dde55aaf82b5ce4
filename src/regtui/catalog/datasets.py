"""Which data made a version: each dataset's identity, never its contents.

An identity is a small JSON object kept in `version.datasets`:

    {"kind": "file"|"folder", "ref": "/abs/path", "sha256": "…", "size_bytes": n}
    {"kind": "uri", "ref": "s3://bucket/key", "version": "3HL4kq…"}

plus, where known, `name`, `context` (training, evaluation, …), `digest` (MLflow's
own) and `source` (who named it: given, mlflow, model card, datasets.json, data.yaml).

Local files and folders are hashed with the artifacts' hasher (streamed, symlinks
listed and never followed); URIs are parsed, never fetched. Sidecars that name
data are read bounded, like every other file from a training run.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from regtui.errors import ArtifactError, UsageError
from regtui.hashing import Progress, hash_file, hash_path
from regtui.text import human_size

MAX_DATASETS = 100  # identities kept per version
MAX_REF = 2000  # characters of a path or URI
MAX_FIELD = 200  # characters of a name, version, context or digest
# A local dataset named by a sidecar (not by the user) is hashed only up to this
# size: the watcher must stay quick, and a sidecar must not make regtui read a
# terabyte. Larger ones keep their path and size.
SIDECAR_HASH_LIMIT = 64 << 20
MAX_MLFLOW_INPUTS = 100
SIDECAR_NAMES = ("datasets.json", "data.yaml")  # one lstat each per artifact

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
# `user:password@` in a URI or an scp-style spec (`bob:pw@host:/x`): never echoed.
_CREDENTIALS = re.compile(r"([^/:@\s]+):[^/@\s]+@")
# Query keys that carry a version of the object they name.
_VERSION_KEYS = ("versionId", "generation", "version", "rev", "revision", "etag", "snapshot")
# Query keys that carry a secret (presigned URLs, SAS tokens): never stored.
_SECRET_KEY = re.compile(
    r"sig|signature|token|credential|password|secret|^key$|apikey|api_key|^se$|^sp$|^sv$"
    r"|^st$|^skoid$|^sktid$|x-amz-|x-goog-",
    re.IGNORECASE,
)
# Context names a sidecar mapping may use for its datasets.
_CONTEXT_KEYS = {
    "train": "training",
    "training": "training",
    "val": "validation",
    "valid": "validation",
    "validation": "validation",
    "eval": "evaluation",
    "evaluation": "evaluation",
    "test": "test",
}


def redact(text: str) -> str:
    """`text` with any `user:password@` shown as `user:***@`: for error messages."""
    return _CREDENTIALS.sub(r"\1:***@", text)


def is_uri(spec: str) -> bool:
    return bool(_SCHEME.match(spec)) and not spec.lower().startswith("file://")


def identify(
    spec: str,
    *,
    progress: Progress | None = None,
    base: Path | None = None,
    hash_limit: int | None = None,
) -> dict[str, Any]:
    """The identity of one dataset named by a path or URI.

    `hash_limit` None hashes a local dataset whatever its size (the user named it);
    otherwise one larger than the limit keeps its path and size only.
    """
    spec = spec.strip()
    if not spec:
        raise UsageError("a dataset needs a path or URI")
    if "\x00" in spec or len(spec) > MAX_REF:
        raise UsageError(f"dataset {redact(spec[:80])!r}…: not a usable path or URI")
    if is_uri(spec):
        return uri_identity(spec)
    if spec.lower().startswith("file://"):
        spec = urlsplit(spec).path
    p = Path(spec).expanduser()
    if not p.is_absolute():
        p = (base or Path.cwd()) / p
    p = Path(os.path.normpath(p))
    if not p.exists():
        raise ArtifactError(f"dataset {redact(str(p))}: no such file or folder")
    kind = "folder" if p.is_dir() else "file"
    out: dict[str, Any] = {"kind": kind, "ref": str(p)}
    try:
        if hash_limit is not None:
            size = _local_size(p, hash_limit)
            if size is None or size > hash_limit:
                if size is not None:
                    out["size_bytes"] = size
                out["unhashed"] = f"larger than {human_size(hash_limit)}"
                return out
            digest = _hash_cached(p) if kind == "file" else hash_path(p)
        else:
            digest = hash_path(p, progress)
    except ArtifactError as exc:  # the hasher names the path: keep a password out
        raise ArtifactError(redact(str(exc))) from None
    out["sha256"] = digest.sha256
    out["size_bytes"] = digest.size_bytes
    return out


def _local_size(p: Path, limit: int) -> int | None:
    """Bytes in a file or folder, or None once a folder passes `limit` (stop walking)."""
    if p.is_file():
        return p.stat().st_size
    total = 0
    for dirpath, _dirs, files in os.walk(p, followlinks=False):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            total += st.st_size
            if total > limit:
                return None
    return total


@functools.lru_cache(maxsize=256)
def _hash_file_at(path: str, _stamp: tuple[int, int, int]) -> Any:
    return hash_file(Path(path))


def _hash_cached(p: Path) -> Any:
    """A sidecar-named file hashed once per content stamp: the same run's many
    checkpoints name the same data."""
    st = p.stat()
    return _hash_file_at(str(p), (st.st_ino, st.st_size, st.st_mtime_ns))


def uri_identity(uri: str) -> dict[str, Any]:
    """A remote dataset: its URI (credentials and signatures removed) and the
    version it pins, if any (`?versionId=`, `?generation=`, `@rev`). Never fetched."""
    parts = urlsplit(uri)
    netloc = parts.netloc.rsplit("@", 1)[-1]  # user:password@host -> host
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if not _SECRET_KEY.search(k)]
    version = next((v for k, v in kept if k in _VERSION_KEYS and v), None)
    path = parts.path
    if version is None and parts.scheme.lower() == "hf":
        # hf://datasets/org/name@rev/file: the revision pins the content
        m = re.search(r"@([^/]+)", path)
        if m:
            version = m.group(1)
    ref = urlunsplit((parts.scheme.lower(), netloc, path, urlencode(kept), ""))
    out: dict[str, Any] = {"kind": "uri", "ref": ref}
    if version:
        out["version"] = version[:MAX_FIELD]
    return out


def idents(ds: dict[str, Any]) -> list[str]:
    """What `dataset = '…'` finds this identity by: its hash, path or URI, name
    and MLflow digest."""
    out = []
    for key in ("sha256", "ref", "name", "digest"):
        value = ds.get(key)
        if isinstance(value, str) and value and value not in out:
            out.append(value)
    return out


def label(ds: dict[str, Any]) -> str:
    """One line for a person: name or path/URI, with version or short hash."""
    ref = str(ds.get("ref") or ds.get("name") or "?")
    text = ref if not ds.get("name") or ds.get("name") == ref else f"{ds['name']} ({ref})"
    if ds.get("version"):
        text += f" @ {ds['version']}"
    if ds.get("sha256"):
        text += f"  sha256 {str(ds['sha256'])[:12]}"
    elif ds.get("digest"):
        text += f"  digest {ds['digest']}"
    if ds.get("context"):
        text = f"[{ds['context']}] " + text
    return text


def key(ds: dict[str, Any]) -> str:
    """What makes two identities the same dataset (for merging and diffs)."""
    return str(ds.get("ref") or ds.get("name") or ds.get("sha256") or "")


def merge(*groups: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Identities in order, the first of each key winning; at most MAX_DATASETS."""
    seen: dict[str, dict[str, Any]] = {}
    for group in groups:
        for ds in group:
            k = key(ds)
            if k and k not in seen and len(seen) < MAX_DATASETS:
                seen[k] = ds
    return list(seen.values())


def given(specs: Iterable[str], progress: Progress | None = None) -> list[dict[str, Any]]:
    """Identities of the datasets a user named (`--dataset`, `datasets=[…]`)."""
    specs = list(specs)
    if len(specs) > MAX_DATASETS:
        raise UsageError(f"at most {MAX_DATASETS} datasets per version")
    out = []
    for spec in specs:
        if not isinstance(spec, str | os.PathLike):
            raise UsageError(f"a dataset is a path or URI, got {spec!r}")
        out.append({**identify(os.fspath(spec), progress=progress), "source": "given"})
    return out


# ----------------------------------------------------------------- sidecars


def from_sidecars(
    path: Path,
    metadata: dict[str, Any],
    warnings: list[str],
    root: Path | None = None,
    folder: bool | None = None,
) -> list[dict[str, Any]]:
    """Datasets named beside an artifact: its model card's `datasets:`, a
    `datasets.json` / `data.yaml` in its run folder, and MLflow's logged inputs
    of the run it sits in. Problems become warnings; nothing here raises.

    A sidecar is anyone's text: a local dataset it names is hashed only inside
    `root` (the scanned or watched folder) or, without one, inside the sidecar's
    own run folder. Elsewhere (`/etc/shadow`) it is kept by path, never read, so a
    sidecar cannot make regtui confirm a guess at another file's content.
    `folder`: whether `path` is a bundle folder, when the caller knows."""
    out: list[dict[str, Any]] = []
    card = metadata.get("model_card")
    if isinstance(card, dict):
        out += _card_datasets(card.get("datasets"))
    is_folder = os.path.isdir(path) if folder is None else folder
    folders = [path, path.parent] if is_folder else [path.parent]
    for where in folders:
        for name, data in _sidecar_files(where, warnings):
            out += _named(data, where, name, warnings, root or where)
    out += _mlflow_inputs(path, warnings, root)
    return merge(out)


def _card_datasets(value: Any) -> list[dict[str, Any]]:
    """A model card lists Hugging Face dataset ids (`imdb`, `org/name`)."""
    names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    out = []
    for name in names[:MAX_DATASETS]:
        if isinstance(name, str) and name.strip() and len(name) <= MAX_FIELD:
            name = name.strip()
            ref = name if is_uri(name) else f"hf://datasets/{name}"
            out.append({**uri_identity(ref), "name": name, "source": "model card"})
    return out


def _sidecar_files(folder: Path, warnings: list[str]) -> Iterator[tuple[str, Any]]:
    from regtui.inspect.bounds import BadContent, load_json, load_yaml
    from regtui.inspect.folder_names import present

    for name in present(os.fspath(folder), SIDECAR_NAMES):
        try:
            data = (
                load_json(folder / name, 1 << 20)
                if name.endswith(".json")
                else (load_yaml(folder / name))
            )
        except (BadContent, OSError) as exc:
            warnings.append(f"sidecar {name}: {exc}")
            continue
        yield name, data


def _named(
    data: Any, folder: Path, source: str, warnings: list[str], limit: Path
) -> list[dict[str, Any]]:
    """Identities from a sidecar: a list of paths/URIs or objects, or a mapping of
    context (train, val, test, …) to path(s); data.yaml's `path:` is their base."""
    base = folder
    entries: list[tuple[Any, str | None]] = []
    if isinstance(data, dict):
        root = data.get("path")
        if isinstance(root, str) and root and not is_uri(root):
            base = folder / root
        if isinstance(data.get("datasets"), list):
            entries += [(x, None) for x in data["datasets"]]
        for k, context in _CONTEXT_KEYS.items():
            value = data.get(k)
            for x in value if isinstance(value, list) else [value]:
                if x is not None:
                    entries.append((x, context))
    elif isinstance(data, list):
        entries = [(x, None) for x in data]
    out = []
    for entry, ctx in entries[:MAX_DATASETS]:
        try:
            ds = _entry(entry, base, source, limit)
        except (ArtifactError, UsageError, OSError) as exc:
            warnings.append(f"sidecar {source}: {str(exc)[:300]}")
            continue
        if ds is not None:
            if ctx and "context" not in ds:
                ds["context"] = ctx
            out.append(ds)
    return out


def _readable_under(full: Path, limit: Path) -> bool:
    """Whether `full`, symlinks resolved, lies inside `limit` (resolved too)."""
    real, top = os.path.realpath(full), os.path.realpath(limit)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def _entry(entry: Any, base: Path, source: str, limit: Path) -> dict[str, Any] | None:
    extra: dict[str, Any] = {}
    if isinstance(entry, dict):
        spec = next(
            (entry[k] for k in ("uri", "url", "path", "file") if isinstance(entry.get(k), str)),
            None,
        )
        for k in ("name", "context", "version", "digest"):
            if isinstance(entry.get(k), str | int) and not isinstance(entry.get(k), bool):
                extra[k] = str(entry[k])[:MAX_FIELD]
        sha = entry.get("sha256")
        if isinstance(sha, str) and _HEX64.match(sha.lower()):
            extra["sha256"] = sha.lower()
        if spec is None:
            return {**extra, "kind": "named", "source": source} if extra.get("name") else None
    elif isinstance(entry, str):
        spec = entry
    else:
        return None
    if is_uri(spec):
        ds = uri_identity(spec[:MAX_REF])
    else:
        if spec.lower().startswith("file://"):
            spec = urlsplit(spec).path
        path = Path(spec).expanduser()
        full = Path(os.path.normpath(path if path.is_absolute() else base / path))
        if not _readable_under(full, limit):
            ds = {
                "kind": "path",
                "ref": redact(str(full))[:MAX_REF],
                "unhashed": "outside the scanned folder: not read",
            }
        elif not (full.is_file() or full.is_dir()):
            # Named but not here (another machine's path), or not a regular file
            # (a FIFO would block the reader): kept as named, never opened.
            ds = {"kind": "path", "ref": str(full)[:MAX_REF]}
        elif "sha256" in extra:
            ds = {"kind": "folder" if full.is_dir() else "file", "ref": str(full)}
        else:
            ds = identify(str(full), hash_limit=SIDECAR_HASH_LIMIT)
    return {**ds, **extra, "source": source}


def _mlflow_inputs(path: Path, warnings: list[str], root: Path | None) -> list[dict[str, Any]]:
    """MLflow's logged inputs of the run an artifact sits in, from a local mlruns
    layout: <exp>/<run>/artifacts/…/model, <run>/inputs/<id>/meta.yaml naming
    <exp>/datasets/<source_id>/meta.yaml. Bounded: a few levels up, 100 inputs."""
    text = os.fspath(path)
    if "artifacts" not in text:  # the scan's hot path: no Path arithmetic at all
        return []
    parts = text.rstrip(os.sep).split(os.sep)
    up = next((i for i in range(len(parts) - 1, 0, -1)[:4] if parts[i] == "artifacts"), None)
    if up is None:
        return []
    run = Path(os.sep.join(parts[:up]) or os.sep)
    if not (run / "inputs").is_dir() or not (run / "meta.yaml").is_file():
        return []
    from regtui.inspect.bounds import BadContent, load_yaml

    datasets_dir = run.parent / "datasets"
    out = []
    try:
        inputs = sorted(os.scandir(run / "inputs"), key=lambda e: e.name)[:MAX_MLFLOW_INPUTS]
    except OSError:
        return []
    for entry in inputs:
        try:
            meta = load_yaml(Path(entry.path) / "meta.yaml")
            if not isinstance(meta, dict) or meta.get("source_type") != "DATASET":
                continue
            source_id = str(meta.get("source_id", ""))
            if not _SAFE_ID.match(source_id):  # a folder name, never a path
                continue
            ds = load_yaml(datasets_dir / source_id / "meta.yaml")
        except (BadContent, OSError) as exc:
            warnings.append(f"MLflow input {entry.name[:40]}: {str(exc)[:200]}")
            continue
        if not isinstance(ds, dict):
            continue
        tags = meta.get("tags")
        context = tags.get("mlflow.data.context") if isinstance(tags, dict) else None
        out.append(_mlflow_dataset(ds, context, run.parent, root or run))
    return out


def _mlflow_dataset(ds: dict[str, Any], context: Any, exp_dir: Path, limit: Path) -> dict[str, Any]:
    import json

    source: Any = ds.get("source")
    if isinstance(source, str):
        try:
            source = json.loads(source)
        except ValueError:
            source = {"uri": source}
    spec = None
    if isinstance(source, dict):
        spec = next(
            (source[k] for k in ("uri", "url", "path", "file") if isinstance(source.get(k), str)),
            None,
        )
    entry: dict[str, Any] = {
        k: ds[k] for k in ("name", "digest") if isinstance(ds.get(k), str | int)
    }
    if isinstance(context, str):
        entry["context"] = context
    if spec:
        entry["uri"] = spec
    try:
        found = _entry(entry, exp_dir, "mlflow", limit)
    except (ArtifactError, UsageError, OSError):
        found = None
    return found or {
        "kind": "named",
        "name": str(ds.get("name", "?"))[:MAX_FIELD],
        "source": "mlflow",
    }
