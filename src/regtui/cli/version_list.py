"""What `regtui versions` reads from its arguments and prints: the --limit count,
the table whose rows name each version as MODEL:N, and JSON as it streams."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Generator, Sequence

from regtui.catalog.records import VersionInfo
from regtui.errors import RegtuiError
from regtui.text import elide_middle

MAX_LIMIT = 1 << 62  # fits SQLite's and PostgreSQL's 64-bit LIMIT


def limit(text: str) -> int:
    """A --limit: a whole number from 1, in ASCII digits."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1, got {text!r}")
    return int(value)


def print_found_versions(versions: Sequence[VersionInfo]) -> None:
    """Versions of several models: as `output.print_versions`, each row named by
    its ref (MODEL:N, the name quoted where a ref must quote it)."""
    from regtui.cli import output

    if not versions:
        print("no versions match")
        return
    output.table(
        ["REF", "CREATED", "FORMAT", "SIZE", "APPROVAL", "STAGES", "METRICS", "WARN"],
        [
            [
                # Cut in the middle: a long name must not hide the version number.
                elide_middle(output.ref(v), output.CELL_LIMIT),
                output.short_time(v.created_at),
                v.format,
                output.human_size(v.size_bytes),
                v.approval.status
                + (" (archived)" if v.archived else "")
                + (" DAMAGED" if v.damage else ""),
                ", ".join(v.stages),
                output.headline_metrics(v),
                str(len(v.warnings)) if v.warnings else "",
            ]
            for v in versions
        ],
    )


def write_pieces(pieces: Generator[str, None, None]) -> bool:
    """Writes text to stdout as it comes. Once a piece is out, a failure is an
    error of its own (RegtuiError), never a quiet second answer after half of one."""
    import sqlite3

    written = False
    try:
        for piece in pieces:
            sys.stdout.write(piece)
            written = True
    except sqlite3.Error as exc:
        if not written:
            raise
        raise RegtuiError(f"reading the catalog failed midway: {exc}") from None
    finally:
        pieces.close()  # its read transaction ends now, while the connection is open
    sys.stdout.write("\n")
    return True
