"""Whether a version is still the artifact its registration recorded.

The hash chain protects the log, not the tables beside it: a version's path and
sha256 edited together to other bytes would pass a re-hash. `resolve` and
`verify` hold the row to its registration event first. No SQLAlchemy here:
`resolve` reads through the stdlib quick reader (catalog.quickread).
"""

from __future__ import annotations

import json
from typing import Any

from regtui.catalog.records import VersionInfo

# The registration event of one version (the audit log is indexed by model).
REGISTRATION_SQL = (
    "SELECT after FROM audit_event WHERE model = ? AND target = ? AND action = 'registered' "
    "ORDER BY seq LIMIT 1"
)


def identity_problem(v: VersionInfo, registered: Any) -> str | None:
    """Why version `v` (as its table row has it) is not the artifact its registration
    event recorded, or None. `registered` is that event's `after` (JSON text or a
    dict); None when the log has no such event (a catalog older than its log):
    nothing to compare with."""
    if isinstance(registered, str):
        registered = json.loads(registered)
    if not isinstance(registered, dict):
        return None
    held = {"path": v.path, "sha256": v.sha256, "size_bytes": v.size_bytes, "damage": v.damage}
    wrong = [k for k in held if k in registered and registered[k] != held[k]]
    if not wrong:
        return None
    return (
        f"{v.ref}: the catalog's {', '.join(wrong)} disagree with what its registration "
        "recorded in the audit log (a table edited beside the log?); not served. "
        "`regtui audit --verify` lists what was changed"
    )
