"""`regtui audit --follow`: the audit log as a live tail, for people and programs.

Where it starts:
- `--since SEQ` (digits): every event with a seq greater than SEQ. A program keeps
  the `seq` of the last event it handled and restarts with `--since` that seq: it
  sees no event twice and misses none (seqs are gapless and committed in order).
  `--since 0` is the whole log.
- `--since TIME` (an ISO time, UTC unless it says; a date means from the start
  of that day, UTC): every event at or after it.
- neither: the last 10 matching events, as `tail -f` does, then the new ones.

Then it looks every POLL seconds at the log's head (one indexed read) and prints
what is new, one line (or one JSON object) per event, flushed at once, until
SIGINT or SIGTERM (exit 0) or the reader goes away (a closed pipe: exit 0). A
SQLite catalog file replaced meanwhile (a restore) ends it with an error naming
the seq to resume after.
"""

from __future__ import annotations

import argparse
import os
import select
import sys
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from regtui.cli import values
from regtui.errors import CatalogError

if TYPE_CHECKING:
    from regtui.catalog.records import AuditEvent
    from regtui.catalog.service import Catalog

POLL = 0.3
TAIL = 10
PAGE = 1000  # events read at a time while catching up


def follow(cat: Catalog, args: argparse.Namespace) -> int:
    from regtui.cli.commands_hooks import stopped_by_signals

    stop = threading.Event()
    filters = {"actor": args.actor, "action": args.action}
    # Before the first read: a file replaced at any moment after it is noticed.
    file = _catalog_file(cat)
    with stopped_by_signals(stop):
        seen, _ = cat.audit_head()
        since = (args.since or "").strip()
        if not since:
            first = cat.audit_events(args.model, **filters, limit=TAIL, newest_first=True)[::-1]
            first = [e for e in first if e.seq <= seen]  # newer ones come in the loop, once
            if not _write(first, args.json):
                return 0
        else:
            if since.isascii() and since.isdigit():
                after, when = int(since), None
            else:
                day, _day = values.when(since, "--since", day_end=False)
                after, when = 0, day.astimezone(UTC)
            if not _pages(cat, args, filters, after, seen, stop, when):
                return 0
        while not stop.wait(POLL):
            if reader_gone(sys.stdout):  # `| head` is done: go now, not at the next event
                return 0
            if file is not None and _identity(file[0]) != file[1]:
                # A restore or a copy put another file there: this one is no longer
                # the catalog, and its seqs may not continue the other's.
                raise CatalogError(
                    f"the catalog file {file[0]} was replaced while it was followed; "
                    f"follow it again (`--since {seen}` resumes after the last event shown)"
                )
            head, _ = cat.audit_head()
            if head == seen:
                continue
            if not _pages(cat, args, filters, seen, head, stop):
                return 0
            seen = head
    return 0


def _pages(
    cat: Catalog,
    args: argparse.Namespace,
    filters: dict[str, str | None],
    after: int,
    head: int,
    stop: threading.Event,
    since: datetime | None = None,
) -> bool:
    """Write the events after seq `after` up to `head`, PAGE at a time (`--since 0`
    on a long log streams instead of loading it whole); False: the reader went."""
    while not stop.is_set():
        page = cat.audit_events(args.model, **filters, after=after, since=since, limit=PAGE)
        shown = [e for e in page if e.seq <= head]
        if not _write(shown, args.json):
            return False
        if len(shown) < PAGE:
            return True
        after = shown[-1].seq
    return True


def _catalog_file(cat: Catalog) -> tuple[str, tuple[int, int] | None] | None:
    """A SQLite catalog's file and its identity (device, inode); None on a server."""
    from sqlalchemy.engine import make_url

    url = make_url(cat.url)
    if not url.drivername.startswith("sqlite") or not url.database:
        return None
    return url.database, _identity(url.database)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:  # gone: not the file being followed either
        return None
    return st.st_dev, st.st_ino


def reader_gone(stream: object) -> bool:
    """Whether nobody reads `stream` any more: a pipe whose reader closed it reports
    an error to poll() (a file or a terminal never does)."""
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
        poller = select.poll()
        poller.register(fd, 0)  # no events asked: poll reports only ERR, HUP, NVAL
        gone = select.POLLERR | select.POLLHUP | select.POLLNVAL
        return any(ev & gone for _fd, ev in poller.poll(0))
    except (AttributeError, OSError, ValueError):
        return False


def _write(events: list[AuditEvent], json_lines: bool) -> bool:
    """Print and flush; False when the reader has gone (stdout is then /dev/null,
    so nothing more is written, nor a warning at exit)."""
    from regtui.cli import output
    from regtui.text import json_text

    try:
        for e in events:
            if json_lines:
                line = json_text(e.to_json(), separators=(",", ":"))
            else:
                line = "  ".join(output.safe(c, 2000) for c in output.event_cells(e))
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return False
    return True
