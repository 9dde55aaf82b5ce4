"""The version table's paging model: plain Python, no Textual.

What is loaded (pages of `PAGE_SIZE` rows, a bounded number kept), which pages are
being fetched, the row count, the cursor and the marked version, and the columns
that fit a width. `VersionTable` renders what this says and runs `load`/`load_page`
in thread workers; each answer carries the generation it was asked for, so an
answer to a query that has since been replaced is dropped.

A filter's first page is asked for alone and shown at once: counting every match
of a broad filter takes far longer (~180 ms at 100k versions) than walking an index
for its first rows (~10 ms), so the count follows, and until it comes the table
knows only that there are more ("100+ versions, counting…"). A filter that matches
no more than a page costs that one query. The unfiltered view is put aside while a
filter is shown, so clearing the filter shows it again with no query (until the
catalog changes).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from regtui.catalog.records import VersionInfo
from regtui.errors import RegtuiError
from regtui.tui.columns import Column, fit_columns, headline_metrics

PAGE_SIZE = 100
MAX_PAGES = 40  # cached pages (4,000 rows): plenty for smooth scrolling, bounded memory


@dataclass(frozen=True)
class Query:
    """What the table shows: the versions of `model` matching `where`, or with
    `everywhere`, the matching versions of every model (then `model` is ignored)."""

    model: str | None
    where: str
    everywhere: bool = False

    @property
    def scope(self) -> str | None:
        """The model the catalog is asked about (None: all of them)."""
        return None if self.everywhere else self.model

    @property
    def empty(self) -> bool:
        """Nothing to ask: no model selected and not searching every model."""
        return self.model is None and not self.everywhere


class VersionSource(Protocol):
    """What the table reads (the catalog service)."""

    def versions(
        self,
        model: str | None = None,
        *,
        where: str | None = None,
        newest_first: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[VersionInfo]: ...

    def count_versions(self, model: str | None = None, *, where: str | None = None) -> int: ...


# ------------------------------------------------------------------ answers


@dataclass(frozen=True)
class Counted:
    """The row count, with the first visible page. Not `exact`: a filter's first page
    came before its count, and there are more than `total` rows."""

    total: int
    pages: dict[int, list[VersionInfo]]
    exact: bool = True


@dataclass(frozen=True)
class PageRows:
    page: int
    rows: list[VersionInfo]


@dataclass(frozen=True)
class Failed:
    error: str


def fetch_page(source: VersionSource, query: Query, page: int) -> list[VersionInfo]:
    if query.empty:
        return []
    return source.versions(
        query.scope,
        where=query.where or None,
        newest_first=True,
        limit=PAGE_SIZE,
        offset=page * PAGE_SIZE,
    )


def first_counts(source: VersionSource, query: Query, visible: list[int]) -> Iterator[Counted]:
    """The row count and the first visible page: for a filter, its first page on its
    own first (exact when it is all), then the count."""
    if query.empty:
        yield Counted(0, {0: []})
        return
    first = visible[0] if visible else 0
    if query.where:
        rows = source.versions(
            query.scope, where=query.where, newest_first=True, limit=PAGE_SIZE + 1
        )
        if len(rows) <= PAGE_SIZE:
            yield Counted(len(rows), {0: rows})
            return
        yield Counted(PAGE_SIZE, {0: rows[:PAGE_SIZE]}, exact=False)
        total = source.count_versions(query.scope, where=query.where)
        yield Counted(total, {0: rows[:PAGE_SIZE]})
        return
    total = source.count_versions(query.scope)
    yield Counted(total, {first: fetch_page(source, query, first)})


def load(
    source: VersionSource, query: Query, visible: list[int]
) -> Iterator[Counted | PageRows | Failed]:
    """What a (re)load answers, in order: the count (for a filter, its first page
    and then the count), then the other visible pages.

    A failing count is an answer (the table must not stay at "loading…"); a later
    page that fails with a regtui error just ends the answers (it is asked again
    when drawn)."""
    counted: Counted | None = None
    try:
        for counted in first_counts(source, query, visible):
            yield counted
    except Exception as exc:
        yield Failed(one_line(exc))
        return
    assert counted is not None
    total, pages = counted.total, counted.pages
    for page in [p for p in visible if p not in pages and p * PAGE_SIZE < total]:
        try:
            rows = fetch_page(source, query, page)
        except RegtuiError:
            return
        yield PageRows(page, rows)


def load_page(source: VersionSource, query: Query, page: int) -> PageRows | Failed:
    try:
        return PageRows(page, fetch_page(source, query, page))
    except Exception as exc:  # shown, never left at "loading…"
        return Failed(one_line(exc))


def one_line(exc: Exception) -> str:
    """What a failed query shows: the message of a regtui error, else the kind of
    failure (a bug, but the table must say so rather than stay at "loading…")."""
    if isinstance(exc, RegtuiError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"


# ------------------------------------------------------------------ the model


@dataclass
class _Kept:
    """An unfiltered view put aside while a filter is shown (until the catalog changes)."""

    query: Query
    total: int
    pages: OrderedDict[int, list[VersionInfo]]
    metric_names: list[str]


class VersionPages:
    """The state behind the version table; every method is cheap and never does I/O."""

    def __init__(self) -> None:
        self.query = Query(None, "")
        self.total: int | None = None  # None until the count arrives
        # The total is a lower bound: a filter's first page came before its count.
        self.counting = False
        self.metric_names: list[str] = []
        self.cursor = 0
        self.marked_id: int | None = None
        self.error: str | None = None
        self.generation = 0
        # Stored pages, oldest stored first; past MAX_PAGES the oldest go.
        self._pages: OrderedDict[int, list[VersionInfo]] = OrderedDict()
        self._pending: set[int] = set()
        self._kept: _Kept | None = None
        self._columns_for: tuple[tuple[int, tuple[str, ...], int, bool], list[Column]] | None = None

    # ------------------------------------------------------------ queries

    def show(self, model: str | None, where: str = "", *, everywhere: bool = False) -> int | None:
        """Switch to `model`/`where` (every model's versions with `everywhere`): the
        cursor goes to the top and the rows are forgotten. Returns the row count when
        the rows were kept aside (clearing a filter): then nothing needs fetching.
        Else `load` is due."""
        query = Query(model, where, everywhere)
        old = self.query
        if (
            (where or everywhere)
            and not old.where
            and not old.everywhere
            and old.model == model
            and self.total is not None
        ):
            if self.error is None:
                # Clearing the filter (esc) then shows these rows at once, with no
                # query and no frame of "loading…" between.
                self._kept = _Kept(old, self.total, self._pages.copy(), list(self.metric_names))
        elif self._kept is not None and self._kept.query.model != model:
            self._kept = None
        self.query = query
        self.generation += 1
        self._pages.clear()
        self._pending.clear()
        self.total = None
        self.counting = False
        self.error = None
        self.cursor = 0
        kept, self._kept = self._kept, None
        if kept is not None and kept.query == query:
            self._pages = kept.pages
            self.metric_names = kept.metric_names
            return kept.total
        self._kept = kept
        return None

    def reload(self) -> bool:
        """The catalog changed: True if the count and visible rows should be fetched again."""
        self._kept = None  # a kept view may be stale
        return not (self.query.empty and self.total is None)

    def is_current(self, generation: int) -> bool:
        return generation == self.generation

    # ------------------------------------------------------------ answers

    def counted(self, answer: Counted, *, refresh: bool, visible: list[int]) -> None:
        """The count arrived (with some pages). `visible`: the pages on screen, kept on
        a refresh while the others, which may be stale now, are dropped."""
        old_total = None if self.counting else self.total
        self.total = answer.total
        self.counting = not answer.exact
        self.error = None
        if refresh:
            keep = set(visible) | set(answer.pages)
            for page in list(self._pages):
                if page not in keep:
                    del self._pages[page]
            self._pending.clear()
        for page, rows in sorted(answer.pages.items()):
            self.store(page, rows)
        if not refresh or not self.metric_names:
            first = answer.pages[min(answer.pages)] if answer.pages else []
            self.metric_names = headline_metrics(first)
        # Newest first: new versions push the rows down; keep the cursor on its version.
        if refresh and old_total not in (None, answer.total) and self.cursor > 0:
            shift = answer.total - (old_total or 0)
            self.cursor = min(max(self.cursor + shift, 0), answer.total - 1)

    def loaded(self, total: int) -> int | None:
        """`total` rows are known: keep the cursor on one. Returns the last page when
        it is worth fetching ahead (End is a common key and the last page of an
        unfiltered list a cheap number-range query, ~3 ms)."""
        self.total = total
        if total and self.cursor >= total:
            self.cursor = total - 1
        last = (total - 1) // PAGE_SIZE
        if not self.query.where and total > PAGE_SIZE and last not in self._pages:
            return last
        return None

    def store(self, page: int, rows: list[VersionInfo]) -> None:
        self._pending.discard(page)
        self._pages[page] = rows
        self._pages.move_to_end(page)
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)

    def failed(self, error: str) -> None:
        self._pending.clear()
        self.error = error
        if self.total is None:
            self.total = 0

    def request(self, page: int) -> bool:
        """True if `page` should be fetched now (not stored, not on its way, count known)."""
        if page in self._pages or page in self._pending or self.total is None:
            return False
        self._pending.add(page)
        return True

    # ------------------------------------------------------------ rows

    def row(self, index: int) -> VersionInfo | None:
        if self.total is None or not 0 <= index < self.total:
            return None
        rows = self._pages.get(index // PAGE_SIZE)
        if rows is None:
            return None
        offset = index % PAGE_SIZE
        return rows[offset] if offset < len(rows) else None

    def has_page(self, page: int) -> bool:
        return page in self._pages

    def loaded_versions(self) -> list[VersionInfo]:
        return [v for rows in self._pages.values() for v in rows]

    def neighbours_to_warm(self, index: int) -> list[int]:
        """Pages next to the one holding `index` that scrolling will need soon (asked
        for when a page's first or last row is drawn)."""
        if self.total is None or index % PAGE_SIZE not in (0, PAGE_SIZE - 1):
            return []
        page = index // PAGE_SIZE
        return [
            near
            for near in (page - 1, page + 1)
            if 0 <= near * PAGE_SIZE < self.total and near not in self._pages
        ]

    def visible_pages(self, top: int, height: int) -> list[int]:
        """Pages of rows `top`..`top + height`, and the cursor's page."""
        height = max(height, 1)
        pages = list(range(top // PAGE_SIZE, (top + height) // PAGE_SIZE + 1))
        cursor_page = self.cursor // PAGE_SIZE
        if cursor_page not in pages:
            pages.append(cursor_page)
        return pages

    # ------------------------------------------------------------ cursor and mark

    @property
    def version(self) -> VersionInfo | None:
        """The version under the cursor (None if its page is not loaded yet)."""
        return self.row(self.cursor)

    @property
    def fetching(self) -> bool:
        """True while the row under the cursor is being fetched (not when there is none)."""
        if self.error is not None or self.query.empty:
            return False
        if self.total is None:
            return True
        return 0 <= self.cursor < self.total and self.row(self.cursor) is None

    def clamp(self, index: int) -> int | None:
        """`index` moved onto a row, or None when there are no rows."""
        if not self.total:
            return None
        return max(0, min(index, self.total - 1))

    @property
    def marked(self) -> VersionInfo | None:
        if self.marked_id is None:
            return None
        for rows in self._pages.values():
            for v in rows:
                if v.id == self.marked_id:
                    return v
        return None

    def toggle_mark(self) -> VersionInfo | None:
        """Mark the version under the cursor, or unmark it; the marked one, else None."""
        v = self.version
        if v is None:
            return None
        self.marked_id = None if self.marked_id == v.id else v.id
        return v if self.marked_id is not None else None

    # ------------------------------------------------------------ columns

    def columns(self, width: int) -> list[Column]:
        """The columns for `width`: the same list object until width, metric names or
        the number's width change (the widget keys its drawn lines on it)."""
        everywhere = self.query.everywhere
        key = (width, tuple(self.metric_names), len(str(self.total or 0)), everywhere)
        if self._columns_for is None or self._columns_for[0] != key:
            columns = fit_columns(width, self.metric_names, self.total, with_model=everywhere)
            self._columns_for = (key, columns)
        return self._columns_for[1]
