"""Lineage against real git: on repositories git itself makes (commits, branches,
packed refs, gc, worktrees, separate git dirs, crafted configs, mangled indexes), the
reader gives `git rev-parse`'s commit and branch, and a dirty flag that is git's
answer or honestly unknown; git runs here only as the test's oracle. The reader's
own rules, in-process: tests/unit/test_lineage_reader.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.catalog.scan import scan
from regtui.catalog.service import Catalog
from regtui.inspect import inspect_path
from regtui.inspect import lineage as lineage_mod
from regtui.inspect.gitrepo import find_repo, is_dirty, read_head
from tests.support.hypothesis_runs import examples
from tests.unit.helpers import artifact
from tests.unit.inspect.helpers import safetensors_bytes
from tests.unit.test_lineage_reader import (
    hostile_config,
    needs_git,
    no_hang,
    read_facts,
)

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


# From the inspector's side: inspect_path records git's commit, branch and dirty flag.
@needs_git
def test_lineage_dirty_flag_with_real_git(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    (tmp_path / "train.py").write_text("print(1)\n")
    git("add", "train.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "x")
    (tmp_path / "m.safetensors").write_bytes(safetensors_bytes({"w": ("F32", [2])}))
    f = inspect_path(tmp_path / "m.safetensors")
    assert f.lineage["git_branch"] == "main" and len(f.lineage["git_commit"]) == 40
    assert f.lineage["git_dirty"] is False
    assert f.lineage["run_dir"] == str(tmp_path) and f.lineage["host"]
    (tmp_path / "train.py").write_text("print(2)\n")
    from regtui.inspect import lineage

    lineage._dirty_cache.clear()
    assert inspect_path(tmp_path / "m.safetensors").lineage["git_dirty"] is True
