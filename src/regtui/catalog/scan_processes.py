"""Preparing a scan's small files in forked worker processes.

Preparing a small artifact (headers, sidecars, a hash of a few KiB) is Python
work, which threads cannot share under the GIL. A scan of many of them forks
workers that prepare runs of consecutive entries while the parent writes the
batches already prepared: inspection and catalog writes overlap, and the
inspections use every core.

Nothing new runs: a worker is a fork of this process (no program is started,
so nothing in an artifact's folder, a `multiprocessing.py` or a `.pth`, can
change what runs), and it sends back JSON lines through a pipe (no pickle,
either way). A result is sent only when its JSON reads back equal to it;
anything else (a value JSON cannot carry, an error, a worker that died) is
prepared again in the parent, so a scan's outcome is the one a single process
would give.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import IO, Any, NoReturn

from regtui.catalog.records import ScanItem
from regtui.catalog.service import Candidate
from regtui.hashing import Digest

Job = tuple[Path, Path, str]  # (root, entry, model)
Prepared = Candidate | ScanItem

# Fewer small files than this are prepared in the parent: forking and the JSON
# round trip cost more than they save.
MIN_JOBS = 256
RUN = 64  # consecutive entries per line: files of one folder share its sidecar answers
MAX_WORKERS = 8
PIPE_BYTES = 1 << 20  # room for a few hundred results while the parent writes a batch

_CANDIDATE_FIELDS = tuple(f.name for f in fields(Candidate))


def usable(small_jobs: int) -> int:
    """How many workers to fork for `small_jobs` files (0: prepare them here).

    Fork only where it is the platform's well-trodden path (Linux) and only from
    a process with one thread: a fork copies just the calling thread, and a lock
    another thread held would stay locked in the child. Threads Python did not
    start (a BLAS pool, a C library's) count too: the kernel's list is asked."""
    if small_jobs < MIN_JOBS or sys.platform != "linux" or not only_thread():
        return 0
    try:
        cpus = len(os.sched_getaffinity(0))
    except OSError:
        cpus = os.cpu_count() or 1
    if cpus < 2:
        return 0
    return min(cpus, MAX_WORKERS, small_jobs // RUN + 1)


def only_thread() -> bool:
    """Whether the calling thread is the process's only one, as the kernel counts."""
    if threading.active_count() != 1:
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def plain(result: Prepared) -> dict[str, Any] | None:
    """`result` as JSON-ready values (None: not sent, the parent prepares it)."""
    if isinstance(result, ScanItem):
        if result.version is not None or result.extra:
            return None
        return {"item": [result.path, result.model, str(result.outcome), result.detail]}
    out = {name: getattr(result, name) for name in _CANDIDATE_FIELDS}
    out["path"] = os.fspath(result.path)
    out["digest"] = [result.digest.sha256, result.digest.size_bytes]
    return out


def from_plain(values: dict[str, Any]) -> Prepared:
    if "item" in values:
        path, model, outcome, detail = values["item"]
        return ScanItem(path, model, outcome, detail=detail)
    values["path"] = Path(values["path"])
    values["digest"] = Digest(*values["digest"])
    return Candidate(**values)


def line_for(number: int, results: list[dict[str, Any] | None]) -> str:
    """One run's results as a JSON line. A result JSON would not bring back equal
    (a tuple, a non-string key, NaN, another type) goes as null instead."""
    try:
        text = json.dumps([number, results], allow_nan=False)
        back = json.loads(text)[1]
    except (TypeError, ValueError):
        text, back = "", [None] * len(results)
    if text and back == results:
        return text + "\n"
    kept = [r if r is not None and _survives(r) else None for r in results]
    return json.dumps([number, kept], allow_nan=False) + "\n"


def _survives(values: dict[str, Any]) -> bool:
    try:
        return bool(json.loads(json.dumps(values, allow_nan=False)) == values)
    except (TypeError, ValueError):
        return False


@dataclass
class _Worker:
    pid: int
    lines: IO[bytes]
    alive: bool = True
    got: dict[int, list[Any]] = field(default_factory=dict)  # read ahead, by run number


class Forked:
    """Small-file jobs prepared by forked workers, taken back by index in order
    found. `take(i)` is None when the parent must prepare job i itself."""

    def __init__(
        self, prepare: Callable[[Job], Prepared], jobs: Sequence[Job], indexes: Sequence[int]
    ) -> None:
        self._runs = _consecutive_runs(indexes)
        self._where: dict[int, tuple[int, int]] = {}  # job index -> (run number, offset)
        self._workers: list[_Worker] = []
        count = usable(len(indexes))
        if not count:
            return
        # Objects the workers only read stay shared: a collection in a worker would
        # otherwise touch, and so copy, every page of the parent's heap.
        gc.freeze()
        try:
            for w in range(count):
                inherited = [worker.lines.fileno() for worker in self._workers]
                self._workers.append(_fork(prepare, jobs, self._runs, w, count, inherited))
        except OSError:
            self.close()  # cannot fork (a process limit): the parent does it all
            return
        except BaseException:
            self.close()  # a Ctrl-C while forking: no worker is left behind
            raise
        finally:
            gc.unfreeze()
        for n, (start, stop) in enumerate(self._runs):
            for i in range(start, stop):
                self._where[i] = (n, i - start)

    @property
    def workers(self) -> int:
        return len(self._workers)

    def take(self, index: int) -> Prepared | None:
        at = self._where.pop(index, None)
        if at is None:
            return None
        number, offset = at
        worker = self._workers[number % len(self._workers)]
        results = worker.got.get(number)
        while results is None and worker.alive:
            results = self._read(worker, number)
        if results is None or results[offset] is None:
            return None
        if offset == len(results) - 1:
            worker.got.pop(number, None)
        return from_plain(results[offset])

    @staticmethod
    def _read(worker: _Worker, wanted: int) -> list[Any] | None:
        line = worker.lines.readline()
        if not line.endswith(b"\n"):
            worker.alive = False  # it died, or was killed: the parent does the rest
            return None
        number, results = json.loads(line)
        worker.got[number] = results
        return results if number == wanted else None

    def close(self) -> None:
        for worker in self._workers:
            worker.lines.close()  # a worker still writing gets EPIPE and ends
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(worker.pid, 0)
        self._workers = []
        self._where = {}

    def __enter__(self) -> Forked:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fork(
    prepare: Callable[[Job], Prepared],
    jobs: Sequence[Job],
    runs: list[tuple[int, int]],
    w: int,
    count: int,
    inherited: list[int],
) -> _Worker:
    """Fork worker `w` of `count`: it prepares runs w, w+count, w+2*count, …
    `inherited`: the earlier workers' pipe ends, which this one closes."""
    import fcntl  # Linux only, as forking here is

    read_end, write_end = os.pipe()
    with contextlib.suppress(OSError):  # a bigger pipe is only a speed-up
        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    parent = os.getpid()
    # No signal between the fork and the worker's own try: a Ctrl-C there would
    # send the worker back up the parent's stack (its CLI, its catalog).
    stop = {signal.SIGINT, signal.SIGTERM}
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        raise
    finally:
        if os.getpid() == parent:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    if pid == 0:
        try:
            _die_with(parent)
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            for fd in (read_end, *inherited):
                os.close(fd)
            _work(write_end, prepare, jobs, runs, w, count)
        finally:
            os._exit(1)
    os.close(write_end)
    return _Worker(pid, os.fdopen(read_end, "rb"))


def _die_with(parent: int) -> None:
    """In the worker: be killed when the parent ends, however it ends (SIGKILL,
    SIGTERM without a handler, the OOM killer), so no worker keeps preparing,
    or keeps the parent's catalog connection open, after it."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # it ended before the line above
        os._exit(1)


def _work(
    fd: int,
    prepare: Callable[[Job], Prepared],
    jobs: Sequence[Job],
    runs: list[tuple[int, int]],
    w: int,
    count: int,
) -> NoReturn:
    """In the worker: prepare its runs, a JSON line each, then leave at once
    (no exit handlers: they belong to the parent)."""
    code = 1
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for number in range(w, len(runs), count):
                start, stop = runs[number]
                results: list[dict[str, Any] | None] = []
                for job in jobs[start:stop]:
                    try:
                        results.append(plain(prepare(job)))
                    except Exception:  # whatever it was, the parent meets it again
                        results.append(None)
                out.write(line_for(number, results))
                out.flush()  # each run reaches the parent as soon as it is ready
        code = 0
    finally:
        os._exit(code)


def _consecutive_runs(indexes: Sequence[int]) -> list[tuple[int, int]]:
    """[start, stop) runs of consecutive indexes, each at most RUN long."""
    runs: list[tuple[int, int]] = []
    for i in indexes:
        if runs and runs[-1][1] == i and i - runs[-1][0] < RUN:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs
