"""Nothing runs: lineage reads git metadata from files, never by running git.

- No module under src/regtui can start a process (an AST sweep).
- A crafted .git that names a command in every slot git would run one from
  (filters, fsmonitor, hooks, pagers, includes, config.worktree, a linked
  worktree's common dir, ...) never gets it run by registering or scanning.
- Generated hostile .git trees (FIFOs, devices, symlink loops, garbage, huge
  files, gitdir: loops) never hang the reader or raise.
- On real repositories made by git, the reader gives `git rev-parse`'s commit and
  branch, and a dirty flag that is git's answer or honestly unknown.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import regtui
from regtui.catalog.scan import scan
from regtui.catalog.service import Catalog
from regtui.inspect import inspect_path
from regtui.inspect import lineage as lineage_mod
from regtui.inspect.gitrepo import find_repo, is_dirty, read_head, valid_ref_name
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

GIT_ENV = {
    "HOME": "/nonexistent",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
    "GIT_OPTIONAL_LOCKS": "0",  # git status must not refresh the index under the reader
    "PATH": os.environ.get("PATH", ""),
    "LC_ALL": "C",
}


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env=GIT_ENV,
        timeout=60,
        check=True,
    )
    return proc.stdout.strip()


def new_repo(path: Path, *init: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main", *init)
    (path / "train.py").write_text("print(1)\n")
    git(path, "add", "train.py")
    git(path, "commit", "-q", "-m", "first")
    return path


def git_truth(repo: Path) -> tuple[str | None, str | None, bool]:
    try:
        commit: str | None = git(repo, "rev-parse", "-q", "--verify", "HEAD")
    except subprocess.CalledProcessError:
        commit = None
    try:
        branch: str | None = git(repo, "symbolic-ref", "-q", "--short", "HEAD")
    except subprocess.CalledProcessError:
        branch = None
    status = git(repo, "status", "--porcelain", "--untracked-files=no", "--ignore-submodules=all")
    return commit, branch, bool(status)


def read_facts(start: Path) -> dict[str, Any]:
    lineage_mod.find_git_dir.cache_clear()
    lineage_mod._dirty_cache.clear()
    return lineage_mod.git_facts(start)


OPS = ["commit", "edit", "edit_same_size", "touch", "stage", "delete", "chmod", "new_branch",
       "detach", "pack_refs", "gc", "add_file"]  # fmt: skip


def apply(repo: Path, op: str, n: int) -> None:
    tracked = repo / "train.py"
    if op == "commit":
        git(repo, "commit", "-q", "--allow-empty", "-am", f"c{n}")
    elif op == "edit":
        tracked.write_text(f"print({n})\n" * (n % 3 + 1))
    elif op == "edit_same_size":
        body = tracked.read_bytes() if tracked.exists() else b"x\n"
        tracked.write_bytes(bytes(reversed(body[:-1])) + b"\n")
    elif op == "touch" and tracked.exists():
        os.utime(tracked, ns=(n, n * 1_000_000_007))
    elif op == "stage":
        git(repo, "add", "-A", ".")
    elif op == "delete" and tracked.exists():
        tracked.unlink()
    elif op == "chmod" and tracked.exists():
        tracked.chmod(tracked.stat().st_mode ^ 0o100)
    elif op == "new_branch":
        git(repo, "checkout", "-q", "-b", f"feature/b{n}")
    elif op == "detach":
        git(repo, "checkout", "-q", "--detach")
    elif op == "pack_refs":
        git(repo, "pack-refs", "--all")
    elif op == "gc":
        git(repo, "gc", "-q")
    elif op == "add_file":
        (repo / f"f{n}.txt").write_text(str(n))
        git(repo, "add", f"f{n}.txt")


@needs_git
@settings(max_examples=examples(25), deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=st.lists(st.sampled_from(OPS), max_size=6), fmt=st.sampled_from(["sha1", "sha256"]))
def test_real_repos_read_as_git_reads_them(tmp_path: Path, ops: list[str], fmt: str) -> None:
    repo = new_repo(Path(tempfile.mkdtemp(dir=tmp_path)), f"--object-format={fmt}")
    (repo / "runs" / "r1").mkdir(parents=True)
    for n, op in enumerate(ops):
        apply(repo, op, n + 1)
    facts = read_facts(repo / "runs" / "r1")  # before git status can touch the index
    commit, branch, dirty = git_truth(repo)
    assert facts["git_root"] == str(repo)
    assert facts["git_commit"] == commit
    assert facts.get("git_branch") == branch
    assert facts["git_dirty"] in (dirty, None)
    staged = any(op in ("stage", "add_file") for op in ops)
    if not staged:  # work-tree changes alone are always known
        assert facts["git_dirty"] is dirty, ops


@needs_git
def test_a_clean_checkout_and_a_changed_file_are_known(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    assert read_facts(repo)["git_dirty"] is False
    (repo / "train.py").write_text("print(2)\n")
    assert read_facts(repo)["git_dirty"] is True
    git(repo, "commit", "-q", "-am", "two")
    git(repo, "gc", "-q")  # objects packed: the commit is read from the pack
    assert read_facts(repo)["git_dirty"] is False


@needs_git
@pytest.mark.parametrize("layout", ["worktree", "separate_git_dir", "submodule_like"])
def test_git_files_pointing_elsewhere_are_followed(tmp_path: Path, layout: str) -> None:
    main = new_repo(tmp_path / "main")
    if layout == "worktree":
        repo = tmp_path / "wt"
        git(main, "worktree", "add", "-q", "-b", "side", str(repo))
    elif layout == "separate_git_dir":
        repo = tmp_path / "sep"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "trunk", f"--separate-git-dir={tmp_path / 'sep.git'}")
        (repo / "a.txt").write_text("a")
        git(repo, "add", "a.txt")
        git(repo, "commit", "-q", "-m", "a")
    else:
        repo = tmp_path / "sub"
        shutil.move(str(main / ".git"), str(tmp_path / "modules-main"))
        shutil.move(str(main), str(repo))
        (repo / ".git").write_text("gitdir: ../modules-main\n")
    facts = read_facts(repo)
    commit, branch, dirty = git_truth(repo)
    assert (facts["git_commit"], facts.get("git_branch"), facts["git_dirty"]) == (
        commit,
        branch,
        dirty,
    )


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


PLACES = ["config", "config_after_64k", "config_worktree", "included", "include_if",
          "linked_worktree_common"]  # fmt: skip


def plant(repo: Path, place: str, marker: Path) -> Path:
    """A repo whose config runs `marker`'s command from `place`; returns the work tree
    whose tracked file is stat-dirty (so git status would run the clean filter)."""
    work = repo
    if place == "linked_worktree_common":  # made before any hook exists: git runs them
        work = repo.parent / "linked"
        git(repo, "worktree", "add", "-q", "-b", "linked", str(work))
        (work / ".gitattributes").write_text("* filter=evil\n")
    hooks = marker.parent / "hooks"
    hooks.mkdir(exist_ok=True)
    for hook in ("post-index-change", "reference-transaction", "fsmonitor-watchman",
                 "post-checkout", "pre-commit"):  # fmt: skip
        for where in (hooks, repo / ".git" / "hooks"):
            where.mkdir(exist_ok=True)
            (where / hook).write_text(f"#!/bin/sh\ntouch {marker}\n")
            (where / hook).chmod(0o755)
    (repo / ".gitattributes").write_text("* filter=evil\n")
    config = repo / ".git" / "config"
    evil = hostile_config(marker)
    if place == "config":
        config.write_text(config.read_text() + evil)
    elif place == "config_after_64k":
        config.write_text(config.read_text() + "#" + "x" * (1 << 17) + "\n" + evil)
    elif place == "config_worktree":
        git(repo, "config", "extensions.worktreeConfig", "true")
        (repo / ".git" / "config.worktree").write_text(evil)
    elif place == "included":
        (marker.parent / "inc.cfg").write_text(evil)
        config.write_text(config.read_text() + f"[include]\n\tpath = {marker.parent / 'inc.cfg'}\n")
    elif place == "include_if":
        (marker.parent / "inc.cfg").write_text(evil)
        config.write_text(
            config.read_text()
            + f'[includeIf "gitdir:{repo}/"]\n\tpath = {marker.parent / "inc.cfg"}\n'
        )
    else:  # the evil config sits in the common dir; .git of the work tree is a file
        config.write_text(config.read_text() + evil)
    tracked = work / "train.py"
    tracked.write_text(tracked.read_text())  # same bytes, new mtime: git re-cleans it
    os.utime(tracked, ns=(1, 1))
    artifact(work / "runs", "model.safetensors", "weights")
    return work


@needs_git
@pytest.mark.parametrize("place", PLACES)
def test_a_crafted_git_config_never_runs_its_commands(tmp_path: Path, place: str) -> None:
    marker = tmp_path / "evidence" / "RAN"
    marker.parent.mkdir()
    work = plant(new_repo(tmp_path / "repo"), place, marker)
    lineage_mod.find_git_dir.cache_clear()
    lineage_mod._dirty_cache.clear()
    facts = inspect_path(work / "runs" / "model.safetensors")
    with Catalog(str(tmp_path / "c.sqlite")) as cat:
        items = scan(cat, [work / "runs"], model="m")
    assert [i.outcome for i in items] == ["registered"], items
    assert not marker.exists(), f"a command from the repository ran ({place})"
    assert facts.lineage["git_commit"] == git(work, "rev-parse", "HEAD")
    assert facts.lineage["git_dirty"] in (False, None)  # same bytes: git says clean


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


@needs_git
@settings(max_examples=examples(40), deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_mangled_index_is_read_as_git_would_or_unknown(tmp_path: Path, data: Any) -> None:
    repo = new_repo(Path(tempfile.mkdtemp(dir=tmp_path)))
    (repo / "b.txt").write_text("b")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-q", "-m", "b")
    index = repo / ".git" / "index"
    raw = bytearray(index.read_bytes())
    cut = data.draw(st.integers(0, len(raw)))
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255))))
    for at, byte in flips:
        raw[at] = byte
    index.write_bytes(bytes(raw[:cut]))
    repo_obj = find_repo(repo)
    assert repo_obj is not None
    head = read_head(repo_obj)
    assert head is not None and head.commit == git(repo, "rev-parse", "HEAD")
    with no_hang():
        assert is_dirty(repo_obj, head) in (True, False, None)


def test_the_search_stops_at_the_depth_limit_and_outside_any_repo(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["d"] * 80)
    deep.mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert find_repo(deep) is None  # 80 folders up is past the walk's limit
    assert find_repo(tmp_path.joinpath(*["d"] * 10)) is not None
