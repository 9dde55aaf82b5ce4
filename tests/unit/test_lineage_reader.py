"""Nothing runs: lineage reads git metadata from files, never by running git.

- No module under src/regtui can start a process (an AST sweep).
- A crafted .git that names a command in every slot git would run one from
  (filters, fsmonitor, hooks, pagers, includes, config.worktree, a linked
  worktree's common dir, ...) never gets it run by registering or scanning.
- Generated hostile .git trees (FIFOs, devices, symlink loops, garbage, huge
  files, gitdir: loops) never hang the reader or raise.
- On real repositories made by git, the reader gives `git rev-parse`'s commit and
  branch, and a dirty flag that is git's answer or honestly unknown: those run git
  as their oracle, so they are in tests/system/test_lineage_git.py.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import regtui
from regtui.inspect import inspect_path
from regtui.inspect import lineage as lineage_mod
from regtui.inspect.gitrepo import find_repo, valid_ref_name
from tests.support.hypothesis_runs import examples
from tests.unit.helpers import artifact

SRC = Path(regtui.__file__).parent
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")

# ------------------------------------------------------------ no process at all

FORBIDDEN_MODULES = {"subprocess", "pty", "multiprocessing", "pexpect", "sh", "plumbum"}
PROCESS_MODULES = {"os", "posix", "nt", "asyncio", "pty"}  # hold process starters
STARTER = re.compile(
    r"(system|popen|startfile|fork|forkpty|exec[lv]p?e?|spawn[lv]p?e?|posix_spawnp?"
    r"|create_subprocess_(exec|shell))",
    re.IGNORECASE,
)
# module path -> why it must start a process (a new entry needs a reason)
JUSTIFIED: dict[str, str] = {
    "tui/chain_check.py": (
        "runs regtui's own `audit --verify` in this interpreter, isolated (-I: no current"
        " folder on the path, no PYTHON* variables) from the temp folder: nothing an"
        " artifact's folder holds can change what runs (tests/ui/test_chain_check.py)"
    ),
    "catalog/hook_transport.py": (
        "runs a hook's command, `sh -c` of the text the admin gave `regtui hook add` (kept"
        " in the catalog and matched against its audit event before it runs), in a fresh"
        " empty folder, never anything from an artifact or its folder"
        " (tests/unit/test_hooks.py)"
    ),
    "serve/session.py": (
        "starts one `regtui` app per browser session: this interpreter, isolated (-I), from"
        " the temp folder, with an explicit argv and environment built by the server (the"
        " authenticated user, --read-only, the catalog URL); nothing a page sends reaches"
        " them, and its process group ends with the session (tests/unit/serve/,"
        " tests/system/serve/)"
    ),
    "catalog/scan_processes.py": (
        "os.fork only: copies of a scan share its work; no program is started, nothing is"
        " imported, and they die with the scan"
    ),
}


def _process_starters(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom):
            mod = (node.module or "").split(".")[0]
            if mod in FORBIDDEN_MODULES:
                found.append(f"from {node.module}")
            if mod in PROCESS_MODULES:
                found += [
                    f"from {mod} import {a.name}" for a in node.names if STARTER.fullmatch(a.name)
                ]
        elif isinstance(node, ast.Attribute):
            # os.system(...), asyncio.create_subprocess_exec(...), anything.Popen(...)
            on_module = isinstance(node.value, ast.Name) and node.value.id in PROCESS_MODULES
            if (on_module and STARTER.fullmatch(node.attr)) or node.attr.lower() == "popen":
                found.append(f".{node.attr} (line {node.lineno})")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("__import__", "exec", "eval"):
                found.append(f"{node.func.id}() (line {node.lineno})")
            if node.func.id == "getattr" and node.args:
                target = node.args[0]
                if isinstance(target, ast.Name) and target.id in PROCESS_MODULES:
                    found.append(f"getattr({target.id}, ...) (line {node.lineno})")
    return found


def test_no_module_under_src_can_start_a_process() -> None:
    offenders = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = str(path.relative_to(SRC))
        hits = _process_starters(ast.parse(path.read_text(encoding="utf-8")))
        if hits and rel not in JUSTIFIED:
            offenders[rel] = hits
    assert not offenders, f"modules that can start a process: {offenders}"


@pytest.mark.parametrize(
    "code",
    [
        "import subprocess",
        "import subprocess as sp",
        "from subprocess import run",
        "import os\nos.system('x')",
        "import os\nos.popen('x')",
        "import os\nos.execvp('x', ['x'])",
        "import os\nos.spawnlp(0, 'x')",
        "import os\nos.posix_spawnp('x', ['x'], {})",
        "from os import execv",
        "import asyncio\nasyncio.create_subprocess_exec('x')",
        "import pty",
        "import multiprocessing.pool",
        "exec('1')",
        "import os\ngetattr(os, 'sys' + 'tem')('x')",
        "import subprocess as s\ns.Popen(['x'])",
        "__import__('subprocess')",
    ],
)
def test_the_sweep_sees_every_spelling(code: str) -> None:
    assert _process_starters(ast.parse(code))


# ------------------------------------------------------------ real repositories


def read_facts(start: Path) -> dict[str, Any]:
    lineage_mod.find_git_dir.cache_clear()
    lineage_mod._dirty_cache.clear()
    return lineage_mod.git_facts(start)


@pytest.mark.parametrize(
    "ref,ok",
    [
        ("refs/heads/main", True),
        ("refs/heads/feature/x", True),
        ("refs/heads/../../config", False),
        ("refs/heads/.hidden", False),
        ("refs/heads/x.lock", False),
        ("/etc/passwd", False),
        ("HEAD", False),
        ("refs/heads/a\x00b", False),
        ("refs/heads/a b", False),
        ("refs/heads/", False),
        ("refs//x", False),
    ],
)
def test_ref_names_never_climb_out(ref: str, ok: bool) -> None:
    assert valid_ref_name(ref) is ok


# ------------------------------------------------------------ nothing ever runs


def marker_cmd(marker: Path) -> str:
    return f"touch {marker}; cat"  # a working clean/smudge filter that leaves a trace


def hostile_config(marker: Path) -> str:
    cmd = marker_cmd(marker)
    return (
        f'[filter "evil"]\n\tclean = {cmd}\n\tsmudge = {cmd}\n\tprocess = touch {marker}\n'
        "\trequired = false\n"
        f"[core]\n\tfsmonitor = touch {marker}\n\tpager = touch {marker}\n"
        f"\tsshCommand = touch {marker}\n\teditor = touch {marker}\n\taskPass = touch {marker}\n"
        f"\thooksPath = {marker.parent / 'hooks'}\n\tuntrackedCache = true\n"
        f"[diff]\n\texternal = touch {marker}\n[credential]\n\thelper = !touch {marker}\n"
        f"[gpg]\n\tprogram = touch {marker}\n[alias]\n\tstatus = !touch {marker}\n"
        f"[uploadpack]\n\tpackObjectsHook = touch {marker}\n"
        f"[sequence]\n\teditor = touch {marker}\n"
    )


# ------------------------------------------------------------ hostile trees


@contextlib.contextmanager
def no_hang(seconds: int = 20) -> Iterator[None]:
    def fire(_sig: int, _frame: Any) -> None:
        raise TimeoutError(f"the git reader hung for {seconds}s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


KINDS = ["absent", "fifo", "loop", "dev_zero", "dev_null", "folder", "garbage", "huge",
         "sparse", "good"]  # fmt: skip
SPOTS = ["HEAD", "refs/heads/main", "packed-refs", "index", "commondir", "config",
         "config.worktree", "objects/info/alternates"]  # fmt: skip
GOOD = {
    "HEAD": b"ref: refs/heads/main\n",
    "refs/heads/main": b"a" * 40 + b"\n",
    "packed-refs": b"# pack-refs with: peeled\n" + b"b" * 40 + b" refs/heads/main\n",
    "index": b"DIRC\x00\x00\x00\x02\x00\x00\x00\x00",
    "commondir": b"..\n",
    "config": b"[core]\n\tbare = false\n",
    "config.worktree": b"[core]\n\tfsmonitor = true\n",
    "objects/info/alternates": b"/dev\n",
}


def make(path: Path, kind: str, good: bytes, garbage: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "loop":
        os.symlink(path.name, path)  # points at itself: ELOOP
    elif kind in ("dev_zero", "dev_null"):
        os.symlink(f"/dev/{kind[4:]}", path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "garbage":
        path.write_bytes(garbage)
    elif kind == "huge":
        path.write_bytes(good[:4] + garbage * (1 + (1 << 16) // (len(garbage) + 1)))
    elif kind == "sparse":
        with open(path, "wb") as fh:
            fh.write(good)
            fh.truncate(1 << 30)  # a gigabyte of zeros that costs no disk
    elif kind == "good":
        path.write_bytes(good)


DOT_GIT = ["dir", "gitdir_dev", "gitdir_dev_zero", "gitdir_self", "gitdir_loop", "gitdir_fifo",
           "gitdir_garbage", "fifo", "symlink_loop", "gitdir_relative"]  # fmt: skip


def dot_git(root: Path, how: str, garbage: bytes) -> Path:
    """The .git of `root` in one of its hostile shapes; returns the git dir to fill."""
    dot = root / ".git"
    real = root / "real.git"
    real.mkdir()
    targets = {
        "gitdir_dev": "/dev",
        "gitdir_dev_zero": "/dev/zero",
        "gitdir_self": str(dot),
        "gitdir_loop": str(root / "other"),
        "gitdir_fifo": str(root / "pipe"),
        "gitdir_relative": "real.git",
    }
    if how == "dir":
        dot.mkdir()
        return dot
    if how == "fifo":
        os.mkfifo(dot)
    elif how == "symlink_loop":
        os.symlink(".git", dot)
    elif how == "gitdir_garbage":
        dot.write_bytes(b"gitdir: " + garbage)
    else:
        dot.write_text(f"gitdir: {targets[how]}\n")
        if how == "gitdir_loop":
            (root / "other").write_text(f"gitdir: {dot}\n")
        if how == "gitdir_fifo":
            os.mkfifo(root / "pipe")
    return real


@needs_git
@settings(max_examples=examples(60), deadline=None, suppress_health_check=list(HealthCheck))
@given(
    how=st.sampled_from(DOT_GIT),
    spots=st.dictionaries(st.sampled_from(SPOTS), st.sampled_from(KINDS), max_size=len(SPOTS)),
    garbage=st.binary(min_size=1, max_size=200),
)
def test_hostile_git_trees_never_hang_never_raise_never_run(
    tmp_path: Path, how: str, spots: dict[str, str], garbage: bytes
) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    marker = root / "RAN"
    git_dir = dot_git(root, how, garbage)
    good = {**GOOD, "config": hostile_config(marker).encode()}  # every slot runs the marker
    for spot in SPOTS:
        make(git_dir / spot, spots.get(spot, "good"), good[spot], garbage)
    hooks = git_dir / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "post-index-change").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (root / "run").mkdir()
    artifact(root / "run", "model.safetensors", "w")
    with no_hang():
        facts = read_facts(root / "run")
        inspected = inspect_path(root / "run" / "model.safetensors")
    assert not marker.exists()
    assert set(facts) <= {"git_root", "git_branch", "git_commit", "git_dirty"}
    assert facts.get("git_dirty") in (True, False, None)
    commit = facts.get("git_commit")
    assert commit is None or (len(commit) in (40, 64) and int(commit, 16) >= 0)
    assert inspected.lineage["run_dir"] == str(root / "run")


def test_the_search_stops_at_the_depth_limit_and_outside_any_repo(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["d"] * 80)
    deep.mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert find_repo(deep) is None  # 80 folders up is past the walk's limit
    assert find_repo(tmp_path.joinpath(*["d"] * 10)) is not None
