"""Model names as people write them, for property-based tests: 1 … 128 printable
characters (letters of any script, digits, punctuation, symbols, inner spaces)."""

from __future__ import annotations

from hypothesis import strategies as st

from regtui.catalog.refs import MAX_MODEL_NAME

_CHARS = st.characters(exclude_categories=("C", "Z")) | st.just(" ")
# the characters a ref gives a meaning to, drawn often so their quoting is exercised
_MARKS = st.sampled_from([*':@"\\/[]', "models:/"])

MODEL_NAMES = (
    st.lists(_CHARS | _MARKS, min_size=1, max_size=40)
    .map("".join)
    .map(lambda s: s.strip()[:MAX_MODEL_NAME])
    .filter(bool)
)
