"""Keras v3 `.keras` archives: a zip with config.json, metadata.json and weights."""

from __future__ import annotations

import json
import zipfile
from typing import Any

from regtui.inspect.bounds import bounded
from regtui.inspect.facts import Facts
from regtui.inspect.limits import loads_json
from regtui.inspect.zipcheck import Entry, read_entry

MAX_CONFIG = 16 << 20


def _json_entry(zf: zipfile.ZipFile, name: str) -> Any:
    return loads_json(read_entry(zf, name, MAX_CONFIG), f"{name} in the .keras archive")


def inspect_keras(zf: zipfile.ZipFile, entries: list[Entry], facts: Facts) -> None:
    facts.format = "keras"
    facts.framework = "keras"
    names = {e.name for e in entries}
    meta: dict[str, Any] = {"entries": sorted(names)[:50]}
    if "metadata.json" in names:
        md = _json_entry(zf, "metadata.json")
        if isinstance(md, dict):
            meta.update({k: md[k] for k in ("keras_version", "date_saved") if k in md})
    config = _json_entry(zf, "config.json")
    if isinstance(config, dict):
        meta["class_name"] = config.get("class_name")
        inner = config.get("config")
        if isinstance(inner, dict):
            meta["name"] = inner.get("name")
            layers = inner.get("layers")
            if isinstance(layers, list):
                meta["layers"] = len(layers)
                meta["layer_classes"] = sorted(
                    {str(x.get("class_name")) for x in layers if isinstance(x, dict)}
                )[:50]
        if isinstance(config.get("compile_config"), dict):
            cc = config["compile_config"]
            meta["loss"] = bounded(cc.get("loss"))
        text = json.dumps(config)
        if '"__lambda__"' in text or '"Lambda"' in text:
            facts.warnings.append(
                "Keras config has a Lambda layer: loading it with safe_mode=False runs its code"
            )
    weights = [e for e in entries if e.name.endswith(".h5")]
    meta["weights_bytes"] = sum(e.size for e in weights)
    facts.metadata.update(bounded(meta))
