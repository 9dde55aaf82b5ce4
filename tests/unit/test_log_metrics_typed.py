"""What the TUI's log-metrics box reads: NAME=NUMBER pairs, or one clear error."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regtui.errors import UsageError
from regtui.tui.screens.log_metrics import parse_metrics

names = st.from_regex(r"[a-z][a-z0-9_.]{0,20}", fullmatch=True)
values = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(st.dictionaries(names, values, min_size=1, max_size=5), st.sampled_from([", ", " ", ","]))
def test_pairs_round_trip(metrics: dict[str, float], sep: str) -> None:
    typed = sep.join(f"{k}={v!r}" for k, v in metrics.items())
    assert parse_metrics(typed) == pytest.approx(metrics)


@pytest.mark.parametrize(
    "typed", ["", "   ", "auc", "auc=", "=0.9", "auc=high", "auc=0.9, f1", "auc=0x10", "auc=1_0x"]
)
def test_what_is_not_name_equals_number_is_one_error(typed: str) -> None:
    with pytest.raises(UsageError):
        parse_metrics(typed)


def test_non_finite_values_are_read_and_left_to_the_catalog_to_refuse() -> None:
    assert math.isinf(parse_metrics("auc=inf")["auc"])
