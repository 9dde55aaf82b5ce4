"""`regtui` command line: every action of the TUI as a command, for scripts and tests.

This module is the entry point: the global options, the parser built from the
commands that the `commands_*` modules declare (see cli.command), dispatch, and
how errors reach the user (one line on stderr, an exit code per kind).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import sys
from collections.abc import Sequence

from regtui import __version__
from regtui.cli.command import REGISTRY, Handler, Parser
from regtui.cli.examples import epilog
from regtui.errors import RegtuiError

# Each registers its commands on import; `regtui --help` lists them in this order.
COMMAND_MODULES = (
    "commands_intake",
    "commands_read",
    "commands_review",
    "commands_catalog",
    "commands_hooks",
    "commands_shell",
    "commands_serve",
)


def build_parser() -> Parser:
    for name in COMMAND_MODULES:
        importlib.import_module(f"regtui.cli.{name}")
    common = Parser(add_help=False)
    common.add_argument(
        "--db",
        default=argparse.SUPPRESS,
        metavar="PATH|URL",
        help="catalog: SQLite path or postgresql:// URL (default: REGTUI_DB, "
        "else the user data directory)",
    )
    common.add_argument(
        "--user",
        default=argparse.SUPPRESS,
        metavar="NAME",
        help="who is acting (default: REGTUI_USER, else the login name)",
    )
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
    )
    js = Parser(add_help=False)
    js.add_argument("--json", action="store_true", help="stable JSON output")

    p = Parser(
        prog="regtui",
        parents=[common],
        description="A local-first model registry. With no command, opens the TUI.",
        epilog=epilog(None),
    )
    p.add_argument("--version", action="version", version=f"regtui {__version__}")
    p.add_argument("--read-only", action="store_true", help="open the TUI without actions")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for c in REGISTRY:
        c.add_to(sub, common, js)
    return p


def _handler(name: str | None) -> Handler:
    if name is None:  # no command: the TUI
        from regtui.cli.tui import cmd_tui

        return cmd_tui
    return next(c.run for c in REGISTRY if c.name == name)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if "_ARGCOMPLETE" in os.environ:  # a shell asks for completions (cli.completion)
        from regtui.cli.completion import run

        run(build_parser())
        return 0  # without argcomplete: complete nothing, never run the command
    try:
        args = build_parser().parse_args(argv)
        code = _handler(args.command)(args)
        _flush_output()
        return code
    except RegtuiError as exc:
        if debug:
            raise
        _fail(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last net: one line, never a traceback unless asked
        if debug:
            raise
        if isinstance(exc, OSError) and exc.errno in _WRITE_FAILED:
            _fail(f"cannot write: {exc.strerror}; nothing more was written")  # a full disk
            return 1
        _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)")
        return 70


_WRITE_FAILED = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)


def _flush_output() -> None:
    """Flush stdout now: output lost to a full disk is an error, not a silent success."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        with contextlib.suppress(OSError):  # what was lost is not flushed again at exit
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        raise RegtuiError(f"cannot write the output: {exc.strerror or exc}") from None


def _fail(message: str) -> None:
    from regtui.text import printable

    first = printable(message, 2000, one_line=True)
    sys.stderr.write(f"regtui: error: {first}\n")
