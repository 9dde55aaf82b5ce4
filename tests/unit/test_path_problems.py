"""path_problems names the path and what is wrong with it, from the file system."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from regtui.path_problems import describe, folder_problem


def test_a_file_in_an_existing_folder_has_no_folder_problem(tmp_path: Path) -> None:
    assert folder_problem(tmp_path / "new.sqlite") is None


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_the_missing_folder_is_named(tmp_path: Path, depth: int) -> None:
    folder = tmp_path.joinpath(*(f"d{i}" for i in range(depth)))
    problem = folder_problem(folder / "x.sqlite")
    assert problem is not None and problem.startswith(f"its folder {folder} does not exist")
    if depth > 1:
        assert problem.endswith(f"(nor does {tmp_path / 'd0'})")


def test_a_file_where_a_folder_should_be_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert folder_problem(blocker / "sub" / "x.sqlite") == f"{blocker} is not a folder"


def test_a_relative_path_is_judged_from_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert folder_problem("x.sqlite") is None
    assert "does not exist" in (folder_problem("nope/x.sqlite") or "")


@pytest.mark.parametrize(
    ("make", "exc", "says"),
    [
        ("dir", OSError(errno.EISDIR, "Is a directory"), "is a folder, not a file"),
        ("none", OSError(errno.ENOENT, "No such file or directory"), "no such file"),
        ("file", OSError(errno.EACCES, "Permission denied"), "permission denied"),
        ("file", OSError(errno.ENOSPC, "No space left on device"), "no space left on device"),
    ],
)
def test_describe_starts_with_the_path(tmp_path: Path, make: str, exc: OSError, says: str) -> None:
    target = tmp_path / "target"
    if make == "dir":
        target.mkdir()
    elif make == "file":
        target.write_text("x")
    assert describe(target, exc) == f"{target}: {says}"
