"""The filter compiler's messages name the offending character and its column."""

from __future__ import annotations

import pytest

from regtui.catalog.filter import compile_filter
from regtui.errors import FilterError


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("version = 1; drop table model", "filter: unexpected character ';' at column 12"),
        ("tags.team = 'a' & x", "filter: unexpected character '&' at column 17"),
        ("format = 'é' or ü", "filter: unexpected character 'ü' at column 17"),
    ],
)
def test_an_unexpected_character_is_quoted_with_its_column(expr: str, message: str) -> None:
    for dialect in ("sqlite", "postgresql"):
        with pytest.raises(FilterError) as caught:
            compile_filter(expr, dialect)
        assert str(caught.value).startswith(message)  # then the hint, if any
