"""skops (`.skops`) files: a zip with `schema.json` describing the object tree and
`.npy` files for its arrays. Listed and read, never loaded.

Every node of the schema names the type loading it would build
(`__module__`.`__class__`; a bound method adds its name). Types outside a safe
list (scikit-learn, NumPy, SciPy and plain builtins, without the names that run
code, as for pickles) get a warning: skops itself refuses them unless told to
trust them, and trusting them runs whatever they do.
"""

from __future__ import annotations

import json
import zipfile
from typing import Any

from regtui.inspect.bounds import MAX_DICT, MAX_LIST, BadContent, bounded, clip
from regtui.inspect.facts import Facts
from regtui.inspect.limits import loads_json
from regtui.inspect.pickle_scan import is_safe_global
from regtui.inspect.zipcheck import Entry, read_entry

SCHEMA = "schema.json"
MAX_SCHEMA = 4 << 20  # a large pipeline's schema is well under 1 MiB (arrays are .npy files)
MAX_NODES = 100_000
MAX_TYPES = MAX_LIST  # type names kept in the metadata (the warning gives the count)
MAX_PARAM_JSON = 1_000  # characters of one hyperparameter's JSON text
SAFE_PACKAGES = ("sklearn", "numpy", "scipy", "builtins")


def is_skops(names: set[str]) -> bool:
    return SCHEMA in names


def is_safe_type(name: str) -> bool:
    """A type skops may build without running code, as far as we know."""
    return name.split(".", 1)[0] in SAFE_PACKAGES and is_safe_global(name)


def inspect_skops(zf: zipfile.ZipFile, entries: list[Entry], facts: Facts) -> None:
    facts.format = "skops"
    schema = loads_json(read_entry(zf, SCHEMA, MAX_SCHEMA), SCHEMA)
    if not isinstance(schema, dict):
        raise BadContent(f"{SCHEMA} is not a skops schema (not a mapping)")
    top = _type_name(schema)
    types, methods, walked = schema_types(schema)
    # skops trusts no bound method by default: loading one calls whatever it names
    untrusted = sorted({t for t in types if not is_safe_type(t)} | methods)
    meta: dict[str, Any] = {
        "object": top,
        "protocol": schema.get("protocol"),
        "skops_version": schema.get("_skops_version"),
        "arrays": sum(1 for e in entries if e.name.endswith(".npy")),
        "types": sorted(types | methods)[:MAX_TYPES],
    }
    if untrusted:
        meta["untrusted_types"] = untrusted[:MAX_TYPES]
        facts.warnings.append(
            "skops file names types outside the safe list (scikit-learn, NumPy, SciPy, "
            "builtins): loading it with them trusted runs their code: "
            + ", ".join(untrusted[:20])
            + (f" and {len(untrusted) - 20} more" if len(untrusted) > 20 else "")
        )
    if walked >= MAX_NODES:
        facts.warnings.append(f"{SCHEMA} has over {MAX_NODES} nodes: the rest was not read")
    if top and top.startswith("sklearn."):
        facts.framework = "sklearn"
    facts.metadata.update(bounded(meta))
    facts.params.update(estimator_params(schema))


def _type_name(node: dict[str, Any]) -> str | None:
    module, cls = node.get("__module__"), node.get("__class__")
    if isinstance(module, str) and isinstance(cls, str):
        return clip(f"{module}.{cls}", 300)
    return None


def schema_types(schema: Any) -> tuple[set[str], set[str], int]:
    """Every type and every bound method the schema names; the nodes walked."""
    types: set[str] = set()
    methods: set[str] = set()
    stack = [schema]
    walked = 0
    while stack and walked < MAX_NODES:
        node = stack.pop()
        walked += 1
        if isinstance(node, list):
            stack.extend(node[:MAX_NODES])
            continue
        if not isinstance(node, dict):
            continue
        name = _type_name(node)
        if name and len(types) + len(methods) < MAX_TYPES * 4:
            types.add(name)
            content = node.get("content")
            if node.get("__loader__") == "MethodNode" and isinstance(content, dict):
                methods.add(clip(f"{name}.{content.get('func')}", 300))
        stack.extend(v for v in node.values() if isinstance(v, dict | list))
    return types, methods, walked


def estimator_params(schema: dict[str, Any]) -> dict[str, Any]:
    """The top object's constructor arguments (attributes without a leading or
    trailing underscore, stored as JSON), e.g. {"C": 0.5, "solver": "lbfgs"}."""
    outer = schema.get("content")
    inner = outer.get("content") if isinstance(outer, dict) else None
    if not isinstance(inner, dict):
        return {}
    out: dict[str, Any] = {}
    for key, node in list(inner.items())[:MAX_DICT]:
        if not isinstance(key, str) or key.startswith("_") or key.endswith("_"):
            continue
        if not isinstance(node, dict) or node.get("__loader__") != "JsonNode":
            continue
        text = node.get("content")
        if not isinstance(text, str) or len(text) > MAX_PARAM_JSON:
            continue
        try:
            out[key] = bounded(json.loads(text))
        except (ValueError, RecursionError):
            continue
    return out
