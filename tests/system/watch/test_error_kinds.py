"""Scan and the watcher decide what a failed artifact is by the error's class,
never by words in its message: the message holds the path, and a path may hold
any words ("changed while", ": refused:", "no such file")."""

from __future__ import annotations

from pathlib import Path

import pytest

from regtui.catalog.scan import scan
from regtui.catalog.service import Catalog
from regtui.errors import ArtifactError
from tests.system.watch.conftest import Harness, wait_for, weights

# Words scan or the watcher once read in a message as the kind of the error.
MISLEADING = ["changed while", "deleted while", "no such file", "x: refused: y"]


@pytest.mark.parametrize("words", MISLEADING)
def test_scan_refuses_a_bad_entry_whatever_its_name_says(tmp_path: Path, words: str) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    (root / f"{words}.safetensors").symlink_to("missing.safetensors")  # dangling
    with Catalog(tmp_path / "c.sqlite") as cat:
        items = scan(cat, [root])
    [item] = items
    assert (item.outcome, item.path) == ("refused", str(root / f"{words}.safetensors"))
    assert "broken symlink" in item.detail


@pytest.mark.parametrize("words", MISLEADING)
def test_the_watcher_refuses_a_bad_entry_whatever_its_path_says(
    harness: Harness, tmp_path: Path, words: str
) -> None:
    """A link out of the root is refused with its target's path in the message."""
    target = tmp_path / "outside" / words / "model.safetensors"
    target.parent.mkdir(parents=True)
    target.write_bytes(weights(words))
    (harness.root / "leaving.safetensors").symlink_to(target)
    harness.start()
    wait_for(lambda: harness.rec.of("refused", "error"))
    [ev] = harness.rec.of("refused", "error")
    assert ev.kind == "refused", ev
    assert "outside the watched root" in ev.detail and words in ev.detail
    assert harness.count() == 0


def test_a_plain_artifact_error_is_an_error_whatever_its_path_says(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error that is no refusal stays an error, even when the path in its
    message reads ": refused:"."""

    def failing_prepare(path, *a, **kw):  # type: ignore[no-untyped-def]
        raise ArtifactError(f"{path}: cannot open: Permission denied")

    monkeypatch.setattr(harness.catalog, "prepare", failing_prepare)
    (harness.root / "a: refused: b").mkdir()
    (harness.root / "a: refused: b" / "model.safetensors").write_bytes(weights("x"))
    harness.start()
    wait_for(lambda: harness.rec.of("refused", "error"))
    [ev] = harness.rec.of("refused", "error")
    assert ev.kind == "error", ev
    assert ev.detail.endswith("cannot open: Permission denied")
