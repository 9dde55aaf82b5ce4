"""Progress of `audit --verify` on stderr: a long log takes a while (about
30 s for a million events here), and a silent command looks hung."""

from __future__ import annotations

import sys
from typing import TextIO

# Below this many events the check is over in about a second: no lines are
# written unless stderr is a terminal (where the one line is erased again).
LINES_FROM = 100_000


class VerifyProgress:
    """A `Catalog.verify_catalog` progress callback. On a terminal: one line
    rewritten in place and erased at the end; otherwise (a log, CI) a line at
    each tenth of a long log and one when the tables are compared."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.tenth = -1
        self.total = 0
        self.shown = False

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase == "events":
            self.total = total
            self._events(done, total)
        elif self.tty or self.total >= LINES_FROM:
            self._write(f"comparing the tables with the log's {self.total:,} events…")

    def _events(self, done: int, total: int) -> None:
        line = f"verifying the audit log: {done:,} of {total:,} events"
        if self.tty:
            self._write(line)
            return
        tenth = done * 10 // max(total, 1)
        if total >= LINES_FROM and tenth != self.tenth:
            self.tenth = tenth
            self._write(line)

    def _write(self, line: str) -> None:
        self.shown = True
        if self.tty:
            self.stream.write(f"\r\x1b[K{line}")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """Erase the terminal's progress line before the result is printed."""
        if self.tty and self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
