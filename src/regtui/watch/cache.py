"""The restart cache: which bytes a path held when it was last hashed.

Kept as a small SQLite file in the data directory (not in the catalog) because
it describes this machine's file system, not the registry: the same file can be
watched into several catalogs, and a PostgreSQL team catalog must not learn
local inode numbers. A row says "this path, with this size, mtime, ctime and
inode, hashed to this sha256"; a restart that finds the same signature skips
hashing, and the catalog (model, sha256) lookup decides whether anything is new.
ctime is in the signature because no user tool can set it back, so a rewrite
that restores the old mtime still counts as a change.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import threading
from collections.abc import Iterable
from pathlib import Path

from regtui.hashing import iter_tree

SCHEMA = """
CREATE TABLE IF NOT EXISTS hashed (
    path TEXT PRIMARY KEY,
    signature TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL
)
"""


def _file_sig(st: os.stat_result) -> str:
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:{st.st_dev}"


def signature(path: Path) -> str | None:
    """Size, times and inode of a file, or a digest of those of every file in a folder;
    None when the path is gone. Cheap: stats only, no reads."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return _file_sig(st)
    h = hashlib.sha1(usedforsecurity=False)
    for rel, full in iter_tree(path, checkpoints=False):
        try:
            fst = os.lstat(full)
        except OSError:
            continue
        link = os.readlink(full) if stat.S_ISLNK(fst.st_mode) else ""
        h.update(f"{rel}\0{_file_sig(fst)}\0{link}\n".encode("utf-8", "surrogateescape"))
    return "tree:" + h.hexdigest()


def newest_mtime(path: Path) -> float | None:
    """Latest modification time (epoch seconds) of a file or of anything in a folder."""
    try:
        if not path.is_dir():
            return os.lstat(path).st_mtime
        times = [os.lstat(full).st_mtime for _, full in iter_tree(path, checkpoints=False)]
        return max(times, default=os.lstat(path).st_mtime)
    except OSError:
        return None


class HashCache:
    """Thread-safe; `path=None` keeps it in memory (tests, read-only runs)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(path) if path else ":memory:", check_same_thread=False, isolation_level=None
        )
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA busy_timeout = 5000")
            if path is not None:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute(SCHEMA)

    def get(self, path: Path, sig: str) -> str | None:
        """The sha256 of `path` if it was hashed with exactly this signature."""
        with self._lock:
            row = self._db.execute(
                "SELECT sha256 FROM hashed WHERE path = ? AND signature = ?", (str(path), sig)
            ).fetchone()
        return row[0] if row else None

    def put_many(self, rows: Iterable[tuple[Path, str, str, int]]) -> None:
        """(path, signature, sha256, size) rows, written in one transaction."""
        data = [(str(p), sig, sha, size) for p, sig, sha, size in rows]
        if not data:
            return
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO hashed (path, signature, sha256, size_bytes)"
                    " VALUES (?, ?, ?, ?)",
                    data,
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def __len__(self) -> int:
        with self._lock:
            count: int = self._db.execute("SELECT count(*) FROM hashed").fetchone()[0]
            return count

    def close(self) -> None:
        with self._lock:
            self._db.close()


def default_cache_path() -> Path:
    from regtui.settings import data_dir

    return data_dir() / "watch-cache.sqlite"
