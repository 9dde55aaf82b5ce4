"""The catalog's JSON column text is exactly what the standard encoder writes
(without NaN or Infinity), whatever shortcut it takes for empty values."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regtui.catalog.db import strict_json
from tests.support.hypothesis_runs import examples

_reference = json.JSONEncoder(allow_nan=False).encode

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        | st.tuples(inner)
    ),
    max_leaves=12,
)


def _outcome(encode: Any, value: Any) -> str:
    try:
        return encode(value)
    except ValueError as exc:
        return f"ValueError: {exc}"


@settings(max_examples=examples(300), deadline=None)
@given(values)
def test_same_text_as_the_standard_encoder(value: Any) -> None:
    assert _outcome(strict_json, value) == _outcome(_reference, value)


@pytest.mark.parametrize("empty", [{}, [], (), "", 0, 0.0, False, None])
def test_empty_values(empty: Any) -> None:
    assert strict_json(empty) == _reference(empty)
