"""A lazy table of versions: only the rows on screen are ever fetched or drawn.

It is a Line-API `ScrollView` that renders what its paging model
(`regtui.tui.paging.VersionPages`) says: the virtual height is the row count (one
`count_versions` query), `render_line` draws from the model's pages, and a missing
page is fetched by a thread worker (`LIMIT/OFFSET` on the catalog) and drawn when
it arrives. 100,000 versions cost one count and one page of 100.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events, on
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from regtui.catalog.records import VersionInfo
from regtui.catalog.service import Catalog
from regtui.tui.columns import Column, align, header
from regtui.tui.paging import (
    PAGE_SIZE,
    Counted,
    Failed,
    PageRows,
    Query,
    VersionPages,
    load,
    load_page,
)
from regtui.tui.plain import fit
from regtui.tui.textual_compat import set_virtual_size_without_layout

# Drawn lines kept: only visible rows matter (a keystroke repaints all of them, yet
# usually only the old and new cursor rows differ).
LINE_CACHE_SIZE = 4 * PAGE_SIZE


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
    class _Answered(Message):
        """A worker's answer to the query of `generation`."""

        generation: int
        answer: Counted | PageRows | Failed
        refresh: bool = False

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
        self.pages = VersionPages()
        # Render caches, cleared by `notify_style_update` (theme, focus, CSS changes).
        self._base_style: Style | None = None
        self._drawn_columns: list[Column] | None = None
        self._lines: LRUCache[int, tuple[VersionInfo, tuple[object, ...], Strip]] = LRUCache(
            LINE_CACHE_SIZE
        )

    # ------------------------------------------------------------------ public

    def show(self, model: str | None, where: str = "", *, everywhere: bool = False) -> None:
        """Show the versions of `model` (of every model with `everywhere`) matching
        `where` (the core filter language)."""
        kept_total = self.pages.show(model, where, everywhere=everywhere)
        # The old height stays until the count arrives: collapsing it would hide the
        # scrollbar and relayout the screen now, and show it (and relayout) again then.
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()
        if kept_total is not None:
            self._loaded(kept_total)
            return
        self._run_load(refresh=False)

    def reload(self) -> None:
        """Fetch the count and the visible rows again, keeping what is shown until they arrive."""
        if self.pages.reload():
            self._run_load(refresh=True)

    @property
    def query_spec(self) -> Query:
        return self.pages.query

    @property
    def total(self) -> int | None:
        return self.pages.total

    @property
    def counting(self) -> bool:
        """`total` is a lower bound: the filter's first page is shown, its count is due."""
        return self.pages.counting

    @property
    def metric_names(self) -> list[str]:
        return self.pages.metric_names

    @property
    def marked_id(self) -> int | None:
        return self.pages.marked_id

    @marked_id.setter
    def marked_id(self, value: int | None) -> None:
        self.pages.marked_id = value

    @property
    def cursor(self) -> int:
        return self.pages.cursor

    @cursor.setter
    def cursor(self, index: int) -> None:
        self.pages.cursor = index
        # Ask for a missing page now, not from the next render: a long jump (End,
        # a click on the scrollbar) then waits for one fetch, not a render and a fetch.
        self._request_page(index // PAGE_SIZE)
        self.refresh()
        self._scroll_cursor_visible()
        self._announce()

    @property
    def version(self) -> VersionInfo | None:
        """The version under the cursor (None if its page is not loaded yet)."""
        return self.pages.version

    @property
    def fetching(self) -> bool:
        """True while the row under the cursor is being fetched (not when there is none)."""
        return self.pages.fetching

    @property
    def marked(self) -> VersionInfo | None:
        return self.pages.marked

    def row(self, index: int) -> VersionInfo | None:
        return self.pages.row(index)

    def loaded_versions(self) -> list[VersionInfo]:
        return self.pages.loaded_versions()

    def toggle_mark(self) -> VersionInfo | None:
        if self.version is None:
            return None
        marked = self.pages.toggle_mark()
        self.refresh()
        return marked

    # ----------------------------------------------------------------- workers

    def _run_load(self, *, refresh: bool) -> None:
        generation, query = self.pages.generation, self.pages.query
        visible = self._visible_pages() if refresh else [0]

        def work() -> None:
            for answer in load(self.catalog, query, visible):
                self.post_message(self._Answered(generation, answer, refresh))

        self.run_worker(
            work, thread=True, group="version-count", exclusive=True, exit_on_error=False
        )

    def _request_page(self, page: int) -> None:
        if not self.pages.request(page):
            return
        generation, query = self.pages.generation, self.pages.query

        def work() -> None:
            self.post_message(self._Answered(generation, load_page(self.catalog, query, page)))

        self.run_worker(work, thread=True, group="version-pages", exit_on_error=False)

    @on(_Answered)
    def _answered(self, message: _Answered) -> None:
        message.stop()
        if not self.pages.is_current(message.generation):
            return
        answer = message.answer
        if isinstance(answer, Counted):
            visible = self._visible_pages() if message.refresh else []
            self.pages.counted(answer, refresh=message.refresh, visible=visible)
            self._loaded(answer.total)
        elif isinstance(answer, PageRows):
            self.pages.store(answer.page, answer.rows)
            if answer.page in self._visible_pages():
                self.refresh()
            if self.cursor // PAGE_SIZE == answer.page:
                self._announce()
        else:
            first_answer = self.pages.total is None
            self.pages.failed(answer.error)
            if first_answer:
                self.virtual_size = Size(self.size.width, 2)
            self.refresh()
            self.post_message(self.QueryFailed(self, self.query_spec, answer.error))

    def _loaded(self, total: int) -> None:
        """`total` rows are known (and the first ones stored): draw and announce them."""
        last = self.pages.loaded(total)
        self._set_height(total + 1)
        self._scroll_cursor_visible()
        self.refresh()
        self.post_message(self.Loaded(self, self.query_spec, total, list(self.metric_names)))
        self._announce()
        if last is not None:
            # Fetched once these rows are on screen, so End needs no fetch.
            self.call_after_refresh(self._request_page, last)

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
            # screen (tens of ms per filter or model switch).
            set_virtual_size_without_layout(self, new)
            self.refresh()
        else:
            self.virtual_size = new

    def _announce(self) -> None:
        self.post_message(self.Highlighted(self, self.version))

    def _visible_pages(self) -> list[int]:
        return self.pages.visible_pages(int(self.scroll_y), self.scrollable_content_region.height)

    # ------------------------------------------------------------------ cursor

    def _scroll_cursor_visible(self) -> None:
        height = max(self.scrollable_content_region.height - 1, 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def _move_to(self, index: int) -> None:
        target = self.pages.clamp(index)
        if target is not None:
            self.cursor = target

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

    def on_mount(self) -> None:
        # Say once that nothing is highlighted yet (the screen sets its bindings and
        # status line from it), as the cursor's first value always did.
        self._announce()

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
        columns = self.pages.columns(width)
        if columns is not self._drawn_columns:
            self._drawn_columns = columns
            self._lines.clear()
        return columns

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self._base()
        columns = self._columns(width)
        if y == 0:
            style = base + self.get_component_rich_style("version-table--header")
            return Strip([Segment(fit(header(columns), width), style)], width)
        index = int(self.scroll_y) + y - 1
        total = self.total
        if total is None:
            msg = "loading…" if y == 1 and not self.query_spec.empty else ""
            return self._plain(msg, width, "version-table--placeholder")
        if self.pages.error and y == 1:
            return self._plain("  no rows: the query failed", width, "version-table--placeholder")
        if total == 0 and y == 1:
            msg = "no versions match this filter" if self.query_spec.where else "no versions yet"
            return self._plain("  " + msg, width, "version-table--placeholder")
        if index >= total:
            return Strip.blank(width, base)
        v = self.row(index)
        is_cursor = index == self.cursor
        row_style = base
        if is_cursor:
            row_style = base + self.get_component_rich_style(
                "version-table--cursor", partial=not self.has_focus
            )
        if v is None:
            self.call_later(self._request_page, index // PAGE_SIZE)
            return Strip([Segment(fit("  …", width), row_style)], width)
        # Keep neighbours warm so scrolling never waits.
        for near in self.pages.neighbours_to_warm(index):
            self.call_later(self._request_page, near)
        marked = v.id == self.marked_id
        # Same version object (pages are replaced, never mutated) drawn the same way.
        key = (is_cursor, is_cursor and self.has_focus, marked, width)
        cached = self._lines.get(index)
        if cached is not None and cached[0] is v and cached[1] == key:
            return cached[2]
        strip = self._render_row(v, columns, row_style, marked, width)
        self._lines.set(index, (v, key, strip))
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
            segments.append(Segment(align(col.get(v), col.width, col.align), cell_style))
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
