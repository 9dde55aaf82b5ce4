"""Bundle folders (one version = one folder): MLflow, Hugging Face, TF SavedModel.

Their inner model files are inspected like any file (so pickles inside an MLflow
folder still get their import warnings); these functions add what the folder's
own description files say. A folder whose description names files that are not
there (an `MLmodel` flavor's data, a weights index's shards), or whose inner model
file is damaged, is damaged: most often it is still being written.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from regtui.hashing import CHECKPOINT_DIR
from regtui.inspect.bounds import (
    BadContent,
    Damaged,
    bounded,
    clip,
    is_finite_number,
    load_json,
    load_yaml,
    load_yaml_text,
    open_file,
)
from regtui.inspect.detect import MODEL_EXTENSIONS, is_artifact_candidate
from regtui.inspect.facts import Facts
from regtui.tree_walk import Skipped, walk

MAX_BUNDLE_FILES = 10_000
MAX_INNER = 64  # inner model files inspected per bundle
_HF_WEIGHTS = re.compile(
    r"(model|pytorch_model|tf_model|flax_model|adapter_model)(-\d+-of-\d+)?"
    r"\.(safetensors|bin|h5|msgpack)|.*\.safetensors|model\.safetensors\.index\.json|"
    r"pytorch_model\.bin\.index\.json"
)
WEIGHTS_INDEX = re.compile(r".+\.(safetensors|bin|h5|msgpack)\.index\.json")
SHARD = re.compile(r"(.+)-(\d+)-of-(\d+)(\.\w+)")
MAX_SHARDS = 10_000
# MLmodel flavor keys whose value is a file or folder inside the model folder.
_MLFLOW_PATH_KEYS = (
    "pickled_model", "model_data", "model_path", "data", "saved_model_dir",
    "model_binary", "python_model", "code",
)  # fmt: skip
_TOKENIZER = re.compile(
    r"tokenizer(_config)?\.json|vocab\.(txt|json)|merges\.txt|special_tokens_map\.json|"
    r"added_tokens\.json|(tokenizer|spiece|sentencepiece\.bpe)\.model"
)
_HF_CONFIG_KEYS = (
    "architectures", "model_type", "torch_dtype", "dtype", "transformers_version",
    "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
    "max_position_embeddings", "num_labels", "id2label",
)  # fmt: skip


def bundle_kind(path: Path) -> str | None:
    """'mlflow', 'savedmodel', 'huggingface' or None for a folder."""
    try:
        if not path.is_dir() or path.is_symlink():
            return None
        if (path / "MLmodel").is_file():
            return "mlflow"
        if (path / "saved_model.pb").is_file() or (path / "saved_model.pbtxt").is_file():
            return "savedmodel"
        if (path / "config.json").is_file():
            with os.scandir(path) as it:
                for i, entry in enumerate(it):
                    if i > 2000:
                        break
                    if _HF_WEIGHTS.fullmatch(entry.name) and entry.is_file():
                        return "huggingface"
    except OSError:
        return None
    return None


def is_bundle_dir(path: Path) -> bool:
    return bundle_kind(path) is not None


def bundle_root(path: Path, root: Path | None = None) -> Path | None:
    """The bundle folder a file (or folder) belongs to, as the scanner would yield it:
    the outermost bundle above it, or a `checkpoint-N/` bundle right inside that one."""
    candidates = [path] if path.is_dir() else []
    here = path.parent
    stop = root.absolute() if root is not None else None
    for _ in range(64):
        candidates.append(here)
        if here == stop or here.parent == here:
            break
        here = here.parent
    outer = None
    for folder in candidates:
        if stop is not None and not (folder == stop or folder.is_relative_to(stop)):
            continue
        if is_bundle_dir(folder):
            outer = folder
    if outer is None:
        return None
    rel = path.relative_to(outer).parts
    if rel and CHECKPOINT_DIR.fullmatch(rel[0]) and is_bundle_dir(outer / rel[0]):
        return outer / rel[0]
    return outer


def bundle_files(folder: Path, *, recurse_checkpoints: bool = False) -> list[Path]:
    """Files in a bundle (bounded, in name order), skipping hidden names and nested
    checkpoint-N folders (own versions). Folders it cannot walk are left out here:
    the bundle's hash (hashing.tree_members) refuses them with the reason."""

    def descend(entry: os.DirEntry[str], depth: int) -> bool:
        if entry.name.startswith("."):
            return False
        top_checkpoint = depth == 1 and CHECKPOINT_DIR.fullmatch(entry.name)
        return recurse_checkpoints or not top_checkpoint

    out: list[Path] = []
    for found in walk(folder, descend):
        if isinstance(found, Skipped):
            continue
        entry, _ = found
        if entry.name.startswith(".") or entry.is_dir(follow_symlinks=False):
            continue
        out.append(Path(entry.path))
        if len(out) >= MAX_BUNDLE_FILES:
            break
    return out


InspectFile = Callable[[Path], Facts]


def merge_inner(facts: Facts, folder: Path, files: list[Path], inspect_file: InspectFile) -> None:
    """Inspect the model files inside a bundle; sum tensors/parameters, carry warnings."""
    inner = [p for p in files if _inner_candidate(p)][:MAX_INNER]
    summary: list[dict[str, Any]] = []
    params = tensors = 0
    have_params = False
    for p in inner:
        # A link is inspected as the bytes it stands for (the hash covers them, and
        # inspect_path refused the bundle first if any link leaves it).
        sub = inspect_file(Path(os.path.realpath(p)) if p.is_symlink() else p)
        rel = str(p.relative_to(folder))
        if sub.refused:
            facts.warnings.append(f"{rel}: {sub.refused}")
            continue
        if sub.damage and facts.damage is None:
            facts.damage = f"{rel}: {sub.damage}"
        facts.warnings.extend(f"{rel}: {w}" for w in sub.warnings)
        item: dict[str, Any] = {"file": rel, "format": sub.format, "bytes": p.stat().st_size}
        for key in ("parameters", "tensors"):
            if isinstance(sub.metadata.get(key), int):
                item[key] = sub.metadata[key]
        if isinstance(sub.metadata.get("parameters"), int):
            params += sub.metadata["parameters"]
            have_params = True
        if isinstance(sub.metadata.get("tensors"), int):
            tensors += sub.metadata["tensors"]
        if isinstance(sub.metadata.get("unsafe_imports"), list):
            item["unsafe_imports"] = sub.metadata["unsafe_imports"]
        if sub.metadata.get("pickle_unsafe"):  # the bundle loads it: the bundle is unsafe
            facts.metadata["pickle_unsafe"] = True
        summary.append(item)
        if facts.framework is None and sub.framework:
            facts.framework = sub.framework
    facts.metadata["files"] = summary
    if have_params:
        facts.metadata["parameters"] = params
        facts.metadata["tensors"] = tensors


def _inner_candidate(p: Path) -> bool:
    if p.suffix.lower() in MODEL_EXTENSIONS and p.name != "training_args.bin":
        return True
    return p.suffix.lower() in (".json", ".txt", ".ubj", ".model", "") and is_artifact_candidate(p)


def inspect_mlflow(folder: Path, facts: Facts) -> None:
    facts.format = "mlflow"
    doc = load_yaml(folder / "MLmodel")
    if not isinstance(doc, dict):
        raise BadContent("MLmodel is not a YAML mapping")
    flavors = doc.get("flavors")
    meta: dict[str, Any] = {}
    if isinstance(flavors, dict):
        meta["flavors"] = {str(k): _flavor_summary(v) for k, v in list(flavors.items())[:20]}
        named = [str(k) for k in flavors if k != "python_function"]
        if named:
            facts.framework = named[0]
    for key in (
        "run_id",
        "model_uuid",
        "utc_time_created",
        "mlflow_version",
        "artifact_path",
        "model_id",
    ):
        if key in doc:
            meta[key] = bounded(doc[key])
    missing = _mlflow_missing(folder, doc)
    sig = doc.get("signature")
    if isinstance(sig, dict):
        meta["signature"] = {
            k: _signature_part(v) for k, v in sig.items() if k in ("inputs", "outputs", "params")
        }
    req = folder / "requirements.txt"
    if req.is_file() and not req.is_symlink():
        with open_file(req) as fh:
            text = fh.read(1 << 16).decode("utf-8", errors="replace")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
        meta["requirements"] = lines[:100]
    facts.metadata.update(bounded(meta))
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise Damaged(f"MLmodel names {missing[0]}, which is not there{more}: incomplete")


def _mlflow_missing(folder: Path, doc: dict[str, Any]) -> list[str]:
    """What the MLmodel names that the folder lacks, as "flavor.key 'path'"."""
    named: list[tuple[str, Any]] = []
    flavors = doc.get("flavors")
    for flavor, conf in list(flavors.items())[:20] if isinstance(flavors, dict) else []:
        if not isinstance(conf, dict):
            continue
        named += [(f"{flavor}.{k}", conf.get(k)) for k in _MLFLOW_PATH_KEYS]
        env = conf.get("env")
        if isinstance(env, dict):
            named += [(f"{flavor}.env.{k}", v) for k, v in list(env.items())[:10]]
        else:
            named.append((f"{flavor}.env", env))
        artifacts = conf.get("artifacts")
        if isinstance(artifacts, dict):
            for name, art in list(artifacts.items())[:100]:
                if isinstance(art, dict):
                    named.append((f"{flavor}.artifacts.{name}", art.get("path")))
    example = doc.get("saved_input_example_info")
    if isinstance(example, dict):
        named.append(("saved_input_example_info", example.get("artifact_path")))
    named += _python_env_requirements(folder, named)
    return [
        f"{clip(str(key), 100)} {clip(value, 200)!r}"
        for key, value in named
        if _inside_path(value) and not (folder / value).exists()
    ]


def _python_env_requirements(folder: Path, named: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The files a python_env.yaml the MLmodel names asks pip to read (`-r
    requirements.txt`, as MLflow writes it): MLflow writes requirements.txt after
    MLmodel, and in any order with the env files, so until it is there the folder
    is not whole even though MLmodel itself does not name it."""
    out: list[tuple[str, Any]] = []
    for key, value in named:
        if not (key.endswith(".env.virtualenv") and _inside_path(value)):
            continue
        env_file = folder / value
        if not env_file.is_file() or env_file.is_symlink():
            continue  # missing: MLmodel's own check says so
        try:
            env = load_yaml(env_file)
        except (BadContent, OSError):
            continue
        deps = env.get("dependencies") if isinstance(env, dict) else None
        for dep in deps[:100] if isinstance(deps, list) else []:
            if isinstance(dep, str) and dep.startswith("-r "):
                out.append((f"{value} -r", dep[3:].strip()))
    return out


def _inside_path(value: Any) -> bool:
    """A relative path that stays in the folder (others are not the folder's to hold)."""
    if not isinstance(value, str) or not value or "\0" in value:
        return False
    parts = Path(value).parts
    return not Path(value).is_absolute() and ".." not in parts


def _flavor_summary(value: Any) -> Any:
    if not isinstance(value, dict):
        return bounded(value)
    return {k: bounded(v) for k, v in value.items() if not isinstance(v, dict | list)}


def _signature_part(value: Any) -> Any:
    if isinstance(value, str) and len(value) < 1 << 16:
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return clip(value)
    return bounded(value)


def inspect_huggingface(folder: Path, facts: Facts, files: list[Path]) -> None:
    facts.format = "huggingface"
    meta: dict[str, Any] = {}
    try:
        config = load_json(folder / "config.json", 4 << 20)
    except BadContent as exc:
        facts.warnings.append(f"config.json: {exc}")
        config = None
    if isinstance(config, dict):
        meta.update({k: bounded(config[k]) for k in _HF_CONFIG_KEYS if k in config})
    names = [p.name for p in files if p.parent == folder]
    meta["tokenizer_files"] = sorted(n for n in names if _TOKENIZER.fullmatch(n))
    weights = [p for p in files if p.parent == folder and _HF_WEIGHTS.fullmatch(p.name)]
    meta["weights_files"] = sorted(p.name for p in weights)[:100]
    meta["weights_bytes"] = sum(p.stat().st_size for p in weights if p.is_file())
    if CHECKPOINT_DIR.fullmatch(folder.name):
        meta["checkpoint_step"] = int(folder.name.split("-", 1)[1])
    missing = _missing_shards(folder, names, facts.warnings)
    readme = folder / "README.md"
    if readme.is_file() and not readme.is_symlink():
        card, metrics = model_card(readme, facts.warnings)
        if card:
            meta["model_card"] = card
        for k, v in metrics.items():
            facts.metrics.setdefault(k, v)
    facts.metadata.update(bounded(meta))
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise Damaged(f"weight shard {clip(missing[0], 200)} is missing{more}: incomplete")
    unindexed = _unindexed_index(names)
    if unindexed:
        raise Damaged(f"sharded weights without their index {clip(unindexed, 200)}: incomplete")


def _unindexed_index(names: list[str]) -> str | None:
    """The weights index that sharded weights need and the folder lacks (loaders
    find shards only through it; save_pretrained writes it after the shards)."""
    if any(WEIGHTS_INDEX.fullmatch(n) for n in names):
        return None
    for name in sorted(names):
        shard = SHARD.fullmatch(name)
        if shard and _HF_WEIGHTS.fullmatch(name) and int(shard.group(3)) > 1:
            return f"{shard.group(1)}{shard.group(4)}.index.json"
    return None


def _missing_shards(folder: Path, names: list[str], warnings: list[str]) -> list[str]:
    """Shards that a weights index maps, or that a `-0000N-of-0000M` name implies,
    and that the folder lacks."""
    present = set(names)
    wanted: set[str] = set()
    for name in names:
        if WEIGHTS_INDEX.fullmatch(name):
            try:
                index = load_json(folder / name)
            except BadContent as exc:
                warnings.append(f"{name}: {exc}")
                continue
            weight_map = index.get("weight_map") if isinstance(index, dict) else None
            if isinstance(weight_map, dict):
                wanted.update(v for v in weight_map.values() if isinstance(v, str) and v)
        shard = SHARD.fullmatch(name)
        if shard and 0 < int(shard.group(3)) <= MAX_SHARDS:
            stem, width, total, ext = (
                shard.group(1),
                len(shard.group(2)),
                int(shard.group(3)),
                shard.group(4),
            )
            wanted.update(
                f"{stem}-{i:0{width}d}-of-{shard.group(3)}{ext}" for i in range(1, total + 1)
            )
    maybe = sorted(n for n in wanted if n not in present and _inside_path(n))[:MAX_SHARDS]
    return [n for n in maybe if not (folder / n).exists()]


def model_card(readme: Path, warnings: list[str]) -> tuple[dict[str, Any], dict[str, float]]:
    """Front matter of a model card: license, tags, datasets; metrics from model-index."""
    with open_file(readme) as fh:
        text = fh.read(1 << 20).decode("utf-8", errors="replace")
    if not text.startswith("---"):
        return {}, {}
    end = text.find("\n---", 3)
    if end < 0:
        warnings.append("README.md front matter is not closed")
        return {}, {}
    try:
        doc = load_yaml_text(text[3:end], "README.md front matter")
    except BadContent as exc:
        warnings.append(str(exc))
        return {}, {}
    if not isinstance(doc, dict):
        return {}, {}
    card = {
        k: bounded(doc[k])
        for k in (
            "license",
            "tags",
            "datasets",
            "language",
            "base_model",
            "library_name",
            "pipeline_tag",
        )
        if k in doc
    }
    metrics: dict[str, float] = {}
    index = doc.get("model-index")
    if isinstance(index, list):
        for entry in index[:10]:
            results = entry.get("results") if isinstance(entry, dict) else None
            for res in results[:20] if isinstance(results, list) else []:
                if not isinstance(res, dict):
                    continue
                ds = res.get("dataset")
                ds_name = ds.get("name") or ds.get("type") if isinstance(ds, dict) else None
                reported = res.get("metrics")
                for m in reported if isinstance(reported, list) else []:
                    if not isinstance(m, dict) or not is_finite_number(m.get("value")):
                        continue
                    key = clip(str(m.get("type") or m.get("name") or "metric"), 100)
                    if key in metrics and ds_name:
                        key = f"{key}@{clip(str(ds_name), 100)}"
                    metrics[key] = float(m["value"])
    if metrics:
        card["reported_metrics"] = metrics
    return card, metrics


def savedmodel_files(folder: Path) -> dict[str, Any]:
    var = folder / "variables"
    out: dict[str, Any] = {}
    if var.is_dir():
        out["variables_bytes"] = sum(
            p.stat().st_size for p in var.iterdir() if p.is_file() and not p.is_symlink()
        )
    out["has_assets"] = (folder / "assets").is_dir()
    return out
