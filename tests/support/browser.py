"""A real headless Chromium for the `regtui serve` tests and the browser screenshot.

Debian's chromium and chromium-driver (installed by .ci/run): the driver is named
by path, so Selenium Manager never looks for one on the network (SE_OFFLINE too).
The served terminal draws on a canvas, so its text is read from xterm.js's buffer:
a script added before the page's own catches the Terminal as xterm.js builds it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from typing import Any

from tests.support.patience import patient

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# xterm.js's public Terminal sets `this._core` in its constructor: a setter on
# Object.prototype sees that object once, keeps it as window.__term, and steps aside.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, '_core', {configurable: true, set(v) {
  if (typeof this.loadAddon === 'function' && !window.__term) { window.__term = this; }
  Object.defineProperty(this, '_core', {value: v, writable: true, configurable: true});
}});
"""
SCREEN_TEXT = """
const t = window.__term; if (!t) return null;
const b = t.buffer.active, out = [];
for (let i = 0; i < b.length; i++) out.push(b.getLine(i).translateToString(true));
return out.join('\\n');
"""


def missing() -> str | None:
    """Why no browser test can run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(path):
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (the test extra)"
    return None


@contextlib.contextmanager
def chromium(width: int = 1400, height: int = 900) -> Iterator[Any]:
    os.environ["SE_OFFLINE"] = "true"  # never download a driver or a browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
              f"--window-size={width},{height}", "--disable-extensions",
              "--no-first-run", "--disable-background-networking"):  # fmt: skip
        options.add_argument(a)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CATCH_TERMINAL})
        yield driver
    finally:
        driver.quit()


def screen(driver: Any) -> str:
    return str(driver.execute_script(SCREEN_TEXT) or "")


def wait_for_screen(driver: Any, *texts: str, seconds: float = 15) -> str:
    """The terminal's text once it shows every one of `texts`."""
    deadline = time.monotonic() + patient(seconds)
    while True:
        text = screen(driver)
        if all(t in text for t in texts):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"the page never showed {texts}; it shows:\n{text}")
        time.sleep(0.1)


def press(driver: Any, *keys: str) -> None:
    """Type into the terminal (xterm.js's input box) as a user would."""
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea")
    for k in keys:
        box.send_keys(k)
