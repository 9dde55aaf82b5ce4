"""Where an artifact came from: run folder, git commit/branch/dirty, host, user.

Commit and branch are read from the .git files directly (HEAD, refs, packed-refs).
The dirty flag needs git itself: `git status --porcelain --untracked-files=no` with
hooks and fsmonitor off, a short timeout, and not at all when the repository's
own config defines filters, includes or fsmonitor (those could run commands from
an untrusted work tree). Results are cached briefly per repository, so a scan of
a thousand files runs git once.
"""

from __future__ import annotations

import functools
import getpass
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from regtui.inspect.bounds import clip, open_file

GIT_TIMEOUT = 3.0
_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
_RISKY_CONFIG = re.compile(r"(?im)^\s*\[\s*(filter|include|includeif)\b|fsmonitor|hookspath")
_dirty_cache: dict[str, tuple[float, bool | None]] = {}
_CACHE_SECONDS = 10.0


def _small(path: Path, cap: int = 1 << 16) -> str | None:
    try:
        with open_file(path) as fh:
            return fh.read(cap).decode("utf-8", errors="replace")
    except OSError:
        return None


@functools.lru_cache(maxsize=4096)
def find_git_dir(start: Path) -> tuple[Path, Path] | None:
    """(work tree, git dir) for the repository holding `start`, if any.

    Cached per folder: a scan of 10,000 files in a few run folders must not walk
    up to the file-system root 10,000 times.
    """
    here = start
    for _ in range(64):
        dot = here / ".git"
        if dot.is_dir():
            return here, dot
        if dot.is_file():  # worktree or submodule: "gitdir: <path>"
            text = _small(dot, 4096) or ""
            if text.startswith("gitdir:"):
                target = Path(text[7:].strip())
                target = target if target.is_absolute() else (here / target)
                if target.is_dir():
                    return here, target
        if here.parent == here:
            return None
        here = here.parent
    return None


def _resolve_ref(git_dir: Path, ref: str) -> str | None:
    common = git_dir
    common_file = _small(git_dir / "commondir", 4096)
    if common_file:
        common = (git_dir / common_file.strip()).resolve()
    for base in (git_dir, common):
        text = _small(base / ref, 256)
        if text and _SHA.fullmatch(text.strip()):
            return text.strip()
    packed = _small(common / "packed-refs", 8 << 20) or ""
    for line in packed.splitlines():
        parts = line.split(" ", 1)
        if len(parts) == 2 and parts[1] == ref and _SHA.fullmatch(parts[0]):
            return parts[0]
    return None


def git_facts(start: Path) -> dict[str, Any]:
    found = find_git_dir(start)
    if found is None:
        return {}
    work, git_dir = found
    out: dict[str, Any] = {"git_root": str(work)}
    head = (_small(git_dir / "HEAD", 4096) or "").strip()
    if head.startswith("ref:"):
        ref = head[4:].strip()
        out["git_branch"] = clip(ref.removeprefix("refs/heads/"), 200)
        commit = _resolve_ref(git_dir, ref)
    else:
        commit = head if _SHA.fullmatch(head) else None
    out["git_commit"] = commit  # None: a branch with no commits yet
    out["git_dirty"] = _dirty(work, git_dir)
    return out


def _dirty(work: Path, git_dir: Path) -> bool | None:
    key = str(work)
    now = time.monotonic()
    cached = _dirty_cache.get(key)
    if cached and now - cached[0] < _CACHE_SECONDS:
        return cached[1]
    result = _run_status(work, git_dir)
    _dirty_cache[key] = (now, result)
    return result


def _run_status(work: Path, git_dir: Path) -> bool | None:
    git = shutil.which("git")
    config = _small(git_dir / "config") or ""
    if git is None or _RISKY_CONFIG.search(config):
        return None
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/nonexistent"),
        "GIT_OPTIONAL_LOCKS": "0",  # status must not write the index
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
    }
    cmd = [
        git,
        "-c", "core.hooksPath=/dev/null",
        "-c", "core.fsmonitor=false",
        "-c", "core.untrackedCache=false",
        "--git-dir", str(git_dir),
        "--work-tree", str(work),
        "status", "--porcelain", "--untracked-files=no", "--ignore-submodules=all",
    ]  # fmt: skip
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return bool(proc.stdout.strip())


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
