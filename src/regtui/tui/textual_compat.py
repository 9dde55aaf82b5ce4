"""Every use of a private Textual API, in one place.

Textual does not promise these between releases; regtui uses them for speed (no
screen relayout per filter or keystroke). tests/ui/test_textual_compat.py checks
each entry of `PRIVATE_APIS` against the installed Textual and fails naming the
API when an upgrade removes or changes one: then fix it here, not in the widgets.
No other module under regtui/tui (nor the TUI benchmark, bench/tui_probe.py) may
import `textual.*._*` or touch an underscore attribute of a Textual object (a test
holds them to that).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import events
from textual.app import App
from textual.geometry import Size
from textual.notifications import Notification
from textual.scroll_view import ScrollView
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

__all__ = [
    "PRIVATE_APIS",
    "FooterKey",
    "after_each_screen_update",
    "mark_footer_bindings_ready",
    "notifications",
    "press_as_the_terminal",
    "set_footer_key_enabled",
    "set_virtual_size_without_layout",
]

# (where, what regtui relies on): the checks in the compat test follow this list.
PRIVATE_APIS: tuple[tuple[str, str], ...] = (
    (
        "textual.widgets._footer.FooterKey",
        "the key widget Footer mounts: FooterKey(key, key_display, description, action, "
        "disabled=, tooltip=), with .key, .key_display, .description, .action",
    ),
    (
        "FooterKey._disabled",
        "read by FooterKey.on_mouse_down: a disabled key rings the bell instead of pressing",
    ),
    (
        "Footer._bindings_ready",
        "Footer.compose yields nothing until it is set (by Footer.bindings_changed)",
    ),
    (
        "Footer.bindings_changed",
        "the handler Footer.on_mount subscribes to the screen's bindings_updated_signal",
    ),
    (
        "Widget._scroll_update",
        "what Textual calls on a virtual size change to resize the scrollbars",
    ),
    (
        "App._notifications",
        "the notifications an app holds, iterable oldest first (tests read what was said)",
    ),
    (
        "App._display",
        "called with (screen, renderable) for every screen update, headless or not "
        "(the TUI benchmark times keystroke to repaint with it)",
    ),
    (
        "App._driver",
        "the driver a key from the terminal comes through: driver.send_message(Key) "
        "(the TUI benchmark sends its keys the way a terminal does)",
    ),
)


def set_footer_key_enabled(key: FooterKey, enabled: bool) -> None:
    """Enable or disable a mounted footer key in place, as `Footer.compose` would
    have made it (clicks ignored and the key dimmed when disabled)."""
    key._disabled = not enabled
    key.set_class(not enabled, "-disabled")


def mark_footer_bindings_ready(footer: Footer) -> None:
    """What `Footer.bindings_changed` does first: let `compose` yield keys."""
    footer._bindings_ready = True


def set_virtual_size_without_layout(view: ScrollView, size: Size) -> None:
    """Set `view.virtual_size` and resize its scrollbars, skipping the relayout of
    every widget on the screen that assigning `virtual_size` asks for (tens of ms).
    Only for a change that leaves the scrollbars shown and the width the same."""
    view.set_reactive(ScrollView.virtual_size, size)
    view._scroll_update(size)


def notifications(app: App[object]) -> list[Notification]:
    """The notifications `app` holds now, oldest first (Textual has no public list)."""
    return list(app._notifications)


def after_each_screen_update(app: App[Any], seen: Callable[[], None]) -> None:
    """Call `seen` right after each screen update `app` draws. Headless apps draw too:
    only the final write to the terminal is skipped. For the TUI benchmark."""
    draw = app._display

    def display(screen: Any, renderable: Any) -> None:
        draw(screen, renderable)
        if renderable is not None:
            seen()

    app._display = display  # type: ignore[method-assign]


def press_as_the_terminal(app: App[Any], key: str, character: str | None) -> None:
    """Send a key through the app's driver, the path a keystroke from the terminal
    takes (`App.simulate_key` posts to the app directly, without a character)."""
    driver = app._driver
    if driver is None:
        raise RuntimeError("the app is not running: no driver to send keys through")
    driver.send_message(events.Key(key, character))
