"""What a CLI command is: its name, help, arguments and handler, declared together.

A command module decorates its handler with `@command(...)`, listing the
handler's arguments beside it; the decorator adds it to `REGISTRY`, from which
`main` builds the parser and dispatches. Adding a command touches one module.

Only argparse is imported here and in the command modules at import time: the
catalog (SQLAlchemy) and the TUI (Textual) are imported inside the handlers, so
`regtui --version` and argument errors stay instant.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from regtui.cli.values import kv
from regtui.errors import UsageError

Handler = Callable[[argparse.Namespace], int]


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors, as the command-line contract promises."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


@dataclass(frozen=True)
class Arg:
    """One `add_argument` call, kept until the command's parser is built."""

    flags: tuple[str, ...]
    options: dict[str, Any]


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    args: tuple[Arg, ...]
    run: Handler
    json: bool  # takes --json (then `cli.output.emit` renders its answer as JSON)

    def add_to(self, sub: Any, common: Parser, js: Parser) -> None:
        """Add this command's parser to `sub`, the top parser's subparsers:
        the global options (`common`), `--json` (`js`) if it takes it, then its own."""
        parents = [common, js] if self.json else [common]
        p = sub.add_parser(self.name, help=self.help, description=self.help, parents=parents)
        for a in self.args:
            p.add_argument(*a.flags, **a.options)


# In the order `regtui --help` lists them: main imports the command modules in
# order, and each registers its commands top to bottom.
REGISTRY: list[Command] = []


def command(name: str, help: str, *args: Arg, json: bool = True) -> Callable[[Handler], Handler]:
    """Register the decorated handler as `regtui NAME`, with these arguments."""

    def register(run: Handler) -> Handler:
        if any(c.name == name for c in REGISTRY):
            raise ValueError(f"two commands named {name!r}")
        REGISTRY.append(Command(name, help, args, run, json))
        return run

    return register


# Options several commands share.
def kv_list(flag: str) -> Arg:
    """A repeatable KEY=VALUE option (`--metric auc=0.9 --metric f1=0.8`)."""
    return arg(flag, type=kv, action="append", default=[], metavar="K=V")


REASON = arg("--reason")
