"""The private Textual APIs regtui uses are all in `regtui.tui.textual_compat`, and
each still exists and behaves as regtui assumes: on an upgrade that changes one,
these fail naming it (then fix textual_compat.py, or tighten the pin)."""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import pkgutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest
import textual
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.driver import Driver
from textual.geometry import Size
from textual.notifications import Notifications
from textual.reactive import Reactive
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.widget import Widget
from textual.widgets import Footer

import regtui.tui
from regtui.tui.textual_compat import (
    PRIVATE_APIS,
    FooterKey,
    after_each_screen_update,
    notifications,
    press_as_the_terminal,
    set_footer_key_enabled,
    set_virtual_size_without_layout,
)

TUI = Path(regtui.tui.__file__).parent
UI_TESTS = Path(__file__).parent
COMPAT = {TUI / "textual_compat.py", Path(__file__)}
TUI_PROBE = Path(__file__).parents[2] / "bench" / "tui_probe.py"


def changed(api: str, detail: str) -> None:
    pytest.fail(
        f"Textual {textual.__version__} changed the private API {api}: {detail}. "
        "regtui relies on it in src/regtui/tui/textual_compat.py: adapt it there."
    )


def source(obj: object) -> str:
    return inspect.getsource(obj)  # type: ignore[arg-type]


def check_footer_key() -> None:
    from textual.widgets import _footer

    key_class = getattr(_footer, "FooterKey", None)
    if key_class is None or not issubclass(key_class, Widget):
        changed("textual.widgets._footer.FooterKey", "no FooterKey widget there")
    params = list(inspect.signature(key_class.__init__).parameters)
    want = ["self", "key", "key_display", "description", "action", "disabled", "tooltip"]
    if params[: len(want)] != want:
        changed("textual.widgets._footer.FooterKey", f"__init__ takes {params}, not {want}")
    if "FooterKey(" not in source(Footer.compose):
        changed("textual.widgets._footer.FooterKey", "Footer.compose no longer mounts FooterKey")


def check_footer_key_disabled() -> None:
    assigned = "self._disabled = disabled" in source(FooterKey.__init__)
    if not assigned or "self._disabled" not in source(FooterKey.on_mouse_down):
        changed("FooterKey._disabled", "no longer what a click on a disabled key checks")


def check_footer_bindings_ready() -> None:
    if not isinstance(inspect.getattr_static(Footer, "_bindings_ready", None), Reactive):
        changed("Footer._bindings_ready", "not a reactive of Footer any more")
    if "self._bindings_ready" not in source(Footer.compose):
        changed("Footer._bindings_ready", "Footer.compose no longer waits for it")


def check_footer_bindings_changed() -> None:
    params = list(inspect.signature(Footer.bindings_changed).parameters)
    if params != ["self", "screen"]:
        changed("Footer.bindings_changed", f"takes {params}, not (self, screen)")
    if "self.bindings_changed" not in source(Footer.on_mount):
        changed("Footer.bindings_changed", "Footer.on_mount no longer subscribes it")
    body = source(Footer.bindings_changed)
    if "self._bindings_ready = True" not in body or "recompose" not in body:
        changed("Footer.bindings_changed", "it does more or less than QuietFooter mirrors")


def check_scroll_update() -> None:
    update = getattr(Widget, "_scroll_update", None)
    if update is None:
        changed("Widget._scroll_update", "gone")
    params = list(inspect.signature(update).parameters)
    if params != ["self", "virtual_size"]:
        changed("Widget._scroll_update", f"takes {params}, not (self, virtual_size)")
    if not isinstance(inspect.getattr_static(ScrollView, "virtual_size", None), Reactive):
        changed("Widget._scroll_update", "ScrollView.virtual_size is not a reactive")
    if "self._scroll_update(" not in source(ScrollView):
        changed("Widget._scroll_update", "ScrollView no longer calls it on a size change")


def check_notifications() -> None:
    if "self._notifications = Notifications()" not in source(App.__init__):
        changed("App._notifications", "App no longer keeps a Notifications collection there")
    if "self._notifications.add(" not in source(App._on_notify):
        changed("App._notifications", "App.notify no longer ends up in it")
    if "__iter__" not in vars(Notifications):
        changed("App._notifications", "Notifications can no longer be iterated")


def check_display() -> None:
    params = list(inspect.signature(App._display).parameters)
    if params != ["self", "screen", "renderable"]:
        changed("App._display", f"takes {params}, not (self, screen, renderable)")
    if "app._display(" not in source(Screen):
        changed("App._display", "Screen no longer draws its updates through it")


def check_driver() -> None:
    if "self._driver" not in source(App.__init__):
        changed("App._driver", "App no longer keeps its driver there")
    params = list(inspect.signature(Driver.send_message).parameters)
    if params != ["self", "message"]:
        changed("App._driver", f"Driver.send_message takes {params}, not (self, message)")


CHECKS: dict[str, Callable[[], None]] = {
    "textual.widgets._footer.FooterKey": check_footer_key,
    "FooterKey._disabled": check_footer_key_disabled,
    "Footer._bindings_ready": check_footer_bindings_ready,
    "Footer.bindings_changed": check_footer_bindings_changed,
    "Widget._scroll_update": check_scroll_update,
    "App._notifications": check_notifications,
    "App._display": check_display,
    "App._driver": check_driver,
}


def test_every_private_api_listed_has_a_check() -> None:
    assert [api for api, _why in PRIVATE_APIS] == list(CHECKS)


@pytest.mark.parametrize("api", list(CHECKS))
def test_private_api_is_as_regtui_assumes(api: str) -> None:
    CHECKS[api]()


# ------------------------------------------------------------- behaviour, in an app


class Tall(ScrollView):
    def render_line(self, y: int):  # type: ignore[no-untyped-def]
        from textual.strip import Strip

        return Strip.blank(self.size.width)


class Probe(App[None]):
    CSS = "Tall { height: 1fr; overflow-x: hidden; }"

    def compose(self) -> ComposeResult:
        yield Tall()
        yield Footer()


async def test_virtual_size_without_layout_moves_the_scrollbar() -> None:
    app = Probe()
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(Tall)
        view.virtual_size = Size(view.size.width, 500)
        await pilot.pause()
        assert view.show_vertical_scrollbar
        assert view.vertical_scrollbar.window_virtual_size == 500
        new = Size(view.virtual_size.width, 2000)
        set_virtual_size_without_layout(view, new)
        assert view.virtual_size == new
        assert view.vertical_scrollbar.window_virtual_size == 2000  # the thumb shrinks
        view.scroll_to(y=1990, animate=False, immediate=True)
        assert view.scroll_y == 2000 - view.scrollable_content_region.height


async def test_a_disabled_footer_key_rings_instead_of_pressing() -> None:
    pressed: list[str] = []
    bells: list[bool] = []
    app = Probe()
    async with app.run_test(size=(40, 12)) as pilot:
        key = FooterKey("x", "x", "Thing", "thing")
        await app.screen.mount(key)
        await pilot.pause()
        app.simulate_key = pressed.append  # type: ignore[method-assign]
        app.bell = lambda: bells.append(True)  # type: ignore[method-assign]
        set_footer_key_enabled(key, False)
        assert key.has_class("-disabled")
        key.on_mouse_down()
        assert bells == [True] and pressed == []
        set_footer_key_enabled(key, True)
        key.on_mouse_down()
        assert not key.has_class("-disabled") and pressed == ["x"]


async def test_notifications_lists_what_the_app_said() -> None:
    app = Probe()
    async with app.run_test(size=(40, 12)) as pilot:
        app.notify("first")
        app.notify("second", severity="error")
        await pilot.pause()
        assert [(n.message, n.severity) for n in notifications(app)] == [
            ("first", "information"),
            ("second", "error"),
        ]
        app.clear_notifications()
        assert notifications(app) == []


class Keyed(Probe):
    BINDINGS: ClassVar[list[BindingType]] = [("x", "note", "Note")]

    def __init__(self) -> None:
        super().__init__()
        self.noted = 0

    def action_note(self) -> None:
        self.noted += 1


async def test_screen_updates_are_seen_and_terminal_keys_arrive() -> None:
    seen: list[bool] = []
    app = Keyed()
    async with app.run_test(size=(40, 12)) as pilot:
        after_each_screen_update(app, lambda: seen.append(True))
        app.query_one(Tall).refresh()
        await pilot.pause()
        assert seen, "no screen update was reported"
        press_as_the_terminal(app, "x", "x")
        await pilot.pause()
        assert app.noted == 1


# ------------------------------------------------------------- nowhere else


def _modules() -> Iterator[Path]:
    yield from sorted(TUI.rglob("*.py"))
    yield from sorted(UI_TESTS.rglob("*.py"))
    yield TUI_PROBE


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_uses(path: Path) -> list[str]:
    """Imports of `textual.*._*` and underscore attributes of objects other than self."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        modules: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        for module in modules:
            parts = module.split(".")
            if parts[0] == "textual" and any(_is_private(p) for p in parts):
                out.append(f"{path.name}:{node.lineno} imports {module}")
        if (
            isinstance(node, ast.Attribute)
            and _is_private(node.attr)
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            out.append(f"{path.name}:{node.lineno} uses .{node.attr}")
    return out


def test_private_textual_apis_are_used_only_in_the_compat_module() -> None:
    uses = [use for path in _modules() if path not in COMPAT for use in private_uses(path)]
    assert uses == [], "move these into regtui/tui/textual_compat.py"


def _textual_names(cls: type) -> set[str]:
    """Names Textual's classes in `cls`'s bases define or assign on `self`."""
    names: set[str] = set()
    for base in cls.__mro__:
        if base.__module__.split(".")[0] == "textual":
            names |= _names_of_textual_class(base)
    return names


@functools.cache
def _names_of_textual_class(base: type) -> frozenset[str]:
    names = set(vars(base))
    for node in ast.walk(ast.parse(_dedent(base))):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        ):
            names.add(node.attr)
    return frozenset(names)


def _dedent(cls: type) -> str:
    return textwrap.dedent(inspect.getsource(cls))


def _own_private_names(cls: type) -> set[str]:
    tree = ast.parse(_dedent(cls))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        ):
            names.add(node.attr)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if _is_private(n)} - {tree.body[0].name}  # type: ignore[attr-defined]


def _regtui_textual_classes() -> Iterator[type]:
    for info in pkgutil.walk_packages(regtui.tui.__path__, "regtui.tui."):
        module = importlib.import_module(info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and any(
                b.__module__.split(".")[0] == "textual" for b in cls.__mro__[1:]
            ):
                yield cls


def test_no_regtui_class_reuses_a_private_name_of_its_textual_bases() -> None:
    """A private name of our own that a Textual base also has replaces Textual's (as
    `RegtuiApp._log` once replaced `App._log`, the devtools logger): each private
    name stays ours, and an upgrade that adds one of them fails here."""
    classes = list(_regtui_textual_classes())
    assert any(c.__name__ == "VersionTable" for c in classes)
    clashes = [
        f"{cls.__module__}.{cls.__qualname__}.{name}"
        for cls in classes
        for name in sorted(_own_private_names(cls) & _textual_names(cls))
    ]
    assert clashes == [], "rename these (or move a deliberate override into textual_compat)"
