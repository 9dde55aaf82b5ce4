"""What a `regtui serve` session runs: the app on the catalog, as the user the
server authenticated. Its argv is built by the server (serve.session), never from
anything a page sends. A catalog that cannot be opened (a PostgreSQL role that
cannot log in, say) is shown in the browser as one line, instead of a blank page.
"""

from __future__ import annotations

import argparse
import os
import sys

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Static


class CannotOpen(App[int]):
    """One line saying why the session has no catalog; any key closes it."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        yield Static(Text(self.message))  # Text: the message is never markup

    def on_key(self) -> None:
        self.exit(1)


def end_with_the_server(seconds: float = 1.0) -> None:
    """A server killed outright (SIGKILL, a crash) cannot end its sessions: each
    notices its parent is gone within `seconds` and ends its own process group (the
    app and the chain check it may be running)."""
    import signal
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(seconds)
        if os.getpgrp() == os.getpid():  # started by the server: its own group
            os.killpg(0, signal.SIGKILL)
        os._exit(1)

    threading.Thread(target=watch, name="server-gone", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    end_with_the_server()
    p = argparse.ArgumentParser(prog="regtui-serve-session")
    p.add_argument("--user", required=True)
    p.add_argument("--read-only", action="store_true")
    args = p.parse_args(argv)

    from regtui.catalog.service import Catalog
    from regtui.errors import RegtuiError
    from regtui.text import printable
    from regtui.tui.app import make_app

    try:
        cat = Catalog(os.environ["REGTUI_DB"], user=args.user, read_only=args.read_only)
    except Exception as exc:  # RegtuiError, or a driver's own (a role that may not log in)
        why = str(exc) if isinstance(exc, RegtuiError) else f"{type(exc).__name__}: {exc}"
        line = f"regtui: cannot open the catalog as {args.user}: {why}"
        CannotOpen(printable(line, 500, one_line=True)).run()
        return 2
    with cat:
        app = make_app(cat, read_only="served read-only" if args.read_only else False)
        app.run()
        return int(app.return_code or 0)


if __name__ == "__main__":
    sys.exit(main())
