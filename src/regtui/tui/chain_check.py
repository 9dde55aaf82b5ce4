"""The audit chain's check for the main screen's header, run in its own process.

A full check re-hashes every event and replays the tables (seconds at 100k events):
in a thread it would hold the GIL and make every key press wait. `regtui audit
--verify --json` in a child process costs the TUI nothing; it runs isolated (`-I`:
no current folder, no PYTHON* variables), so nothing beside an artifact can change
what it runs. The app stops it when it quits.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading

TIMEOUT_SECONDS = 900
# `python -m regtui`, at the lowest CPU priority: a reviewer's key presses come first.
CHILD = "import os, runpy; os.nice(19); runpy.run_module('regtui', run_name='__main__')"


class ChainCheck:
    def __init__(self, url: str) -> None:
        self.url = url
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopped = False
        self._lock = threading.Lock()

    def run(self) -> str | None:
        """The chain's problem, or None when it verifies (or could not be checked: the
        audit screen then says why; the header claims nothing it did not see)."""
        with self._lock:
            if self._stopped:
                return None
            try:
                self._proc = subprocess.Popen(
                    [sys.executable, "-I", "-c", CHILD, "audit", "--verify", "--json"],
                    env={**os.environ, "REGTUI_DB": self.url},
                    cwd=tempfile.gettempdir(),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            except OSError:
                return None
        proc = self._proc
        try:
            out, _ = proc.communicate(timeout=TIMEOUT_SECONDS)
            result = json.loads(out)
        except (subprocess.TimeoutExpired, ValueError):
            self.stop()
            return None
        if not isinstance(result, dict) or result.get("ok", True):
            return None
        return str(result.get("problem") or "the audit chain does not verify")

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The child of the latest check (None before the first)."""
        return self._proc

    def stop(self) -> None:
        """Kill a check under way; none starts after this."""
        with self._lock:
            self._stopped = True
            proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()
                proc.wait(timeout=5)
