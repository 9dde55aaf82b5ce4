"""An artifact's bytes against its recorded hash, and which copy to serve.

Free of the database layer, so the CLI's quick read path can serve `resolve`
without importing it.
"""

from __future__ import annotations

from pathlib import Path

from regtui.catalog.records import ArtifactCheck, VersionInfo
from regtui.errors import ArtifactError
from regtui.hashing import hash_path


def check_artifact(ref: str, p: Path, sha256: str) -> ArtifactCheck:
    """Re-hash `p`: ok, missing, changed or unreadable."""
    if not p.exists():
        return ArtifactCheck(ref, str(p), "missing", "the file or folder is gone")
    try:
        got = hash_path(p).sha256
    except ArtifactError as exc:
        return ArtifactCheck(ref, str(p), "unreadable", str(exc))
    if got != sha256:
        return ArtifactCheck(ref, str(p), "changed", f"sha256 is now {got[:12]}…")
    return ArtifactCheck(ref, str(p), "ok")


def serve_path(v: VersionInfo, *, check: bool = True) -> Path:
    """Where to load the version from: its kept copy if it has one, else its path.

    With `check`, the bytes are re-hashed first and a changed artifact is
    refused rather than served.
    """
    problems = []
    for candidate in dict.fromkeys(p for p in (v.stored_path, v.path) if p):
        p = Path(candidate)
        if not check and p.exists():
            return p
        found = check_artifact(v.ref, p, v.sha256)
        if found.state == "ok":
            return p
        problems.append(f"{p} {found.state}: {found.detail}")
    raise ArtifactError(f"{v.ref}: refusing to serve: " + "; ".join(problems))
