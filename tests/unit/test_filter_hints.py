"""A bad filter's FilterError points inside the offending token and suggests the
likely fix: quotes around a bare word where text belongs, a number where one
belongs, the nearest known field for a misspelt one, the operator or `and` that is
missing. Families of generated filters, each placed at a generated offset inside
other conditions, so a column counted from the wrong place shows."""

from __future__ import annotations

import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regtui.catalog.filter import compile_filter
from regtui.catalog.filter_fields import KEYED_FIELDS, PLAIN_FIELDS
from regtui.errors import FilterError, UsageError
from tests.support.hypothesis_runs import examples

KEYWORD = re.compile(r"(and|or|not|like|in|true|false)\b", re.IGNORECASE)
TEXT_FIELDS = ["tags.team", "params.opt", "metadata.arch", 'tags."a b"', "stage", "format",
               "path", "approval", "model", "created_by", "framework", "sha256", "dataset"]  # fmt: skip
NUMBER_FIELDS = ["version", "size", "metrics.auc", "metrics.val-loss", "VERSION"]
BEFORE = ["", "version = 1 and ", "(", "not ", "metrics.auc > 0.5 or (", "format = 'x' and not "]
AFTER = ["", " and version = 1", ")", " or tags.x = 'y'"]

# A bare word as a person types one: a letter, then letters, digits, '_' or '-'.
words = st.from_regex(r"[A-Za-zéüΩ][A-Za-z0-9_\-éüΩ]{0,11}", fullmatch=True).filter(
    lambda w: not KEYWORD.match(w)
)


def error_of(text: str) -> FilterError:
    for dialect in ("sqlite", "postgresql"):
        with pytest.raises(FilterError) as caught:
            compile_filter(text, dialect)
    exc = caught.value
    _holds_its_shape(text, exc)
    return exc


def _holds_its_shape(text: str, exc: FilterError) -> None:
    """One line; the column inside the text (or just past it); the fields a face
    shows survive a pickle."""
    line = str(exc)
    assert "\n" not in line and line.startswith("filter: ")
    assert exc.column is not None and exc.end is not None
    assert 1 <= exc.column < exc.end <= len(text) + 2
    assert f"at column {exc.column}" in line and (exc.hint is None or line.endswith(exc.hint))
    again = pickle.loads(pickle.dumps(exc))
    assert (again.message, again.column, again.end, again.hint, str(again)) == (
        exc.message, exc.column, exc.end, exc.hint, line,
    )  # fmt: skip
    assert isinstance(exc, UsageError)


def pointed_at(text: str, exc: FilterError) -> str:
    assert exc.column is not None and exc.end is not None
    return text[exc.column - 1 : exc.end - 1]


def placed(before: str, middle: str, after: str) -> tuple[str, int]:
    """`middle` among other conditions, and where it starts (0-based)."""
    if after.count(")") > before.count("("):
        after = after.replace(")", "")
    opened = before.count("(") - after.count(")")
    return before + middle + after + ")" * opened, len(before)


@settings(max_examples=examples(200), deadline=None)
@given(
    field=st.sampled_from(TEXT_FIELDS),
    op=st.sampled_from(["=", "!=", "<", ">=", "==", "<>", "like", "not like", "in"]),
    word=words,
    before=st.sampled_from(BEFORE),
    after=st.sampled_from(AFTER),
)
def test_a_bare_word_where_text_belongs_gets_quotes(
    field: str, op: str, word: str, before: str, after: str
) -> None:
    value = f"('x', {word})" if op == "in" else word
    text, start = placed(before, f"{field} {op} {value}", after)
    exc = error_of(text)
    at = text.index(word, start + len(field) + len(op))
    assert exc.column == at + 1 and pointed_at(text, exc) == word
    assert exc.hint is not None and f"'{word}'" in exc.hint and "quotes" in exc.hint


@settings(max_examples=examples(100), deadline=None)
@given(
    field=st.sampled_from(NUMBER_FIELDS),
    op=st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
    value=st.one_of(
        words.map(lambda w: ("bare", w)),
        words.map(lambda w: ("quoted", f"'{w}'")),
        st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{1,3})?", fullmatch=True).map(
            lambda n: ("number in quotes", f"'{n}'")
        ),
    ),
    before=st.sampled_from(BEFORE),
    after=st.sampled_from(AFTER),
)
def test_text_where_a_number_belongs_points_at_the_value(
    field: str, op: str, value: tuple[str, str], before: str, after: str
) -> None:
    kind, shown = value
    text, start = placed(before, f"{field} {op} {shown}", after)
    exc = error_of(text)
    at = text.index(shown, start + len(field) + len(op))
    assert exc.column == at + 1 and pointed_at(text, exc) == shown
    assert exc.hint is not None
    if kind == "number in quotes":
        assert exc.hint == f"drop the quotes: {field} {op} {shown[1:-1]}"
    else:
        assert "number" in exc.message + exc.hint


def _typos(name: str) -> list[str]:
    """`name` with one letter left out, or two neighbours swapped."""
    drops = [name[:i] + name[i + 1 :] for i in range(len(name))]
    swaps = [name[:i] + name[i + 1] + name[i] + name[i + 2 :] for i in range(len(name) - 1)]
    return [t for t in drops + swaps if t and t != name and t[0].isalpha()]


KNOWN = {*PLAIN_FIELDS, *KEYED_FIELDS}
PLAIN_TYPOS = sorted(
    {(t, f) for f in PLAIN_FIELDS if len(f) >= 5 for t in _typos(f) if t.lower() not in KNOWN}
)
KEYED_TYPOS = sorted(
    {(t, f) for f in KEYED_FIELDS for t in _typos(f) if t.lower() not in KNOWN and len(t) >= 4}
)


@pytest.mark.parametrize(("typo", "meant"), PLAIN_TYPOS)
@pytest.mark.parametrize("before", ["", "version = 1 and not ("])
def test_a_misspelt_field_suggests_the_field_it_was_one_slip_from(
    typo: str, meant: str, before: str
) -> None:
    text, start = placed(before, f"{typo} = 'x'", "")
    exc = error_of(text)
    assert exc.column == start + 1 and pointed_at(text, exc) == typo
    # The nearest known field: the one it came from, or one as near (created/created_by).
    near = exc.hint and re.fullmatch(r"did you mean (\w+)\?", exc.hint)
    assert near, exc.hint
    assert (
        near.group(1) == meant or near.group(1).startswith(meant) or meant.startswith(near.group(1))
    )


@pytest.mark.parametrize(("typo", "meant"), KEYED_TYPOS)
def test_a_misspelt_keyed_field_keeps_its_key(typo: str, meant: str) -> None:
    text = f"version > 0 and {typo}.auc_2 > 1"
    exc = error_of(text)
    assert pointed_at(text, exc) == f"{typo}.auc_2"
    assert exc.hint == f"did you mean {meant}.auc_2?"


@pytest.mark.parametrize(
    ("text", "token", "hint"),
    [
        ("tags.team = demo", "demo", "put text in quotes: tags.team = 'demo'"),
        ("metric.auc > 0.9", "metric.auc", "did you mean metrics.auc?"),
        ("approvel = 'approved'", "approvel", "did you mean approval?"),
        ("creatd > '2026-01-01'", "creatd", "did you mean created?"),
        ("metrics = 1", "metrics", "metrics needs a key: metrics.NAME"),
        ("format.onnx = 'x'", "format.onnx", "format takes no key: format = …"),
        ("version => 2", ">", "did you mean >=?"),
        ("version =< 2", "<", "did you mean <=?"),
        ("metrics.auc 0.9", "0.9", "a comparison needs an operator after the field"),
        ("version = 1 format = 'onnx'", "format", "join two conditions with and / or"),
        ("version = 1 && version = 2", "&", "join conditions with and"),
        ("version = 1 || version = 2", "|", "join conditions with or"),
        ("created > yesterday", "yesterday", "put the date in quotes"),
        ("archived = yes", "yes", "archived is true or false"),
        ("archived = 1", "1", "archived = true or archived = false"),
        ("created > 3", "3", "created > '2026-11-01'"),
        ("created > 'last week'", "'last week'", "created > '2026-11-01'"),
        ("stage > 'production'", ">", "stage = '…' or stage != '…'"),
        ("stage = 3", "3", "stage = 'production'"),
        ("metrics.auc > metrics.loss", "metrics.loss", "not with another field"),
        ("tags.team = 'growth", "'", "closing '"),
        ("size like '1%'", "size", "like takes"),
        ("metrics.auc = 'high'", "'high'", "e.g. metrics.auc = 0.9"),
        ("version = 1e999", "1e999", None),
    ],
)
def test_the_usual_slips(text: str, token: str, hint: str | None) -> None:
    exc = error_of(text)
    assert pointed_at(text, exc) == token
    assert (exc.hint is None) if hint is None else (exc.hint is not None and hint in exc.hint)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("version =", "add a value after '='"),
        ("version = 1 and", "add a condition after 'and'"),
        ("(version = 1", "close the parenthesis"),
        ("((version = 1 or version = 2", "add 2 ')'"),
        ("metrics.auc   ", "add an operator and a value after 'metrics.auc'"),
        ("tags.team like", "add a value after 'like'"),
    ],
)
def test_a_filter_that_ends_too_early_points_at_its_end(text: str, hint: str) -> None:
    exc = error_of(text)
    assert exc.message == "ends too early" and exc.column == len(text.rstrip()) + 1
    assert exc.hint is not None and hint in exc.hint


PIECES = [*"ab.=<>!'\"()%, 019é\t\n", "and ", "or ", "not ", "in ", "like ", "tags.", "metrics.",
          "version"]  # fmt: skip


@settings(max_examples=examples(200), deadline=None)
@given(text=st.lists(st.sampled_from(PIECES), max_size=20).map("".join))
def test_every_error_points_inside_the_text_on_one_line(text: str) -> None:
    try:
        compile_filter(text, "sqlite")
    except FilterError as exc:
        _holds_its_shape(text, exc)
