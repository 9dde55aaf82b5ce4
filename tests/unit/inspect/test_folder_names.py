"""Sidecars are looked up by name, remembered only while a scan or one
artifact's preparation lasts: a sidecar written between two registrations
counts for the second, whichever file and wherever the run keeps it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from regtui.catalog.scan import scan
from regtui.catalog.service import Catalog
from regtui.inspect import folder_names, sidecars
from regtui.inspect.folder_names import present, remembered
from tests.unit.helpers import artifact

# (where, relative to the checkpoint's folder; file; text; what the version gets)
SIDECARS = [
    (".", "hparams.yaml", "lr: 0.5\n", ("params", "lr", 0.5)),
    (".", "params.json", '{"lr": 0.5}', ("params", "lr", 0.5)),
    (".", "metrics.json", '{"auc": 0.5}', ("metrics", "auc", 0.5)),
    (".", "eval_results.json", '{"eval_auc": 0.5}', ("metrics", "eval_auc", 0.5)),
    ("..", "hparams.yaml", "lr: 0.5\n", ("params", "lr", 0.5)),  # Lightning's run folder
    ("..", "metrics.csv", "epoch,step,auc\n0,1,0.5\n", ("metrics", "auc", 0.5)),
]


@pytest.mark.parametrize(("where", "name", "text", "want"), SIDECARS)
def test_a_sidecar_written_between_two_registrations_counts_for_the_second(
    tmp_path: Path, where: str, name: str, text: str, want: tuple[str, str, float]
) -> None:
    ckpts = tmp_path / "run" / "checkpoints"
    first = artifact(ckpts, "first.safetensors", "1")
    second = artifact(ckpts, "second.safetensors", "2")
    third = artifact(ckpts, "third.safetensors", "3")
    field, key, value = want
    with Catalog(tmp_path / "c.db", user="alice") as cat:
        before = cat.register(first, "m")
        sidecar = (ckpts / where / name).resolve()
        sidecar.write_text(text)
        after = cat.register(second, "m")
        sidecar.unlink()
        gone = cat.register(third, "m")
    assert key not in getattr(before, field)
    assert getattr(after, field)[key] == value
    assert key not in getattr(gone, field)


def test_answers_are_kept_while_remembered_and_only_then(tmp_path: Path) -> None:
    folder = os.fspath(tmp_path)
    assert present(folder, ("a.json",)) == []
    (tmp_path / "a.json").write_text("{}")
    assert present(folder, ("a.json",)) == ["a.json"]  # asked afresh
    with remembered() as memo:
        assert present(folder, ("a.json", "b.json")) == ["a.json"]
        (tmp_path / "b.json").write_text("{}")
        (tmp_path / "a.json").unlink()
        assert present(folder, ("a.json", "b.json")) == ["a.json"]  # the scan's snapshot
        with remembered():  # a nested preparation joins the open memo
            assert present(folder, ("b.json",)) == []
        assert folder in memo.answers
    assert present(folder, ("a.json", "b.json")) == ["b.json"]


def test_a_special_file_is_reported_on_every_ask_and_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "metrics.json")
    (tmp_path / "params.json").mkdir()
    (tmp_path / "hparams.yaml").symlink_to(tmp_path / "metrics.json")
    (tmp_path / "data.yaml").symlink_to("elsewhere.yaml")  # dangling: nothing to say
    names = ("metrics.json", "params.json", "hparams.yaml", "data.yaml")
    with remembered():
        for _ in range(2):
            warnings: list[str] = []
            assert present(os.fspath(tmp_path), names, warnings) == []
            assert len(warnings) == 3, warnings
            assert any("metrics.json: is a FIFO" in w for w in warnings), warnings


def test_a_full_memo_starts_over_and_stays_right(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(folder_names, "MAX_FOLDERS", 3)
    folders = [tmp_path / str(i) for i in range(10)]
    for i, f in enumerate(folders):
        f.mkdir()
        if i % 2:
            (f / "params.json").write_text("{}")
    with remembered() as memo:
        for _ in range(2):
            got = [present(os.fspath(f), ("params.json",)) for f in folders]
            assert got == [["params.json"] if i % 2 else [] for i in range(10)]
            assert len(memo.answers) <= 3


def test_one_scan_reads_each_folder_once_and_every_artifact_gets_its_sidecars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    for r in range(3):
        for i in range(20):
            artifact(runs / f"r{r}", f"epoch={i}.safetensors", f"{r}-{i}")
        (runs / f"r{r}" / "hparams.yaml").write_text(f"run: {r}\n")
    asked: list[str] = []
    real_ask = folder_names._ask
    monkeypatch.setattr(folder_names, "_ask", lambda p: asked.append(p) or real_ask(p))
    read: list[Path] = []
    real_load = sidecars._load
    monkeypatch.setattr(sidecars, "_load", lambda p: read.append(p) or real_load(p))
    with Catalog(tmp_path / "c.db", user="alice") as cat:
        items = scan(cat, [runs])
        versions = [it.version for it in items if it.outcome == "registered"]
    assert len(versions) == 60
    assert all(v is not None and v.params["run"] == int(v.model[-1]) for v in versions)
    assert len(asked) == len(set(asked)), "a name was asked twice in one scan"
    assert sorted(read) == sorted(runs / f"r{r}" / "hparams.yaml" for r in range(3)), read


def test_one_scan_still_gives_each_checkpoint_its_own_logged_values(tmp_path: Path) -> None:
    """Run logs are the one sidecar whose values depend on the artifact's position:
    kept per position, while the folder's other sidecars are read once."""
    run = tmp_path / "runs" / "m"
    rows = ["epoch,step,val_loss"] + [f"{e},{10 * (e + 1)},{0.9 - e / 10}" for e in range(4)]
    (run / "metrics.csv").parent.mkdir(parents=True)
    (run / "metrics.csv").write_text("\n".join(rows) + "\n")
    (run / "hparams.yaml").write_text("lr: 0.1\n")
    for e in range(4):
        artifact(run / "checkpoints", f"epoch={e}-step={10 * (e + 1)}.safetensors", str(e))
    with Catalog(tmp_path / "c.db", user="alice") as cat:
        items = scan(cat, [tmp_path / "runs"])
    got = {
        int(it.version.metrics["epoch"]): it.version
        for it in items
        if it.outcome == "registered" and it.version is not None
    }
    assert sorted(got) == [0, 1, 2, 3]
    for e, v in got.items():
        assert v.metrics["val_loss"] == pytest.approx(0.9 - e / 10), (e, v.metrics)
        assert v.params["lr"] == 0.1


# ------------------------------------------- answers kept between preparations

SETTLE_S = 0.06  # the test's settle margin: far above a timestamp tick, short to wait


def _fifo(p: Path) -> None:
    p.unlink(missing_ok=True)
    os.mkfifo(p)


def _relink(p: Path) -> None:
    """Point the link at a FIFO instead of a file: the folder holding the link
    does not change, so its answers must not have been kept."""
    target = Path(os.readlink(p))
    target.unlink()
    os.mkfifo(target)


def _touch_back(p: Path) -> None:
    """Add the name, then set the folder's modification time back: its change
    time still moves."""
    st = os.stat(p.parent)
    p.write_text("{}")
    os.utime(p.parent, ns=(st.st_atime_ns, st.st_mtime_ns))


# (what the folder holds first, the change made after its answers were kept)
CHANGES = {
    "added": (None, lambda p: p.write_text("{}")),
    "removed": ("file", lambda p: p.unlink()),
    "renamed in": (None, lambda p: (p.parent / "other").rename(p)),
    "renamed away": ("file", lambda p: p.rename(p.parent / "gone")),
    "replaced by a FIFO": ("file", _fifo),
    "replaced by a folder": ("file", lambda p: (p.unlink(), p.mkdir())),
    "a link's target turned into a FIFO": ("link", _relink),
    "added, folder time set back": (None, _touch_back),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_answers_kept_between_preparations_follow_every_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    monkeypatch.setattr(folder_names, "SETTLED_NS", int(SETTLE_S * 1e9))
    monkeypatch.setattr(folder_names, "_lasting", {})
    first, make = CHANGES[change]
    folder = tmp_path / "run"
    folder.mkdir()
    target = folder / "params.json"
    (folder / "other").write_text("{}")
    if first == "file":
        target.write_text("{}")
    elif first == "link":
        (tmp_path / "elsewhere.json").write_text("{}")
        target.symlink_to(tmp_path / "elsewhere.json")
    names = ("params.json", "metrics.json")

    def ask() -> tuple[list[str], list[str]]:
        warnings: list[str] = []
        return present(os.fspath(folder), names, warnings), warnings

    time.sleep(SETTLE_S * 2)
    before = ask()
    assert ask() == before  # asked twice: the second may come from what was kept
    make(target)
    at_once = ask()  # changed just now: asked afresh
    time.sleep(SETTLE_S * 2)
    settled = ask()  # settled again: the kept answers must not be the old ones
    monkeypatch.setattr(folder_names, "_lasting_answers", lambda f: {})
    assert at_once == settled == ask(), "a kept answer outlived the change"
    assert settled != before


def test_a_settled_folder_is_asked_once_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(folder_names, "SETTLED_NS", int(SETTLE_S * 1e9))
    monkeypatch.setattr(folder_names, "_lasting", {})
    asked: list[str] = []
    real_ask = folder_names._ask
    monkeypatch.setattr(folder_names, "_ask", lambda p: asked.append(p) or real_ask(p))
    folder = os.fspath(tmp_path)
    assert present(folder, ("a.json",)) == []
    assert present(folder, ("a.json",)) == []
    assert len(asked) == 2, "a folder changed just now was answered from memory"
    time.sleep(SETTLE_S * 2)
    for _ in range(3):
        assert present(folder, ("a.json",)) == []
    assert len(asked) == 3
    (tmp_path / "a.json").write_text("{}")
    assert present(folder, ("a.json",)) == ["a.json"]
    assert len(asked) == 4


@pytest.mark.parametrize(("where", "name", "text", "want"), SIDECARS)
def test_a_sidecar_written_into_a_settled_run_counts_for_the_next_registration(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    name: str,
    text: str,
    want: tuple[str, str, float],
) -> None:
    monkeypatch.setattr(folder_names, "SETTLED_NS", int(SETTLE_S * 1e9))
    monkeypatch.setattr(folder_names, "_lasting", {})
    ckpts = tmp_path / "run" / "checkpoints"
    files = [artifact(ckpts, f"{i}.safetensors", str(i)) for i in range(4)]
    field, key, value = want
    time.sleep(SETTLE_S * 2)
    with Catalog(tmp_path / "c.db", user="alice") as cat:
        before = [cat.register(files[0], "m"), cat.register(files[1], "m")]
        sidecar = (ckpts / where / name).resolve()
        sidecar.write_text(text)
        after = cat.register(files[2], "m")
        time.sleep(SETTLE_S * 2)
        sidecar.unlink()
        gone = cat.register(files[3], "m")
    assert all(key not in getattr(v, field) for v in before)
    assert getattr(after, field)[key] == value
    assert key not in getattr(gone, field)


@pytest.mark.parametrize("fs_type", ["nfs4", "cifs", "fuse.sshfs", "fuse.s3fs", "9p", None])
def test_no_answers_are_kept_on_a_file_system_another_clock_stamps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fs_type: str | None
) -> None:
    monkeypatch.setattr(folder_names, "SETTLED_NS", int(SETTLE_S * 1e9))
    monkeypatch.setattr(folder_names, "_lasting", {})
    monkeypatch.setattr(folder_names, "_fs_type", lambda dev: fs_type)
    asked: list[str] = []
    real_ask = folder_names._ask
    monkeypatch.setattr(folder_names, "_ask", lambda p: asked.append(p) or real_ask(p))
    time.sleep(SETTLE_S * 2)
    for _ in range(3):
        assert present(os.fspath(tmp_path), ("a.json",)) == []
    assert len(asked) == 3


def test_the_mount_table_names_this_machines_file_systems(tmp_path: Path) -> None:
    if not Path("/proc/self/mountinfo").exists():
        pytest.skip("no /proc/self/mountinfo")
    mounted = folder_names._mounted()
    assert mounted.get(os.stat("/proc").st_dev) == "proc"
    assert folder_names._fs_type(os.stat(tmp_path).st_dev) == mounted.get(os.stat(tmp_path).st_dev)
