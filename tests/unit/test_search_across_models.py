"""Searching across models: `Catalog.versions(model=None, where=, order_by=, desc=,
limit=, offset=)` gives exactly what a brute-force Python filter and sort over every
version gives, on SQLite and PostgreSQL, and the CLI's quick path (stdlib sqlite3)
orders alike.

Each example adds generated versions (names that quote and differ only in case,
missing values, ties, text and numbers under one param key, archived versions) to a
catalog that grows across examples, then asks generated questions of it. A filtered
first page walks the versions in order before it sorts all matches; the walk's size
is drawn too, so pages found by walking part of the catalog are checked as well as
those that fall back to sorting.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.catalog import queries
from regtui.catalog.quickread import QuickReader
from regtui.catalog.records import VersionInfo
from regtui.catalog.service import Candidate, Catalog
from regtui.errors import FilterError
from regtui.hashing import Digest
from tests.support.hypothesis_runs import examples

# Names that need quoting in a ref, differ only in case, or sort apart by code
# point and by a locale's rules (PostgreSQL's en_US would put 'b' before 'B'?).
MODELS = ["a", "B", "b", "a:b", "z@x", "Ünï", "m m", "_x"]
TEAMS = ["growth", "Growth", "core", "ünï"]
AUCS = [0.1, 0.5, 0.5, 0.9, 0.25]
PARAMS: list[Any] = [1, 2.5, -3, "adam", "Adam", True, False, 10**20, [1], {"k": 1}]
FORMATS = ["onnx", "safetensors", "ONNX"]
ORDER_BY = [None, "model", "version", "created", "size", "format", "framework",
            "metrics.auc", "metrics.loss", "params.lr", "tags.team", "approval"]  # fmt: skip
# The walk a first page takes before it sorts: as shipped (covers these small
# catalogs), and so short that pages are found by walking part of the catalog.
WALKS = [(500, 10), (1, 1), (3, 2)]
_shas = itertools.count()


@dataclass(frozen=True)
class Query:
    model: str | None
    where: str | None
    test: Callable[[VersionInfo], bool]
    order_by: str | None
    desc: bool
    limit: int | None
    offset: int
    include_archived: bool


@st.composite
def new_version(draw: st.DrawFn) -> Candidate:
    n = next(_shas)
    metrics = {}
    if draw(st.booleans()):
        metrics["auc"] = draw(st.sampled_from(AUCS))
    if draw(st.booleans()):
        metrics["loss"] = float(draw(st.integers(0, 3)))
    params = {}
    if draw(st.integers(0, 3)):
        params["lr"] = draw(st.sampled_from(PARAMS))
    tags = {"team": draw(st.sampled_from(TEAMS))} if draw(st.booleans()) else {}
    return Candidate(
        path=Path(f"/runs/m{n}.onnx"),
        model=draw(st.sampled_from(MODELS)),
        digest=Digest(hashlib.sha256(str(n).encode()).hexdigest(), draw(st.integers(1, 4))),
        format=draw(st.sampled_from(FORMATS)),
        framework=draw(st.sampled_from([None, "torch", "keras"])),
        metrics=metrics,
        params=params,
        tags=tags,
    )


def _get(v: VersionInfo, field: str) -> Any:
    head, _, key = field.partition(".")
    return {"metrics": v.metrics, "tags": v.tags, "params": v.params}[head].get(key)


OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@st.composite
def condition(draw: st.DrawFn, depth: int = 0) -> tuple[str, Callable[[VersionInfo], bool]]:
    """A filter and the same test in Python. Only fields whose comparisons are
    never NULL (index-backed metrics and tags, plain columns), so `not` is plain
    negation on both sides."""
    kind = draw(
        st.sampled_from(["auc", "team", "version", "model"] + ["and", "or", "not"] * (depth < 2))
    )
    if kind in ("and", "or"):
        (lt, lf), (rt, rf) = draw(condition(depth + 1)), draw(condition(depth + 1))
        if kind == "and":
            return f"({lt}) and ({rt})", lambda v: lf(v) and rf(v)
        return f"({lt}) or ({rt})", lambda v: lf(v) or rf(v)
    if kind == "not":
        text, f = draw(condition(depth + 1))
        return f"not ({text})", lambda v: not f(v)
    op = draw(st.sampled_from(list(OPS)))
    if kind == "auc":
        x = draw(st.sampled_from(AUCS))
        return (
            f"metrics.auc {op} {x}",
            lambda v: "auc" in v.metrics and OPS[op](v.metrics["auc"], x),
        )
    if kind == "version":
        n = draw(st.integers(0, 6))
        return f"version {op} {n}", lambda v: OPS[op](v.version, n)
    eq = draw(st.sampled_from(["=", "!="]))  # text: equality only (< > follow collation)
    if kind == "team":
        t = draw(st.sampled_from(TEAMS))
        return f"tags.team {eq} '{t}'", lambda v: "team" in v.tags and OPS[eq](v.tags["team"], t)
    m = draw(st.sampled_from(MODELS))
    return f"model {eq} '{m}'", lambda v: OPS[eq](v.model, m)


@st.composite
def query(draw: st.DrawFn) -> Query:
    where = draw(st.one_of(st.none(), condition()))
    return Query(
        model=draw(st.sampled_from([None, None, *MODELS])),
        where=where[0] if where else None,
        test=where[1] if where else (lambda v: True),
        order_by=draw(st.sampled_from(ORDER_BY)),
        desc=draw(st.booleans()),
        # Hypothesis draws the first of a list most: a limit, so pages are the rule.
        limit=draw(st.sampled_from([3, 1, None, 2, 7])),
        offset=draw(st.sampled_from([0, 0, 1, 4])),
        include_archived=draw(st.booleans()),
    )


def _params_key(value: Any) -> tuple[int, Any]:
    """params.K's order: numbers by value, then text (booleans as text), then
    anything else (missing, a list, an object)."""
    if isinstance(value, bool):
        return 1, "true" if value else "false"
    if isinstance(value, int | float):
        return 0, float(value)
    if isinstance(value, str):
        return 1, value
    return 2, None


def brute_force(every: list[VersionInfo], q: Query) -> list[str]:
    """What the question asks, in Python: filter, order (stable sorts, least
    significant first), cut."""
    rows = [
        v
        for v in every
        if (q.model is None or v.model == q.model)
        and (q.include_archived or not v.archived)
        and q.test(v)
    ]
    rows.sort(key=lambda v: v.version)
    rows.sort(key=lambda v: v.model)
    if q.order_by is None:
        rows.sort(key=lambda v: v.version, reverse=q.desc)
        rows.sort(key=lambda v: v.model)
    elif q.order_by == "model":
        rows.sort(key=lambda v: v.version)
        rows.sort(key=lambda v: v.model, reverse=q.desc)
    else:
        plain: dict[str, Callable[[VersionInfo], Any]] = {
            "version": lambda v: v.version,
            "created": lambda v: v.created_at,
            "size": lambda v: v.size_bytes,
            "format": lambda v: v.format,
            "framework": lambda v: v.framework,
            "approval": lambda v: v.approval.status,
        }
        if q.order_by in plain:
            groups = [[v for v in rows if plain[q.order_by](v) is not None]]
            groups.append([v for v in rows if plain[q.order_by](v) is None])
            groups[0].sort(key=plain[q.order_by], reverse=q.desc)
        elif q.order_by.startswith("params."):
            keyed = [(v, _params_key(_get(v, q.order_by))) for v in rows]
            groups = [
                sorted((v for v, k in keyed if k[0] == rank), key=lambda v: _params_key(_get(v, q.order_by))[1], reverse=q.desc)  # type: ignore[arg-type]
                for rank in (0, 1)
            ]  # fmt: skip
            groups.append([v for v, k in keyed if k[0] == 2])
        else:
            groups = [
                sorted((v for v in rows if _get(v, q.order_by) is not None), key=lambda v: _get(v, q.order_by), reverse=q.desc),  # type: ignore[arg-type]
                [v for v in rows if _get(v, q.order_by) is None],
            ]  # fmt: skip
        rows = [v for g in groups for v in g]
    rows = rows[q.offset :]
    return [v.ref for v in (rows if q.limit is None else rows[: q.limit])]


@pytest.fixture
def growing(db_url: str) -> tuple[Catalog, str]:
    return Catalog(db_url), db_url


@settings(max_examples=examples(40), deadline=None, suppress_health_check=list(HealthCheck))
@given(
    batch=st.lists(new_version(), min_size=1, max_size=8),
    archive=st.lists(st.integers(0, 7), max_size=2),
    questions=st.lists(query(), min_size=1, max_size=3),
)
def test_versions_across_models_match_a_brute_force_search(
    growing: tuple[Catalog, str],
    batch: list[Candidate],
    archive: list[int],
    questions: list[Query],
) -> None:
    cat, where = growing
    added = [r for r in cat.add_candidates(batch) if r.created]
    for i in archive:
        if i < len(added):
            cat.archive(added[i].version.ref)
    every = cat.versions()
    asked = [
        replace(q, order_by=order_by)
        for q in questions
        if q.model is None or q.model in {v.model for v in every}
        for order_by in ORDER_BY
    ]
    for walk_min, walk_factor in WALKS:
        with (
            mock.patch.object(queries, "WALK_MIN", walk_min),
            mock.patch.object(queries, "WALK_FACTOR", walk_factor),
        ):
            for q in asked:
                _asks(cat, where, every, q)


def _asks(cat: Catalog, db: str, every: list[VersionInfo], q: Query) -> None:
    got = cat.versions(
        q.model,
        where=q.where,
        order_by=q.order_by,
        desc=q.desc,
        limit=q.limit,
        offset=q.offset,
        include_archived=q.include_archived,
    )
    assert [v.ref for v in got] == brute_force(every, q), q
    if q.where is None and q.offset == 0 and q.include_archived:
        _same_through_the_quick_path(db, q, got)


def _same_through_the_quick_path(db: str, q: Query, full: list[VersionInfo]) -> None:
    if db.startswith("postgresql"):
        return
    reader = QuickReader.open(db)
    assert reader is not None
    with reader:
        quick = reader.versions(q.model, order_by=q.order_by, desc=q.desc, limit=q.limit)
    assert [v.to_json() for v in quick] == [v.to_json() for v in full]


def test_every_version_is_searched_and_the_order_is_stable_under_paging(db_url: str) -> None:
    """Pages of a cross-model search, walked with limit/offset, join up to the whole
    result, with no version twice or missing, under a filter and without one."""
    cat = Catalog(db_url)
    cat.add_candidates(
        [
            Candidate(
                path=Path(f"/runs/{i}.onnx"),
                model=MODELS[i % len(MODELS)],
                digest=Digest(hashlib.sha256(f"page{i}".encode()).hexdigest(), i),
                metrics={"auc": AUCS[i % len(AUCS)]},
            )
            for i in range(40)
        ]
    )
    for where, order_by in [(None, None), ("metrics.auc >= 0.5", None), (None, "metrics.auc"),
                            ("metrics.auc >= 0.5", "metrics.auc")]:  # fmt: skip
        whole = [v.ref for v in cat.versions(where=where, order_by=order_by, desc=True)]
        paged = [
            v.ref
            for start in range(0, 45, 6)
            for v in cat.versions(where=where, order_by=order_by, desc=True, limit=6, offset=start)
        ]
        assert paged == whole and len(set(whole)) == len(whole)
        assert len(whole) == cat.count_versions(where=where)


@pytest.mark.parametrize(
    ("field", "hint"),
    [("creatd", "did you mean created?"), ("metric.auc", "did you mean metrics.auc?"),
     ("approvel", "did you mean approval?"), ("metrics", "metrics needs a key"),
     ("version.x", "version takes no key"), ("stage", "several"), ("dataset", "several"),
     ("zzzz", "fields are")],
)  # fmt: skip
def test_a_bad_order_field_is_a_filter_error_with_the_nearest_field(
    sqlite_path: str, field: str, hint: str
) -> None:
    cat = Catalog(sqlite_path)
    with pytest.raises(FilterError) as caught:
        cat.versions(order_by=field)
    assert caught.value.hint is not None and hint in caught.value.hint
    assert str(caught.value).startswith("order by: ") and "\n" not in str(caught.value)


def test_text_orders_by_code_point_under_a_language_collation(pg_server: Any) -> None:
    """A team's PostgreSQL database may collate text by a language's rules (en-US:
    `_x a b B Ünï`); regtui orders names, tags and formats by code point there too,
    as it does on SQLite, so a page means the same on either."""
    import uuid

    name = "t_icu_" + uuid.uuid4().hex[:10]
    pg_server.admin(
        f"CREATE DATABASE \"{name}\" LOCALE_PROVIDER icu ICU_LOCALE 'en-US' "
        "LOCALE 'C.UTF-8' TEMPLATE template0"
    )
    cat = Catalog(pg_server.url(name))
    names = ["b", "B", "a", "_x", "Ünï", "a:b"]
    cat.add_candidates(
        [
            Candidate(
                path=Path(f"/runs/{i}.onnx"),
                model=m,
                digest=Digest(hashlib.sha256(f"icu{i}".encode()).hexdigest(), 1),
                format=m,
                tags={"team": m},
            )
            for i, m in enumerate(names)
        ]
    )
    assert sorted(names) != sorted(names, key=str.lower)  # the collation would differ
    for order_by in (None, "model", "format", "tags.team"):
        assert [v.model for v in cat.versions(order_by=order_by)] == sorted(names)
        assert [v.model for v in cat.versions(order_by=order_by, desc=order_by is not None)] == (
            sorted(names, reverse=order_by is not None)
        )
