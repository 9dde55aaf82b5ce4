"""Where an artifact came from: run folder, git commit/branch/dirty, host, user.

Git facts are read from the repository's files (regtui.inspect.gitrepo), never
by running git: git runs programs its repository's config names, and an
artifact's folder may ship a crafted .git. "dirty" is what can be known by
reading the index (None when it cannot). It is cached briefly per repository,
so a scan of a thousand files reads the index once.
"""

from __future__ import annotations

import functools
import getpass
import socket
import time
from pathlib import Path
from typing import Any

from regtui.inspect.bounds import clip
from regtui.inspect.gitrepo import Head, Repo, find_repo, is_dirty, read_head

_dirty_cache: dict[tuple[str, str | None], tuple[float, bool | None]] = {}
_CACHE_SECONDS = 10.0


@functools.lru_cache(maxsize=4096)
def find_git_dir(start: Path) -> Repo | None:
    """The repository holding `start`, if any.

    Cached per folder: a scan of 10,000 files in a few run folders must not walk
    up to the file-system root 10,000 times.
    """
    return find_repo(start)


def git_facts(start: Path) -> dict[str, Any]:
    repo = find_git_dir(start)
    if repo is None:
        return {}
    out: dict[str, Any] = {"git_root": str(repo.work)}
    head = read_head(repo)
    if head is None:
        out["git_commit"] = None
        out["git_dirty"] = None
        return out
    if head.branch is not None:
        out["git_branch"] = clip(head.branch, 200)
    out["git_commit"] = head.commit  # None: a branch with no commits yet
    out["git_dirty"] = _dirty(repo, head)
    return out


def _dirty(repo: Repo, head: Head) -> bool | None:
    key = (str(repo.work), head.commit)
    now = time.monotonic()
    cached = _dirty_cache.get(key)
    if cached and now - cached[0] < _CACHE_SECONDS:
        return cached[1]
    result = is_dirty(repo, head)
    _dirty_cache[key] = (now, result)
    return result


def lineage_for(run_dir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"run_dir": str(run_dir)}
    out.update(git_facts(run_dir))
    out["host"], out["user"] = _host_user()
    return out


@functools.lru_cache(maxsize=1)
def _host_user() -> tuple[str, str | None]:
    try:
        user: str | None = getpass.getuser()
    except (KeyError, OSError):
        user = None
    return socket.gethostname(), user
