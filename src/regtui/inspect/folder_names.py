"""Which of a few known file names a folder holds, looked up one name at a time.

Sidecars are found by name (hparams.yaml, metrics.csv, …), never by listing the
folder: a training folder can hold 100,000 checkpoints. Looking a name up is one
system call that, in the common case, finds nothing. A scan asks the same
questions of one folder for each of its artifacts, so answers are kept while
`remembered()` is open: for one artifact's preparation, or for a whole scan.

Between preparations, answers are kept only for a folder that has not changed:
adding, removing or renaming a name in a folder moves its modification and
change times, so the same folder with the same times holds the same names. A
sidecar written after an artifact was registered therefore counts for the next
one registered. Times are stamped at the clock's coarse resolution, so a change
within the same tick as the last one would not show: a folder changed less than
SETTLED_NS ago is asked afresh every time.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from regtui.hashing import kind_of

# What one folder was found to hold, by name: "" for a regular file, None for
# nothing, else why it is not read (a FIFO, a folder, …).
Answers = dict[str, "str | None"]


@dataclass
class Memo:
    """What one scan (or one artifact's preparation) was told, and what follows
    from that alone (a run folder, the values of a folder's sidecars)."""

    answers: dict[str, Answers] = field(default_factory=dict)  # folder -> its answers
    derived: dict[tuple[Hashable, ...], Any] = field(default_factory=dict)


# Folders one memo keeps: a scan goes folder by folder, so a window of a few
# hundred holds every one still being prepared; older ones are asked again.
MAX_FOLDERS = 512

T = TypeVar("T")
_memo: ContextVar[Memo | None] = ContextVar("regtui_folder_names", default=None)
# Whether a name can be asked about without following it and without an exception
# for the absent case (faccessat with AT_SYMLINK_NOFOLLOW): half the cost of lstat.
_ACCESS_NOFOLLOW = os.access in os.supports_follow_symlinks


@contextmanager
def remembered(memo: Memo | None = None) -> Iterator[Memo]:
    """Keep answers while inside. A scan passes one memo to every thread that
    prepares its artifacts; without one, the open memo is joined, or a new one
    is kept for the duration."""
    current = _memo.get()
    if memo is None and current is not None:
        yield current
        return
    kept = Memo() if memo is None else memo
    token = _memo.set(kept)
    try:
        yield kept
    finally:
        _memo.reset(token)


def kept(key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """`compute()`, kept under `key` while `remembered()` is open: for what
    follows from the answers alone, so a scan works it out once per folder."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if key in memo.derived:
        return memo.derived[key]  # type: ignore[no-any-return]
    value = memo.derived[key] = compute()
    return value


# Answers kept between preparations: folder -> (its identity and times, answers).
_lasting: dict[str, tuple[tuple[int, int, int, int], Answers]] = {}
MAX_LASTING = 4096
# Ten times a slow kernel's timestamp tick (HZ=100). A network file system whose
# server clock runs behind this host's by more than this could, in a change made
# within one tick of the last, hide a new sidecar until the folder changes again.
SETTLED_NS = 100_000_000
_SECOND = 1_000_000_000


# File systems whose folder times this host's kernel stamps on every change. Not
# network or FUSE file systems: another clock stamps them (or nothing does, as on
# object-store mounts), and a passing error there would be kept as "absent".
LOCAL_TYPES = frozenset(
    {"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "zfs", "f2fs", "bcachefs", "overlay"}
)
_fs_types: dict[int, str] = {}  # device -> file system type, from /proc/self/mountinfo
_fs_read_at = 0.0
FS_TABLE_SECONDS = 30.0  # a device number can be reused by a later mount


def _fs_type(dev: int) -> str | None:
    global _fs_read_at
    now = time.monotonic()
    if now - _fs_read_at > FS_TABLE_SECONDS or (dev not in _fs_types and now - _fs_read_at > 1):
        _fs_read_at = now
        _fs_types.clear()
        _fs_types.update(_mounted())
    return _fs_types.get(dev)


def _mounted() -> dict[int, str]:
    """Device -> file system type of every mount this process sees (Linux)."""
    out: dict[int, str] = {}
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
            lines = fh.read(1 << 22).splitlines()
    except OSError:
        return out
    for line in lines:
        fields = line.split(" ")
        try:
            major, minor = fields[2].split(":")
            out[os.makedev(int(major), int(minor))] = fields[fields.index("-") + 1]
        except (IndexError, ValueError):
            continue
    return out


def _lasting_answers(folder: str) -> Answers:
    """The answers kept for `folder` while it is unchanged, else a new dict
    (kept for next time only if the folder has settled)."""
    try:
        st = os.stat(folder)
    except OSError:
        return {}
    if _fs_type(st.st_dev) not in LOCAL_TYPES:
        return {}  # another clock stamps its times, or nothing does
    settled = SETTLED_NS
    if st.st_mtime_ns % _SECOND == 0 and st.st_ctime_ns % _SECOND == 0:
        # Whole seconds (ext3, ext4 with small inodes, FAT's two, HFS+, sshfs, many
        # NFS/SMB servers): a change within the same stamp would not show.
        settled += 2 * _SECOND
    if max(st.st_mtime_ns, st.st_ctime_ns) > time.time_ns() - settled:
        return {}  # changed just now: a second change in the same tick would not show
    key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
    kept = _lasting.get(folder)
    if kept is not None and kept[0] == key:
        return kept[1]
    if len(_lasting) >= MAX_LASTING:
        _lasting.clear()
    answers: Answers = {}
    _lasting[folder] = (key, answers)
    return answers


def present(folder: str, names: tuple[str, ...], warnings: list[str] | None = None) -> list[str]:
    """Which of `names` are regular files in `folder` (symlinks are not followed).
    A name held by a FIFO, socket, device or folder is said so in `warnings`."""
    memo = _memo.get()
    answers: Answers | None = memo.answers.get(folder) if memo is not None else None
    if answers is None:
        answers = _lasting_answers(folder)
        if memo is not None:
            if len(memo.answers) >= MAX_FOLDERS:
                memo.answers.clear()
                memo.derived.clear()
            memo.answers[folder] = answers
    prefix = folder if folder.endswith(os.sep) else folder + os.sep
    out = []
    for name in names:
        if name in answers:
            answer = answers[name]
        else:
            answer, plain = _ask(prefix + name)
            answers[name] = answer
            if not plain:
                _forget(folder, answers)
        if answer == "":
            out.append(name)
        elif answer is not None and warnings is not None:
            warnings.append(answer)
    return out


def _forget(folder: str, answers: Answers) -> None:
    """Keep no answers for `folder` between preparations: one of its names is a
    link or a special file, and what a link leads to can change while the
    folder itself does not."""
    kept = _lasting.get(folder)
    if kept is not None and kept[1] is answers:
        _lasting.pop(folder, None)


def _ask(path: str) -> tuple[str | None, bool]:
    """The answer for one path, and whether it is plain (nothing there, or a
    regular file): only plain answers follow from the folder's times alone."""
    if _ACCESS_NOFOLLOW and not os.access(path, os.F_OK, follow_symlinks=False):
        return None, True  # the common case, without raising
    try:
        st = os.lstat(path)
    except OSError:
        return None, False
    if stat.S_ISREG(st.st_mode):
        return "", True
    return _special(path, st), False


def _special(path: str, st: os.stat_result) -> str | None:
    """Why a sidecar's name held by something other than a regular file is not
    read (never opened, so it cannot block or feed endless bytes); None for a
    link to a regular file, which is quietly not followed."""
    if stat.S_ISLNK(st.st_mode):
        try:
            st = os.stat(path)  # a stat, not an open: safe on any file type
        except OSError:
            return None
        if stat.S_ISREG(st.st_mode):
            return None
    return (
        f"sidecar {os.path.basename(path)}: is {kind_of(st.st_mode)}, not a regular file: not read"
    )
