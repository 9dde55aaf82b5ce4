"""Long values are cut so that what a reviewer compares stays on screen."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from regtui.text import elide_middle, elide_pair

texts = st.text(alphabet="ab/._-0123", max_size=120)


@given(texts, st.integers(min_value=0, max_value=80))
def test_elide_middle_fits_and_keeps_both_ends(value: str, width: int) -> None:
    out = elide_middle(value, width)
    assert len(out) <= width
    if len(value) <= width:
        assert out == value
    elif width >= 3:
        assert out[0] == value[0] and out[-1] == value[-1] and "…" in out


@given(texts, texts, st.integers(min_value=12, max_value=80))
def test_elide_pair_shows_where_the_values_differ(a: str, b: str, width: int) -> None:
    x, y = elide_pair(a, b, width)
    assert len(x) <= width and len(y) <= width
    if a != b:
        # two different values never look the same once cut
        assert x != y
    else:
        assert x == y == elide_middle(a, width)


def test_paths_that_differ_near_the_end_stay_apart() -> None:
    a = "/data/runs/2026-03-01/experiment-alpha/checkpoints/epoch-0012/model.safetensors"
    b = a.replace("0012", "0013")
    x, y = elide_pair(a, b, 40)
    assert x != y and "0012" in x and "0013" in y
