"""How long a test waits for threads and processes before it calls them stuck.

A timeout in a test bounds how long a failing test hangs, not how fast regtui must
be: CI shares two cores with other jobs, so each bound is stretched by this factor
(REGTUI_TEST_PATIENCE, default 4). A passing test waits no longer for it.
"""

from __future__ import annotations

import os

PATIENCE = float(os.environ.get("REGTUI_TEST_PATIENCE", "4"))


def patient(seconds: float) -> float:
    return seconds * PATIENCE
