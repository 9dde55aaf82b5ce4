"""The catalog: models beside the versions of the selected one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Header, Input, Label, Static

from regtui.catalog.records import ModelInfo, VersionInfo
from regtui.errors import FilterError, RegtuiError
from regtui.text import counted
from regtui.tui.filter_errors import filter_error_text, filter_problem
from regtui.tui.messages import ModelsLoaded
from regtui.tui.paging import Query
from regtui.tui.safe import clean, content
from regtui.tui.screens.actions import VersionActions
from regtui.tui.screens.catalog_head import model_head
from regtui.tui.screens.change_keys import change_keys
from regtui.tui.widgets.footer import QuietFooter
from regtui.tui.widgets.model_list import ModelList
from regtui.tui.widgets.trend import Trend
from regtui.tui.widgets.version_table import VersionTable

TREND_WINDOW = 200
FILTER_HINT = "filter: metrics.auc > 0.9 and approval = 'approved'  (enter: apply, esc: clear)"
FILTER_HINT_ALL = "all models: tags.team = 'growth' and stage = 'production'  (esc: back)"


@dataclass
class TrendLoaded(Message):
    model: str
    metric: str | None
    values: list[float]


class CatalogScreen(VersionActions):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "filter",
            "Filter",
            id="catalog.filter",
            tooltip="Filter versions: metrics.auc > 0.9 and approval = 'approved'",
        ),
        Binding(
            "f",
            "find",
            "Find all",
            show=False,  # the footer keeps room for q at 80 columns; help and ^p list it
            id="catalog.find",
            tooltip="Filter the versions of every model: model:version rows",
        ),
        Binding(
            "enter",
            "open",
            "Open",
            show=False,
            id="catalog.open",
            tooltip="Open the selected version",
        ),
        Binding(
            "space",
            "mark",
            "Mark",
            show=False,
            id="catalog.mark",
            tooltip="Mark this version; d then diffs marked against selected",
        ),
        Binding(
            "d",
            "diff",
            "Diff",
            id="catalog.diff",
            tooltip="Diff selected vs production (or marked vs selected)",
        ),
        *change_keys(version_edit_key="e", model_edit_key="E"),
        Binding(
            "m",
            "next_metric",
            "Metric",
            show=False,
            id="catalog.metric",
            tooltip="Chart the next metric in the sparkline",
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            show=False,
            id="catalog.clear",
            tooltip="Clear the filter",
        ),
    ]

    def __init__(self) -> None:
        super().__init__(id="catalog")
        self.models: dict[str, ModelInfo] = {}
        self.model_name: str | None = None
        self.metric: str | None = None
        self.metric_names: list[str] = []
        self._filter_timer: Timer | None = None
        self._applied_filter = ""
        self._everywhere = False  # the filter searches every model
        self._settled_version: VersionInfo | None = None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header(icon="▤")
        with Horizontal(id="catalog-body"):
            with Vertical(id="models-pane"):
                yield Label("Models", id="models-title", classes="pane-title")
                yield Input(placeholder="name…", id="model-filter")
                yield ModelList(id="models")
            with Vertical(id="versions-pane"):
                yield Static(id="model-head", markup=False)
                yield Trend(id="trend")
                yield Input(placeholder=FILTER_HINT, id="filter", max_length=4000)
                yield Static("", id="filter-error", classes="inline-error", markup=False)
                yield VersionTable(self.rapp.catalog, id="versions")
                yield Static("", id="status-line", markup=False)
        yield QuietFooter()

    def on_mount(self) -> None:
        self.query_one(ModelList).fit(self.size.width)
        self.query_one("#filter", Input).display = False
        self.query_one("#model-filter", Input).display = False
        self.query_one("#filter-error").display = False
        self.load_models()
        self.query_one(VersionTable).focus()

    def on_resize(self) -> None:
        if self.query_one(ModelList).fit(self.size.width):
            self._show_models()

    # -------------------------------------------------------------- data flow

    @work(thread=True, exclusive=True, group="models", exit_on_error=False)
    def load_models(self) -> None:
        models = self.rapp.catalog.models()
        self.post_message(ModelsLoaded(models))

    @on(ModelsLoaded)
    def models_loaded(self, message: ModelsLoaded) -> None:
        self.models = {m.name: m for m in message.models}
        self._show_models()

    def _shown_models(self) -> list[ModelInfo]:
        return self.query_one(ModelList).matching(list(self.models.values()))

    def _show_models(self) -> None:
        """Fill the model list with the models whose name holds what was typed."""
        table = self.query_one(ModelList)
        new = {m.name: m for m in table.show(list(self.models.values()))}
        title = (
            "Models"
            if not self._name_filter_typed
            else f"Models · {len(new)} of {len(self.models)}"
        )
        self.query_one("#models-title", Label).update(Text(title))
        if self.model_name in new:
            table.move_cursor(row=table.get_row_index(self.model_name), animate=False)
        elif new:
            self.select_model(next(iter(new)))
        else:  # no model matches the typed name: show none rather than a hidden one
            self.select_model(None)
        self._show_head()
        self.update_bindings()

    @on(Input.Changed, "#model-filter")
    def model_name_typed(self, event: Input.Changed) -> None:
        self.query_one(ModelList).name_filter = event.value.strip()
        self._show_models()

    @on(Input.Submitted, "#model-filter")
    def model_name_submitted(self) -> None:
        self.query_one("#models", DataTable).focus()

    @on(DataTable.RowHighlighted, "#models")
    def model_highlighted(self, event: DataTable.RowHighlighted) -> None:
        name = event.row_key.value if event.row_key is not None else None
        if name is not None and name != self.model_name:
            self.select_model(name)

    @on(DataTable.RowSelected, "#models")
    def model_chosen(self) -> None:
        self.query_one(VersionTable).focus()

    def select_model(self, name: str | None) -> None:
        self.model_name = name
        if self._everywhere:  # the results are every model's: they stay
            self._show_head()
            return
        table = self.query_one(VersionTable)
        table.marked_id = None
        table.show(name, self._applied_filter)
        self._show_head()
        self.load_trend()

    def jump_to_model(self, name: str) -> None:
        """Select `name` in the models list (used by the command palette)."""
        table = self.query_one("#models", DataTable)
        if name in self.models:
            if self._everywhere:
                self._leave_everywhere()
            if name not in {m.name for m in self._shown_models()}:
                self._clear_name_filter()
            table.move_cursor(row=table.get_row_index(name), animate=False)
            self.select_model(name)
            self.query_one(VersionTable).focus()

    def _show_head(self) -> None:
        self.query_one(Trend).display = not self._everywhere
        m = self.models.get(self.model_name) if self.model_name else None
        filtering = bool(self.query_one(VersionTable).query_spec.where or self._name_filter_typed)
        head = model_head(m, self._everywhere, self.rapp.watch_dirs, filtering)
        self.query_one("#model-head", Static).update(head)

    @on(VersionTable.Loaded)
    def versions_loaded(self, event: VersionTable.Loaded) -> None:
        if event.metrics and event.metrics != self.metric_names:
            self.metric_names = event.metrics
            if self.metric not in event.metrics:
                self.metric = event.metrics[0]
                self.load_trend()
        self._show_status()

    @on(VersionTable.QueryFailed)
    def versions_failed(self, event: VersionTable.QueryFailed) -> None:
        err = self.query_one("#filter-error", Static)
        err.update(content(event.error, 500))
        err.display = True
        self.update_bindings()  # no rows now: the version actions go quiet
        self._show_status()

    @on(VersionTable.Highlighted)
    def version_highlighted(self, event: VersionTable.Highlighted) -> None:
        if event.version is not None or not event.table.fetching:
            self._settled_version = event.version
        self.update_bindings()
        self._show_status()

    @on(VersionTable.Selected)
    def version_selected(self, event: VersionTable.Selected) -> None:
        self.rapp.open_version(event.version.ref)

    def _show_status(self) -> None:
        table = self.query_one(VersionTable)
        parts = []
        if table.counting:
            parts.append(f"{table.total}+ versions, counting…")
        elif table.total is not None:
            parts.append(counted(table.total, "version"))
        if table.query_spec.everywhere:
            parts.append("all models")
        if table.query_spec.where:
            parts.append(f"filter: {clean(table.query_spec.where, 80)}")
        marked = table.marked
        if marked is not None:
            parts.append(f"marked: {marked.ref} (d diffs it against the selected one)")
        if self.rapp.read_only:
            parts.append("read-only")
        # One line high (app.tcss): no layout pass needed for new text.
        self.query_one("#status-line", Static).update(content(" · ".join(parts)), layout=False)

    @work(thread=True, exclusive=True, group="trend", exit_on_error=False)
    def load_trend(self) -> None:
        model, metric = self.model_name, self.metric
        if model is None:
            self.post_message(TrendLoaded("", None, []))
            return
        try:
            _names, metric, values = self.rapp.catalog.metric_series(model, metric, TREND_WINDOW)
        except RegtuiError:
            metric, values = None, []
        self.post_message(TrendLoaded(model, metric, values))

    @on(TrendLoaded)
    def trend_loaded(self, message: TrendLoaded) -> None:
        if message.model != (self.model_name or ""):
            return
        if self.metric is None:
            self.metric = message.metric
        self.query_one(Trend).show(message.metric, message.values, TREND_WINDOW)

    def catalog_changed(self) -> None:
        # A change can be reported while the screen is being taken down (the app
        # quitting): with its table gone there is nothing left to refresh.
        tables = self.query(VersionTable)
        if not tables:
            return
        self.load_models()
        tables.first().reload()
        self.load_trend()

    # ------------------------------------------------------------ VersionActions

    def current_version(self) -> VersionInfo | None:
        return self.query_one(VersionTable).version

    def current_model(self) -> ModelInfo | None:
        if self._everywhere:  # the model of the row under the cursor
            v = self.current_version()
            return self.models.get(v.model) if v is not None else None
        return self.models.get(self.model_name) if self.model_name else None

    def version_for_bindings(self) -> VersionInfo | None:
        # While the row under the cursor is fetched (~ms), keep the footer as it was:
        # hiding and re-showing approve/promote/diff rebuilds it twice per keystroke.
        # Their actions check the real current version, so a key pressed meanwhile
        # does nothing.
        table = self.query_one(VersionTable)
        return self._settled_version if table.fetching else table.version

    def marked_version(self) -> VersionInfo | None:
        return self.query_one(VersionTable).marked

    # ----------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_metric":
            return True if len(self.metric_names) > 1 else None
        if action == "clear_filter":
            return bool(
                self._applied_filter
                or self._everywhere
                or self._name_filter_typed
                or self.query_one("#filter", Input).display
                or self.query_one("#model-filter", Input).display
            )
        return super().check_action(action, parameters)

    def action_filter(self) -> None:
        """`/` filters what has focus: model names in the model list, else versions."""
        models = self.query_one("#models", DataTable)
        name_box = self.query_one("#model-filter", Input)
        if self.focused in (models, name_box):
            name_box.display = True
            name_box.focus()
            return
        box = self.query_one("#filter", Input)
        box.placeholder = FILTER_HINT_ALL if self._everywhere else FILTER_HINT
        box.display = True
        box.focus()

    def action_find(self) -> None:
        """Search every model's versions with the filter language."""
        if not self._everywhere:
            self._everywhere = True
            table = self.query_one(VersionTable)
            table.marked_id = None
            table.show(self.model_name, self._applied_filter, everywhere=True)
            self._show_head()
        box = self.query_one("#filter", Input)
        box.placeholder = FILTER_HINT_ALL
        box.display = True
        box.focus()
        self._show_status()
        self.update_bindings()

    def _leave_everywhere(self) -> None:
        self._everywhere = False
        self.query_one(VersionTable).show(self.model_name, self._applied_filter)
        self._show_head()
        self.load_trend()

    @property
    def _name_filter_typed(self) -> str:
        """What the model list filters names by (the list keeps it)."""
        return self.query_one(ModelList).name_filter

    def _clear_name_filter(self) -> None:
        name_box = self.query_one("#model-filter", Input)
        name_box.value = ""
        name_box.display = False
        self.query_one(ModelList).name_filter = ""
        self._show_models()

    def action_clear_filter(self) -> None:
        """esc: clear what the focus is in (the model names, or the versions filter and
        the search across models)."""
        models = self.query_one("#models", DataTable)
        if self.focused in (models, self.query_one("#model-filter", Input)) and (
            self._name_filter_typed or self.query_one("#model-filter", Input).display
        ):
            self._clear_name_filter()
            models.focus()
            return
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self._show_filter_error(None)
        self._everywhere = False
        self._apply_filter("")
        self._show_head()
        self.query_one(VersionTable).focus()

    @on(Input.Changed, "#filter")
    def filter_typed(self, event: Input.Changed) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        value = event.value
        self._filter_timer = self.set_timer(0.3, lambda: self._apply_filter(value))

    @on(Input.Submitted, "#filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._apply_filter(event.value)
        if self.query_one("#filter-error").display:
            return  # stay in the box: the filter needs fixing
        if not event.value.strip() and not self._everywhere:
            self.query_one("#filter", Input).display = False
        self.query_one(VersionTable).focus()

    def show_unfiltered(self) -> None:
        """The model's versions with no filter, the filter box left as typed: enter
        then applies its filter from cold (the TUI benchmark times that)."""
        self._applied_filter = ""
        self.query_one(VersionTable).show(self.model_name, "")

    def _apply_filter(self, value: str) -> None:
        value = value.strip()
        table = self.query_one(VersionTable)
        # Shown or still loading (enter right after the type-ahead fired): don't re-run it.
        wanted = Query(self.model_name, value, self._everywhere)
        if value == self._applied_filter and table.query_spec == wanted:
            self._show_filter_error(None)
            return
        # A filter that does not compile leaves the last good result on screen.
        problem = filter_problem(value, self.rapp.catalog.dialect)
        self._show_filter_error(problem, value)
        if problem is not None:
            return
        self._applied_filter = value
        table.show(self.model_name, value, everywhere=self._everywhere)
        self.refresh_bindings()

    def _show_filter_error(self, problem: FilterError | None, typed: str = "") -> None:
        err = self.query_one("#filter-error", Static)
        if problem is None:
            err.display = False
            return
        err.update(filter_error_text(problem, typed))
        err.display = True

    def action_open(self) -> None:
        if self.focused is self.query_one("#models", DataTable):
            self.query_one(VersionTable).focus()
            return
        v = self.current_version()
        if v is not None:
            self.rapp.open_version(v.ref)

    def action_mark(self) -> None:
        table = self.query_one(VersionTable)
        v = table.version
        marked = table.toggle_mark()
        if v is not None:
            self.notify(
                f"Marked {v.ref}: move to another version and press d."
                if marked
                else f"Unmarked {v.ref}.",
                markup=False,
                timeout=3,
            )
        self._show_status()

    def action_next_metric(self) -> None:
        if not self.metric_names:
            return
        i = self.metric_names.index(self.metric) if self.metric in self.metric_names else -1
        self.metric = self.metric_names[(i + 1) % len(self.metric_names)]
        self.load_trend()
