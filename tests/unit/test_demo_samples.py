"""Where `regtui demo` finds its sample models, and what it says when there are none."""

from __future__ import annotations

from pathlib import Path

import pytest

from regtui.catalog.service import Catalog
from regtui.demo import SamplesMissing, sample_models_dir, seed_demo

REPO = Path(__file__).resolve().parents[2]


def test_a_source_tree_uses_its_top_level_sample_models() -> None:
    assert sample_models_dir() == REPO / "sample_models"


def test_no_samples_is_one_line_and_no_placeholder_versions(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite") as cat:
        with pytest.raises(SamplesMissing) as missing:
            seed_demo(cat, tmp_path / "nothing-here")
        assert "\n" not in str(missing.value) and "nothing-here" in str(missing.value)
        assert cat.count_versions() == 0
