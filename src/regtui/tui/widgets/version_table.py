"""A lazy table of versions: only the rows on screen are ever fetched or drawn.

It is a Line-API `ScrollView`: the virtual height is the row count (one
`count_versions` query), `render_line` draws from a small page cache, and a
missing page is fetched by a thread worker (`LIMIT/OFFSET` on the catalog) and
drawn when it arrives. 100,000 versions cost one count and one page of 100.
A filter that matches few versions costs one query: all its rows at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events, on
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from regtui.catalog.records import VersionInfo
from regtui.catalog.service import Catalog
from regtui.errors import RegtuiError
from regtui.tui.safe import clean, fit, human_size, number, short_time

PAGE_SIZE = 100
MAX_PAGES = 40  # cached pages (4,000 rows): plenty for smooth scrolling, bounded memory
MAX_METRIC_COLUMNS = 4
DAMAGE_MARK = "✗"  # before the number of a damaged version (it can never ship)
# A filter is first asked for this many rows (+1). Fewer matches are all of them: the
# count and every page come from that one pass over the filter instead of a count
# query and a page query that each evaluate it again (~50 ms apiece at 100k versions).
SMALL_RESULT = 10 * PAGE_SIZE


@dataclass(frozen=True)
class Query:
    model: str | None
    where: str


@dataclass
class _Kept:
    """An unfiltered view put aside while a filter is shown (until the catalog changes)."""

    query: Query
    total: int
    pages: OrderedDict[int, list[VersionInfo]]
    metric_names: list[str]


@dataclass(frozen=True)
class Column:
    title: str
    width: int
    align: str  # "<" or ">"
    get: Callable[[VersionInfo], str]
    style: Callable[[VersionInfo], str] | None = None


class VersionTable(ScrollView, can_focus=True):
    """Versions of one model (newest first), fetched a page at a time."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "version-table--header",
        "version-table--cursor",
        "version-table--marked",
        "version-table--placeholder",
        "version-table--approved",
        "version-table--rejected",
        "version-table--pending",
        "version-table--stage",
        "version-table--warning",
        "version-table--archived",
        "version-table--damaged",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    @dataclass
    class Highlighted(Message):
        table: VersionTable
        version: VersionInfo | None

        @property
        def control(self) -> VersionTable:
            return self.table

    @dataclass
    class Selected(Message):
        table: VersionTable
        version: VersionInfo

        @property
        def control(self) -> VersionTable:
            return self.table

    @dataclass
    class Loaded(Message):
        """The query ran: `total` rows match."""

        table: VersionTable
        query: Query
        total: int
        metrics: list[str]

        @property
        def control(self) -> VersionTable:
            return self.table

    @dataclass
    class QueryFailed(Message):
        table: VersionTable
        query: Query
        error: str

        @property
        def control(self) -> VersionTable:
            return self.table

    @dataclass
    class _CountArrived(Message):
        generation: int
        total: int
        pages: dict[int, list[VersionInfo]]
        refresh: bool

    @dataclass
    class _PageArrived(Message):
        generation: int
        page: int
        rows: list[VersionInfo]

    @dataclass
    class _Failed(Message):
        generation: int
        error: str

    def __init__(
        self,
        catalog: Catalog,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.catalog = catalog
        self.query_spec = Query(None, "")
        self.total: int | None = None
        self.metric_names: list[str] = []
        self.marked_id: int | None = None
        self._generation = 0
        self._pages: OrderedDict[int, list[VersionInfo]] = OrderedDict()
        self._pending: set[int] = set()
        self._error: str | None = None
        # Render caches. A keystroke repaints every visible line, yet usually only the
        # old and new cursor rows differ: the rest are drawn from here. Styles are
        # cleared by `notify_style_update` (theme, focus, CSS changes).
        self._base_style: Style | None = None
        self._columns_for: tuple[tuple[int, tuple[str, ...], int], list[Column]] | None = None
        self._lines: dict[int, tuple[VersionInfo, tuple[object, ...], Strip]] = {}
        self._kept: _Kept | None = None

    # ------------------------------------------------------------------ public

    def show(self, model: str | None, where: str = "") -> None:
        """Show the versions of `model` matching `where` (the core filter language)."""
        query = Query(model, where)
        old = self.query_spec
        if where and not old.where and old.model == model and self.total is not None:
            if self._error is None:
                # Clearing the filter (esc) then shows these rows at once, with no
                # query and no frame of "loading…" between.
                self._kept = _Kept(old, self.total, self._pages.copy(), list(self.metric_names))
        elif self._kept is not None and self._kept.query.model != model:
            self._kept = None
        self.query_spec = query
        self._generation += 1
        self._pages.clear()
        self._pending.clear()
        self.total = None
        self._error = None
        # The old height stays until the count arrives: collapsing it would hide the
        # scrollbar and relayout the screen now, and show it (and relayout) again then.
        self.scroll_to(y=0, animate=False, immediate=True)
        self.set_reactive(VersionTable.cursor, 0)
        self.refresh()
        kept, self._kept = self._kept, None
        if kept is not None and kept.query == query:
            self._pages = kept.pages
            self.metric_names = kept.metric_names
            self._loaded(kept.total)
            return
        self._kept = kept
        self._run_count(self._generation, self.query_spec, refresh=False)

    def reload(self) -> None:
        """Fetch the count and the visible rows again, keeping what is shown until they arrive."""
        self._kept = None  # the catalog changed: a kept view may be stale
        if self.query_spec.model is None and self.total is None:
            return
        self._run_count(self._generation, self.query_spec, refresh=True)

    @property
    def version(self) -> VersionInfo | None:
        """The version under the cursor (None if its page is not loaded yet)."""
        return self.row(self.cursor)

    @property
    def fetching(self) -> bool:
        """True while the row under the cursor is being fetched (not when there is none)."""
        if self._error is not None or self.query_spec.model is None:
            return False
        if self.total is None:
            return True
        return 0 <= self.cursor < self.total and self.row(self.cursor) is None

    @property
    def marked(self) -> VersionInfo | None:
        if self.marked_id is None:
            return None
        for rows in self._pages.values():
            for v in rows:
                if v.id == self.marked_id:
                    return v
        return None

    def row(self, index: int) -> VersionInfo | None:
        if self.total is None or not 0 <= index < self.total:
            return None
        rows = self._pages.get(index // PAGE_SIZE)
        if rows is None:
            return None
        offset = index % PAGE_SIZE
        return rows[offset] if offset < len(rows) else None

    def loaded_versions(self) -> list[VersionInfo]:
        return [v for rows in self._pages.values() for v in rows]

    def toggle_mark(self) -> VersionInfo | None:
        v = self.version
        if v is None:
            return None
        self.marked_id = None if self.marked_id == v.id else v.id
        self.refresh()
        return v if self.marked_id is not None else None

    # ----------------------------------------------------------------- workers

    def _run_count(self, generation: int, query: Query, *, refresh: bool) -> None:
        visible = self._visible_pages() if refresh else [0]

        def work() -> None:
            try:
                total, pages = self._count_and_pages(query, visible)
            except Exception as exc:  # shown, never left at "loading…"
                self.post_message(self._Failed(generation, _one_line(exc)))
                return
            self.post_message(self._CountArrived(generation, total, pages, refresh))
            rest = [p for p in visible if p not in pages and p * PAGE_SIZE < total]
            for page in rest:
                try:
                    rows = self._fetch(query, page)
                except RegtuiError:
                    return
                self.post_message(self._PageArrived(generation, page, rows))

        self.run_worker(
            work, thread=True, group="version-count", exclusive=True, exit_on_error=False
        )

    def _count_and_pages(
        self, query: Query, visible: list[int]
    ) -> tuple[int, dict[int, list[VersionInfo]]]:
        """The row count and the first visible page (or all pages of a small filter result)."""
        if query.model is not None and query.where:
            rows = self.catalog.versions(
                query.model, where=query.where, newest_first=True, limit=SMALL_RESULT + 1
            )
            pages = {
                i // PAGE_SIZE: rows[i : i + PAGE_SIZE]
                for i in range(0, min(len(rows), SMALL_RESULT), PAGE_SIZE)
            }
            if len(rows) <= SMALL_RESULT:
                return len(rows), pages or {0: []}
            return self.catalog.count_versions(query.model, where=query.where), pages
        total = self.catalog.count_versions(query.model, where=query.where or None)
        first = visible[0] if visible else 0
        return total, {first: self._fetch(query, first)}

    def _fetch(self, query: Query, page: int) -> list[VersionInfo]:
        if query.model is None:
            return []
        return self.catalog.versions(
            query.model,
            where=query.where or None,
            newest_first=True,
            limit=PAGE_SIZE,
            offset=page * PAGE_SIZE,
        )

    def _request_page(self, page: int) -> None:
        if page in self._pages or page in self._pending or self.total is None:
            return
        self._pending.add(page)
        generation, query = self._generation, self.query_spec

        def work() -> None:
            try:
                rows = self._fetch(query, page)
            except Exception as exc:  # shown, never left at "loading…"
                self.post_message(self._Failed(generation, _one_line(exc)))
                return
            self.post_message(self._PageArrived(generation, page, rows))

        self.run_worker(work, thread=True, group="version-pages", exit_on_error=False)

    @on(_CountArrived)
    def _count_arrived(self, message: _CountArrived) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        old_total = self.total
        self.total = message.total
        self._error = None
        if message.refresh:
            # Pages off screen may be stale now; visible ones stay until replaced.
            keep = set(self._visible_pages()) | set(message.pages)
            for page in list(self._pages):
                if page not in keep:
                    del self._pages[page]
            self._pending.clear()
        for page, rows in sorted(message.pages.items()):
            self._store(page, rows)
        if not message.refresh or not self.metric_names:
            first = message.pages[min(message.pages)] if message.pages else []
            self.metric_names = _headline_metrics(first)
        # Newest first: new versions push the rows down; keep the cursor on its version.
        if message.refresh and old_total not in (None, message.total) and self.cursor > 0:
            shift = message.total - (old_total or 0)
            self.set_reactive(
                VersionTable.cursor, min(max(self.cursor + shift, 0), message.total - 1)
            )
        self._loaded(message.total)

    def _loaded(self, total: int) -> None:
        """`total` rows are known (and the first ones stored): draw and announce them."""
        self.total = total
        self._set_height(total + 1)
        if total and self.cursor >= total:
            self.set_reactive(VersionTable.cursor, total - 1)
        self._scroll_cursor_visible()
        self.refresh()
        self.post_message(self.Loaded(self, self.query_spec, total, list(self.metric_names)))
        self._announce()
        last = (total - 1) // PAGE_SIZE
        if not self.query_spec.where and total > PAGE_SIZE and last not in self._pages:
            # End is a common key and the last page a cheap number-range query (~3 ms):
            # fetch it once these rows are on screen, so End needs no fetch.
            self.call_after_refresh(self._request_page, last)

    @on(_PageArrived)
    def _page_arrived(self, message: _PageArrived) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self._store(message.page, message.rows)
        if message.page in self._visible_pages():
            self.refresh()
        if self.cursor // PAGE_SIZE == message.page:
            self._announce()

    @on(_Failed)
    def _failed(self, message: _Failed) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self._pending.clear()
        self._error = message.error
        if self.total is None:
            self.total = 0
            self.virtual_size = Size(self.size.width, 2)
        self.refresh()
        self.post_message(self.QueryFailed(self, self.query_spec, message.error))

    def _set_height(self, lines: int) -> None:
        """Set the scrollable height; without a screen relayout if the scrollbar stays."""
        new = Size(self.size.width, lines)
        view = self.scrollable_content_region.height
        old = self.virtual_size
        if (
            self.show_vertical_scrollbar
            and old.height > view
            and lines > view
            and old.width == new.width
        ):
            # Only the scrollbar thumb changes: skip the relayout of every widget on the
            # screen (tens of ms per filter or model switch). `_scroll_update` is what
            # Textual itself calls on a size change (Textual is pinned in pyproject).
            self.set_reactive(ScrollView.virtual_size, new)
            self._scroll_update(new)
            self.refresh()
        else:
            self.virtual_size = new

    def _store(self, page: int, rows: list[VersionInfo]) -> None:
        self._pending.discard(page)
        self._pages[page] = rows
        self._pages.move_to_end(page)
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)

    def _announce(self) -> None:
        self.post_message(self.Highlighted(self, self.version))

    def _visible_pages(self) -> list[int]:
        top = int(self.scroll_y)
        height = max(self.scrollable_content_region.height, 1)
        first = top // PAGE_SIZE
        last = (top + height) // PAGE_SIZE
        pages = list(range(first, last + 1))
        cursor_page = self.cursor // PAGE_SIZE
        if cursor_page not in pages:
            pages.append(cursor_page)
        return pages

    # ------------------------------------------------------------------ cursor

    def watch_cursor(self, old: int, new: int) -> None:
        # Ask for a missing page now, not from the next render: a long jump (End,
        # a click on the scrollbar) then waits for one fetch, not a render and a fetch.
        self._request_page(new // PAGE_SIZE)
        self.refresh()
        self._scroll_cursor_visible()
        self._announce()

    def _scroll_cursor_visible(self) -> None:
        height = max(self.scrollable_content_region.height - 1, 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def _move_to(self, index: int) -> None:
        if not self.total:
            return
        self.cursor = max(0, min(index, self.total - 1))

    def action_cursor(self, delta: int) -> None:
        self._move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        step = max(self.scrollable_content_region.height - 2, 1)
        self._move_to(self.cursor + direction * step)

    def action_first(self) -> None:
        self._move_to(0)

    def action_last(self) -> None:
        if self.total:
            self._move_to(self.total - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1 or not self.total:
            return
        index = int(self.scroll_y) + offset.y - 1
        if not 0 <= index < self.total:
            return
        if index == self.cursor and event.chain >= 2:
            v = self.version
            if v is not None:
                self.post_message(self.Selected(self, v))
        else:
            self.cursor = index

    def on_resize(self, event: events.Resize) -> None:
        if self.total is not None:
            self.virtual_size = Size(event.size.width, self.total + 1)

    # ------------------------------------------------------------------ render

    def notify_style_update(self) -> None:
        self._base_style = None
        self._lines.clear()
        super().notify_style_update()

    def _base(self) -> Style:
        # `rich_style` walks every ancestor's styles: once per style change, not per line.
        if self._base_style is None:
            self._base_style = self.rich_style
        return self._base_style

    def _columns(self, width: int) -> list[Column]:
        key = (width, tuple(self.metric_names), len(str(self.total or 0)))
        if self._columns_for is None or self._columns_for[0] != key:
            self._columns_for = (key, self._fit_columns(width))
            self._lines.clear()
        return self._columns_for[1]

    def _fit_columns(self, width: int) -> list[Column]:
        """Columns that fit `width`, chosen by priority, shown in a fixed order."""

        def approval_style(v: VersionInfo) -> str:
            status = v.approval.status
            return (
                f"version-table--{status}" if status in ("approved", "rejected", "pending") else ""
            )

        def flags(v: VersionInfo) -> str:
            out = ("⚠" + str(len(v.warnings))) if v.warnings else ""
            if v.archived:
                out += "A"
            if v.artifact_state != "ok":
                out += "!"
            return out

        # (priority: lower is kept first, position, column)
        candidates: list[tuple[int, int, Column]] = [
            # Wide enough for the highest number (and the damage mark): 100000 must not
            # show as "1000…". The mark sits in this column because it is never dropped.
            (
                0,
                0,
                Column(
                    "#",
                    max(5, len(str(self.total or 0)) + 1),
                    ">",
                    lambda v: (DAMAGE_MARK if v.damage else "") + str(v.version),
                    lambda v: "version-table--damaged" if v.damage else "",
                ),
            ),
            (1, 1, Column("created", 16, "<", lambda v: short_time(v.created_at))),
            (5, 2, Column("format", 12, "<", lambda v: clean(v.format, 40))),
            (6, 3, Column("size", 8, ">", lambda v: human_size(v.size_bytes))),
            (0, 20, Column("approval", 8, "<", lambda v: v.approval.status, approval_style)),
            (
                0,
                21,
                Column(
                    "stages",
                    12,
                    "<",
                    lambda v: clean(", ".join(v.stages), 60),
                    lambda v: "version-table--stage",
                ),
            ),
            (7, 22, Column("", 3, "<", flags, lambda v: "version-table--warning")),
        ]
        for i, name in enumerate(self.metric_names):
            w = min(max(len(name), 7), 12)
            candidates.append(
                (
                    2 + min(i, 2),
                    4 + i,
                    Column(
                        clean(name, 40),
                        w,
                        ">",
                        lambda v, n=name: number(v.metrics.get(n)) if n in v.metrics else "",
                    ),
                )
            )
        used = 2
        chosen: list[tuple[int, Column]] = []
        for _prio, pos, col in sorted(candidates, key=lambda c: (c[0], c[1])):
            if used + col.width + 1 <= width or not chosen:
                used += col.width + 1
                chosen.append((pos, col))
        return [col for _pos, col in sorted(chosen, key=lambda c: c[0])]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self._base()
        columns = self._columns(width)
        if y == 0:
            style = base + self.get_component_rich_style("version-table--header")
            line = "  " + " ".join(_align(c.title, c.width, c.align) for c in columns)
            return Strip([Segment(fit(line, width), style)], width)
        index = int(self.scroll_y) + y - 1
        if self.total is None:
            msg = "loading…" if y == 1 and self.query_spec.model else ""
            return self._plain(msg, width, "version-table--placeholder")
        if self._error and y == 1:
            return self._plain("  no rows: the query failed", width, "version-table--placeholder")
        if self.total == 0 and y == 1:
            msg = "no versions match this filter" if self.query_spec.where else "no versions yet"
            return self._plain("  " + msg, width, "version-table--placeholder")
        if index >= self.total:
            return Strip.blank(width, base)
        page = index // PAGE_SIZE
        v = self.row(index)
        is_cursor = index == self.cursor
        row_style = base
        if is_cursor:
            row_style = base + self.get_component_rich_style(
                "version-table--cursor", partial=not self.has_focus
            )
        if v is None:
            self.call_later(self._request_page, page)
            return Strip([Segment(fit("  …", width), row_style)], width)
        # Keep neighbours warm so scrolling never waits.
        if index % PAGE_SIZE == 0 or index % PAGE_SIZE == PAGE_SIZE - 1:
            for near in (page - 1, page + 1):
                if 0 <= near * PAGE_SIZE < self.total and near not in self._pages:
                    self.call_later(self._request_page, near)
        marked = v.id == self.marked_id
        # Same version object (pages are replaced, never mutated) drawn the same way.
        key = (is_cursor, is_cursor and self.has_focus, marked, width)
        cached = self._lines.get(index)
        if cached is not None and cached[0] is v and cached[1] == key:
            return cached[2]
        strip = self._render_row(v, columns, row_style, marked, width)
        if len(self._lines) > 4 * PAGE_SIZE:  # only visible rows matter; stay small
            self._lines.clear()
        self._lines[index] = (v, key, strip)
        return strip

    def _render_row(
        self, v: VersionInfo, columns: list[Column], row_style: Style, marked: bool, width: int
    ) -> Strip:
        segments = [
            Segment(
                "● " if marked else "  ",
                row_style + self.get_component_rich_style("version-table--marked"),
            )
        ]
        if v.archived:
            row_style = row_style + self.get_component_rich_style("version-table--archived")
        for i, col in enumerate(columns):
            cell_style = row_style
            if col.style is not None:
                cls = col.style(v)
                if cls:
                    cell_style = row_style + _fg(self.get_component_rich_style(cls))
            segments.append(Segment(_align(col.get(v), col.width, col.align), cell_style))
            if i < len(columns) - 1:
                segments.append(Segment(" ", row_style))
        strip = Strip(segments)
        return strip.crop_extend(0, width, row_style)

    def _plain(self, message: str, width: int, cls: str) -> Strip:
        style = self._base() + self.get_component_rich_style(cls)
        return Strip([Segment(fit(message, width), style)], width)


def _fg(style: Style) -> Style:
    """Only the colour/weight of a component style, so the cursor background shows through."""
    return Style(color=style.color, bold=style.bold, italic=style.italic, dim=style.dim)


def _align(value: str, width: int, align: str) -> str:
    value = fit(value, width) if len(value) > width else value
    from rich.cells import cell_len

    pad = max(width - cell_len(value), 0)
    return (" " * pad + value) if align == ">" else (value + " " * pad)


def _headline_metrics(rows: list[VersionInfo]) -> list[str]:
    """The metrics most versions on the first page report, in name order."""
    counts: dict[str, int] = {}
    for v in rows:
        for k in v.metrics:
            counts[k] = counts.get(k, 0) + 1
    ranked = sorted(counts, key=lambda k: (-counts[k], k))[:MAX_METRIC_COLUMNS]
    return sorted(ranked)


def _one_line(exc: Exception) -> str:
    """What a failed query shows: the message of a regtui error, else the kind of
    failure (a bug, but the table must say so rather than stay at "loading…")."""
    if isinstance(exc, RegtuiError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"
