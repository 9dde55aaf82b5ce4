"""What an inspector learns about an artifact: plain data, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Facts:
    """Facts about one artifact (a file or a bundle folder).

    Everything here must be JSON-serialisable and bounded in size: it is stored
    in the catalog as it is. `refused` set means the artifact must not be
    registered at all (for example a symlink that leaves the watched root);
    otherwise problems go into `warnings` and the version is still registered.
    """

    format: str = "unknown"
    framework: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    refused: str | None = None
    # The format shows the bytes incomplete or lying (truncated data, a header
    # claiming more than the file holds, a Git LFS pointer, an error page saved
    # under a model's name): the reason. The watcher waits for such a file and
    # never registers it; scan refuses it; an explicit register records it as
    # damaged, and policy keeps it from approval and protected stages.
    damage: str | None = None
    # The format proves the bytes complete (e.g. safetensors data ending exactly
    # where its header says): the watcher need not wait out the settle time.
    complete: bool = False
