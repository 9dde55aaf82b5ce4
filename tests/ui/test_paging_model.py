"""The version table's paging model and column fitting, without Pilot or an app.

`VersionPages` and `load`/`load_page` run here against a real catalog wrapped in a
recorder, so each test also says how many queries a view costs.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from regtui.catalog.service import Catalog
from regtui.demo import _candidate
from regtui.errors import RegtuiError
from regtui.tui.columns import MAX_METRIC_COLUMNS, fit_columns, headline_metrics
from regtui.tui.paging import (
    MAX_PAGES,
    PAGE_SIZE,
    Counted,
    Failed,
    PageRows,
    Query,
    VersionPages,
    load,
    load_page,
)

N = 1200


class Recorder:
    """A catalog that notes each read: ("versions", where, limit, offset) or ("count", where)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.calls: list[tuple[Any, ...]] = []
        self.fail_with: Exception | None = None

    def versions(self, model: str | None = None, **kw: Any) -> list[Any]:
        self.calls.append(("versions", kw.get("where"), kw.get("limit"), kw.get("offset", 0)))
        if self.fail_with is not None:
            raise self.fail_with
        return self.catalog.versions(model, **kw)

    def count_versions(self, model: str | None = None, **kw: Any) -> int:
        self.calls.append(("count", kw.get("where")))
        if self.fail_with is not None:
            raise self.fail_with
        return self.catalog.count_versions(model, **kw)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    path = tmp_path_factory.mktemp("paging") / "big.sqlite"
    with Catalog(path, user="alice") as cat:
        cat.add_candidates([_candidate("big", i) for i in range(1, N + 1)])
        yield cat


@pytest.fixture
def source(big: Catalog) -> Recorder:
    return Recorder(big)


def numbers(pages: VersionPages, start: int, stop: int) -> list[int | None]:
    return [(v.version if (v := pages.row(i)) is not None else None) for i in range(start, stop)]


def shown(source: Recorder, where: str = "", *, pages: VersionPages | None = None) -> VersionPages:
    """What the widget does on `show`: switch the model, load, store the answers."""
    pages = pages or VersionPages()
    kept = pages.show("big", where)
    if kept is not None:
        pages.loaded(kept)
        return pages
    for answer in load(source, pages.query, [0]):
        assert isinstance(answer, Counted)
        pages.counted(answer, refresh=False, visible=[])
        pages.loaded(answer.total)
    return pages


def test_the_model_imports_no_textual() -> None:
    code = (
        "import sys, regtui.tui.paging, regtui.tui.columns, regtui.tui.plain\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'textual')\n"
        "assert not loaded, loaded\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


# ---------------------------------------------------------------- what a view costs


def test_unfiltered_view_is_one_count_and_one_page(source: Recorder) -> None:
    answers = list(load(source, Query("big", ""), [0]))
    assert source.calls == [("count", None), ("versions", None, PAGE_SIZE, 0)]
    assert len(answers) == 1 and isinstance(answers[0], Counted)
    assert answers[0].total == N and list(answers[0].pages) == [0]
    assert [v.version for v in answers[0].pages[0][:2]] == [N, N - 1]


def test_a_refresh_fetches_every_visible_page_after_the_count(source: Recorder) -> None:
    answers = list(load(source, Query("big", ""), [3, 4]))
    assert source.calls == [
        ("count", None),
        ("versions", None, PAGE_SIZE, 3 * PAGE_SIZE),
        ("versions", None, PAGE_SIZE, 4 * PAGE_SIZE),
    ]
    assert isinstance(answers[0], Counted) and list(answers[0].pages) == [3]
    assert len(answers) == 2 and isinstance(answers[1], PageRows) and answers[1].page == 4
    assert answers[1].rows[0].version == N - 4 * PAGE_SIZE


def test_a_filter_of_a_page_or_less_is_one_query(source: Recorder) -> None:
    where = "version > 1000 and version <= 1080"
    (answer,) = load(source, Query("big", where), [0])
    assert source.calls == [("versions", where, PAGE_SIZE + 1, 0)]  # no count query
    assert answer == Counted(80, {0: answer.pages[0]}) and answer.exact
    pages = VersionPages()
    pages.show("big", where)
    pages.counted(answer, refresh=False, visible=[])
    pages.loaded(answer.total)
    assert numbers(pages, 0, 80) == list(range(1080, 1000, -1))
    assert not pages.counting


def test_a_filter_matching_nothing_still_has_a_first_page(source: Recorder) -> None:
    (answer,) = load(source, Query("big", "version > 99999"), [0])
    assert answer == Counted(0, {0: []})


@pytest.mark.parametrize("matching", [PAGE_SIZE + 1, 2 * PAGE_SIZE + 7, N - 50])
def test_a_larger_filter_shows_its_first_page_before_its_count(
    source: Recorder, matching: int
) -> None:
    """The first page is an answer of its own, before the count (the slow part of a
    broad filter): the table paints it while it says it is still counting."""
    where = f"version > {N - matching}"
    answers = load(source, Query("big", where), [0])
    early = next(answers)
    assert source.calls == [("versions", where, PAGE_SIZE + 1, 0)]  # nothing counted yet
    assert isinstance(early, Counted) and not early.exact
    assert early.total == PAGE_SIZE and [v.version for v in early.pages[0]][:1] == [N]
    pages = VersionPages()
    pages.show("big", where)
    pages.counted(early, refresh=False, visible=[])
    pages.loaded(early.total)
    assert pages.counting and pages.version is not None and pages.version.version == N
    pages.cursor = 3  # the person moves on meanwhile
    (exact,) = list(answers)
    assert source.calls[1:] == [("count", where)]
    assert isinstance(exact, Counted) and exact.exact and exact.total == matching
    pages.counted(exact, refresh=False, visible=[])
    pages.loaded(exact.total)
    assert not pages.counting and pages.total == matching and pages.cursor == 3
    assert pages.request(1)  # further pages come as they are scrolled to


def test_no_model_is_no_rows_and_no_page_query(source: Recorder) -> None:
    assert load_page(source, Query(None, ""), 0) == PageRows(0, [])
    assert source.calls == []


def test_a_failing_query_is_an_answer_not_silence(source: Recorder) -> None:
    source.fail_with = RegtuiError("filter: unexpected '>' at column 14")
    assert list(load(source, Query("big", ""), [0])) == [
        Failed("filter: unexpected '>' at column 14")
    ]
    assert load_page(source, Query("big", ""), 2) == Failed("filter: unexpected '>' at column 14")
    source.fail_with = KeyError("boom")
    assert load_page(source, Query("big", ""), 2) == Failed("internal error: KeyError: 'boom'")


def test_a_later_page_that_fails_ends_the_answers(source: Recorder) -> None:
    answers = load(source, Query("big", ""), [0, 1, 2])
    assert isinstance(next(answers), Counted)
    source.fail_with = RegtuiError("database is locked")
    assert list(answers) == []  # asked again when drawn


# ---------------------------------------------------------------- the model's state


def test_rows_cursor_and_fetching_follow_the_answers(source: Recorder) -> None:
    pages = VersionPages()
    assert not pages.fetching  # no model: nothing is on its way
    pages.show("big")
    assert pages.total is None and pages.fetching and pages.version is None
    for answer in load(source, pages.query, [0]):
        assert isinstance(answer, Counted)
        pages.counted(answer, refresh=False, visible=[])
    assert pages.loaded(N) == (N - 1) // PAGE_SIZE  # End's page is worth fetching ahead
    assert pages.version is not None and pages.version.version == N and not pages.fetching
    assert pages.metric_names == ["auc", "latency_ms", "loss"]
    assert pages.row(PAGE_SIZE) is None and pages.row(-1) is None and pages.row(N) is None
    pages.cursor = pages.clamp(PAGE_SIZE + 5) or 0
    assert pages.fetching  # its page is not stored yet
    assert pages.request(1) and not pages.request(1)  # asked once while on its way
    (rows,) = [load_page(source, pages.query, 1)]
    assert isinstance(rows, PageRows)
    pages.store(rows.page, rows.rows)
    assert not pages.request(1)  # stored
    assert pages.version is not None and pages.version.version == N - PAGE_SIZE - 5
    assert pages.clamp(-3) == 0 and pages.clamp(N + 7) == N - 1
    assert len(pages.loaded_versions()) == 2 * PAGE_SIZE


def test_nothing_is_requested_before_the_count() -> None:
    pages = VersionPages()
    pages.show("big")
    assert not pages.request(0)
    pages.failed("catalog is gone")
    assert pages.total == 0 and pages.error == "catalog is gone" and not pages.fetching


def test_an_answer_to_a_replaced_query_is_recognised(source: Recorder) -> None:
    pages = VersionPages()
    pages.show("big")
    first = pages.generation
    pages.show("big", "version <= 10")
    assert not pages.is_current(first) and pages.is_current(pages.generation)


def test_at_most_max_pages_are_kept_oldest_stored_first_out() -> None:
    pages = VersionPages()
    pages.show("big")
    pages.loaded((MAX_PAGES + 5) * PAGE_SIZE)
    for page in range(MAX_PAGES + 1):
        pages.store(page, [])
    assert not pages.has_page(0) and pages.has_page(1) and pages.has_page(MAX_PAGES)


def test_clearing_a_filter_shows_the_kept_rows_with_no_query(source: Recorder) -> None:
    pages = shown(source)
    pages = shown(source, "version <= 10", pages=pages)
    assert pages.total == 10
    source.calls.clear()
    assert pages.show("big", "") == N  # the kept count: nothing to load
    pages.loaded(N)
    assert source.calls == [] and numbers(pages, 0, 2) == [N, N - 1]
    assert pages.metric_names == ["auc", "latency_ms", "loss"]


def test_a_kept_view_is_dropped_by_a_change_or_another_model(source: Recorder) -> None:
    pages = shown(source, "version <= 10", pages=shown(source))
    assert pages.reload()  # the catalog changed
    assert pages.show("big", "") is None  # fetched again
    pages = shown(source, "version <= 10", pages=shown(source))
    pages.show("other", "")
    assert pages.show("big", "") is None
    pages = shown(source)
    pages.failed("locked")
    pages.show("big", "version <= 10")
    assert pages.show("big", "") is None  # a failed view is never kept


def test_reload_with_nothing_shown_fetches_nothing() -> None:
    assert not VersionPages().reload()


def test_a_refresh_keeps_visible_pages_and_the_cursor_on_its_version(source: Recorder) -> None:
    pages = shown(source)
    for page in (1, 5):
        pages.store(page, source.catalog.versions("big", newest_first=True, limit=PAGE_SIZE))
    pages.cursor = 7
    pages.metric_names = ["auc"]
    # three versions arrive: the same versions now sit three rows lower
    first = pages.loaded_versions()[:PAGE_SIZE]
    pages.counted(Counted(N + 3, {0: first}), refresh=True, visible=[0, 1])
    assert pages.has_page(0) and pages.has_page(1) and not pages.has_page(5)
    assert pages.cursor == 10 and pages.total == N + 3
    assert pages.metric_names == ["auc"]  # kept on a refresh, not recomputed
    pages.counted(Counted(2, {0: first[:2]}), refresh=True, visible=[0])
    assert pages.cursor == 0  # rows went away: shifted up, still on a row


def test_loaded_keeps_the_cursor_on_a_row_and_fetches_ahead_only_unfiltered() -> None:
    pages = VersionPages()
    pages.show("big")
    pages.cursor = 50
    assert pages.loaded(20) is None and pages.cursor == 19
    assert pages.loaded(PAGE_SIZE * 3) == 2
    pages.store(2, [])
    assert pages.loaded(PAGE_SIZE * 3) is None  # already stored
    pages.show("big", "version > 3")
    assert pages.loaded(PAGE_SIZE * 3) is None  # filtered: End waits for its page


def test_pages_near_a_page_edge_are_warmed_and_visible_pages_include_the_cursor() -> None:
    pages = VersionPages()
    pages.show("big")
    pages.loaded(5 * PAGE_SIZE)
    assert pages.neighbours_to_warm(PAGE_SIZE) == [0, 2]
    assert pages.neighbours_to_warm(2 * PAGE_SIZE - 1) == [0, 2]
    assert pages.neighbours_to_warm(PAGE_SIZE + 5) == []
    assert pages.neighbours_to_warm(0) == [1]
    pages.store(2, [])
    assert pages.neighbours_to_warm(PAGE_SIZE) == [0]
    pages.cursor = 4 * PAGE_SIZE
    assert pages.visible_pages(95, 10) == [0, 1, 4]
    assert pages.visible_pages(0, 0) == [0, 4]


def test_marking_toggles_the_version_under_the_cursor(source: Recorder) -> None:
    pages = VersionPages()
    assert pages.toggle_mark() is None and pages.marked is None
    pages = shown(source)
    v = pages.toggle_mark()
    assert v is not None and v.version == N and pages.marked == v
    assert pages.toggle_mark() is None and pages.marked_id is None


# ---------------------------------------------------------------- columns


def test_narrow_tables_drop_columns_by_priority_and_keep_their_order() -> None:
    titles = [c.title for c in fit_columns(40, ["auc", "loss"], 6)]
    assert titles == ["#", "auc", "approval", "stages"]  # created (16) no longer fits
    wide = [c.title for c in fit_columns(160, ["auc", "loss"], 6)]
    assert wide == ["#", "created", "format", "size", "auc", "loss", "approval", "stages", ""]
    assert [c.title for c in fit_columns(3, [], 6)] == ["#"]  # never nothing


def test_columns_are_recomputed_only_when_what_they_depend_on_changes() -> None:
    pages = VersionPages()
    pages.total = 99
    first = pages.columns(120)
    assert pages.columns(120) is first
    pages.metric_names = ["auc"]
    second = pages.columns(120)
    assert second is not first and "auc" in [c.title for c in second]
    pages.total = 100  # one more digit
    assert pages.columns(120) is not second


def test_headline_metrics_are_the_commonest_in_name_order(source: Recorder) -> None:
    rows = source.catalog.versions("big", newest_first=True, limit=3)
    assert headline_metrics(rows) == ["auc", "latency_ms", "loss"]
    assert headline_metrics([]) == []
    counts = {"f": 6, "e": 5, "a": 4, "d": 4, "c": 3, "b": 1}
    fake = [SimpleNamespace(metrics={k: 0.0 for k, n in counts.items() if i < n}) for i in range(6)]
    assert MAX_METRIC_COLUMNS == 4
    assert headline_metrics(fake) == ["a", "d", "e", "f"]  # type: ignore[arg-type]
