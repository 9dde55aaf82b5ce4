"""JSON columns are handed over undecoded (catalog.json_columns) and decoded on
use. SQLite's stored text may be spliced into JSON output; PostgreSQL's text
form of JSONB (keys reordered, numbers as NUMERIC writes them, non-ASCII raw)
never may. On both backends, every read path gives back the values written, and
the JSON text of a record is exactly the strict encoding of its values."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.catalog.service import Catalog
from regtui.text import json_text
from tests.unit.helpers import artifact

# Numbers whose text NUMERIC writes differently from Python's repr, and text a
# terminal must never get raw (controls, DEL, bidi, non-ASCII).
NUMBERS = st.sampled_from([1e-05, 1e20, 1.5e300, 0.30000000000000004, -0.0, 10**20, 7, 2.5])
TEXT = st.text(
    st.sampled_from(["a", "é", "\u202e", "\x7f", "\x1b", '"', "\\", "\u00a0", "日", " ", "\n"]),
    max_size=6,
)
KEYS = st.text(st.sampled_from("abcdefghij_"), min_size=1, max_size=12)
_counter = itertools.count()


def _numbers_as_floats(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _numbers_as_floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_numbers_as_floats(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    metrics=st.dictionaries(KEYS, NUMBERS, max_size=4),
    tags=st.dictionaries(KEYS, TEXT, max_size=4),
    params=st.dictionaries(
        KEYS, st.one_of(NUMBERS, TEXT, st.lists(NUMBERS, max_size=3)), max_size=4
    ),
)
def test_every_read_gives_back_the_values_and_their_strict_json(
    db_url: str,
    tmp_path: Path,
    metrics: dict[str, Any],
    tags: dict[str, Any],
    params: dict[str, Any],
) -> None:
    cat = Catalog(db_url)
    try:
        n = next(_counter)
        written = cat.register(
            artifact(tmp_path, f"m{n}.bin", f"model {n}"),
            "churn",
            metrics=metrics,
            params=params,
            tags=tags,
        )
        number = written.version
        reads = [
            cat.get(f"churn:{number}"),
            cat.versions("churn", newest_first=True, limit=1)[0],
            cat.versions(where=f"version = {number}", limit=5)[0],
            cat.versions(order_by="created", desc=True, limit=1)[0],
        ]
        for got in reads:
            assert got.version == number
            text = got.to_json_text()  # first: reading a value first decodes (caches) it
            assert text.isascii() and "\x7f" not in text
            assert text == json_text(got.to_json())
            values = (got.metrics, got.params, got.tags)
            if db_url.startswith("postgresql"):
                # JSONB keeps a number, not how it was spelled: 1e20 comes back
                # as the integer 100000000000000000000 (the same number).
                assert _numbers_as_floats(values) == _numbers_as_floats((metrics, params, tags))
            else:
                assert values == (metrics, params, tags)
    finally:
        cat.close()
