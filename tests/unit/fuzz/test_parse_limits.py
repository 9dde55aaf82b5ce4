"""The JSON and YAML pre-scans (regtui.inspect.limits) against the structure they count.

Generated documents, with the limits lowered: the pre-scan must refuse every
document past a limit (objects/arrays, values, nesting) and pass every document
within them. Its count comes from raw bytes, so strings holding brackets or
commas may only make it stricter, never let a deeper document through.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no stubs installed
from hypothesis import given, settings
from hypothesis import strategies as st

from regtui.inspect import limits
from regtui.inspect.bounds import BadContent
from regtui.inspect.limits import OverLimit, check_json, check_yaml, loads_json
from tests.unit.fuzz.support import fuzz_settings

PLAIN = st.text(alphabet="abc xyz_-.:", max_size=8)  # no brackets, commas or quotes
TRICKY = st.text(alphabet='ab[]{}",\\:\n\t', max_size=12)  # JSON escapes what it must


def documents(strings: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), strings)
    return st.recursive(
        scalars,
        lambda kids: st.one_of(
            st.lists(kids, max_size=6), st.dictionaries(strings, kids, max_size=6)
        ),
        max_leaves=60,
    )


def shape(doc: Any, depth: int = 0) -> tuple[int, int, int, int]:
    """(containers, values, non-empty containers, deepest nesting) of a document."""
    if isinstance(doc, list | dict):
        kids = list(doc.values()) if isinstance(doc, dict) else doc
        containers, values, nonempty, deepest = 1, 1, int(bool(kids)), depth + 1
        for kid in kids:
            c, v, n, d = shape(kid, depth + 1)
            containers, values, nonempty = containers + c, values + v, nonempty + n
            deepest = max(deepest, d)
        return containers, values, nonempty, deepest
    return 0, 1, 0, depth


def yaml_nodes(doc: Any) -> int:
    """Parser events of a document's nodes: one per scalar (keys too), two per
    collection (its start and end)."""
    if isinstance(doc, dict):
        return 2 + len(doc) + sum(yaml_nodes(v) for v in doc.values())
    if isinstance(doc, list):
        return 2 + sum(yaml_nodes(v) for v in doc)
    return 1


@contextmanager
def lowered(**values: int) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in values.items():
            mp.setattr(limits, name, value)
        yield


def _refused(call: Any) -> bool:
    try:
        call()
    except OverLimit as exc:
        assert "limit" in str(exc)
        return True
    return False


@settings(fuzz_settings(150), deadline=None)  # work is counted, not timed
@given(documents(PLAIN), st.sampled_from([None, 2]), st.integers(1, 12), st.integers(1, 40))
def test_json_prescan_refuses_exactly_the_documents_past_a_limit(
    doc: Any, indent: int | None, max_depth: int, max_containers: int
) -> None:
    text = json.dumps(doc, indent=indent).encode()
    containers, values, nonempty, deepest = shape(doc)
    items = containers + (values - 1 - nonempty)  # objects/arrays plus separating commas
    over = containers > max_containers or items > 3 * max_containers or deepest > max_depth
    with lowered(
        MAX_JSON_DEPTH=max_depth,
        MAX_JSON_CONTAINERS=max_containers,
        MAX_JSON_ITEMS=3 * max_containers,
    ):
        assert _refused(lambda: check_json(text, "doc")) == over, (text, shape(doc))


@settings(fuzz_settings(150), deadline=None)  # work is counted, not timed
@given(documents(TRICKY), st.integers(1, 12))
def test_json_nesting_is_counted_outside_strings(doc: Any, max_depth: int) -> None:
    text = json.dumps(doc).encode()
    deepest = shape(doc)[3]
    with lowered(MAX_JSON_DEPTH=max_depth):
        assert _refused(lambda: check_json(text, "doc")) == (deepest > max_depth), text


@settings(fuzz_settings(100), deadline=None)  # work is counted, not timed
@given(documents(PLAIN), st.booleans(), st.integers(1, 12), st.integers(5, 200))
def test_yaml_prescan_refuses_exactly_the_documents_past_a_limit(
    doc: Any, flow: bool, max_depth: int, max_events: int
) -> None:
    text = yaml.safe_dump(doc, default_flow_style=flow)
    deepest = shape(doc)[3]
    events = 4 + yaml_nodes(doc)  # stream and document marks, then the nodes
    over = events > max_events or deepest > max_depth
    with lowered(MAX_YAML_DEPTH=max_depth, MAX_YAML_EVENTS=max_events):
        assert _refused(lambda: check_yaml(text, "doc")) == over, text


@pytest.mark.parametrize(
    "text",
    ["a: &x 1\nb: *x\n", "- &a [1]\n- *a\n", "&k a: 1\n"],
)
def test_yaml_anchors_and_aliases_are_refused_before_any_node_is_built(text: str) -> None:
    with pytest.raises(BadContent, match="anchors/aliases"):
        check_yaml(text, "doc")


@settings(fuzz_settings(60), deadline=None)  # work is counted, not timed
@given(st.integers(1, 400), st.booleans(), st.sampled_from(["[{}]", '{{"n": [{}], "k": 0.5}}']))
def test_json_integers_too_long_to_convert_cheaply_are_infinite(
    digits: int, negative: bool, template: str
) -> None:
    """Decimal-to-int conversion is quadratic: an integer past MAX_JSON_DIGITS is
    never converted (read as infinite, which finiteness tests drop); shorter ones
    and everything around them parse as json.loads has them."""
    number = ("-" if negative else "") + "7" * digits
    doc = loads_json(template.format(number).encode(), "doc")
    value = doc[0] if isinstance(doc, list) else doc["n"][0]
    if digits > limits.MAX_JSON_DIGITS:
        assert value == (float("-inf") if negative else float("inf"))
    else:
        assert value == int(number)
    if isinstance(doc, dict):
        assert doc["k"] == 0.5  # the rest of the document is kept
