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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help as written: the examples' lines stay as they are (Raw…), and an option
    with a default worth saying shows it, unless its help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            not action.option_strings
            or "default" in text
            or default in (None, False, True, argparse.SUPPRESS)
            or default == []
        ):
            return text
        return text + " (default: %(default)s)"


# A positional argument's help, by its metavar: the same words wherever it appears.
POSITIONAL_HELP = {
    "REF": "a version: MODEL:N, MODEL@STAGE or MODEL (its latest); also models:/MODEL/N",
    "MODEL": "a model name (one holding ':' or '@' in double quotes)",
    "MODEL@STAGE": "the stage to serve from (any REF works)",
    "MODEL|REF": "a model (edits the model) or a version REF (edits the version)",
}


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
        the global options (`common`), `--json` (`js`) if it takes it, then its own,
        with its examples (cli.examples) after the options."""
        from regtui.cli.examples import epilog

        parents = [common, js] if self.json else [common]
        p = sub.add_parser(
            self.name,
            help=self.help,
            description=self.help,
            parents=parents,
            epilog=epilog(self.name),
            formatter_class=HelpFormatter,
        )
        for a in self.args:
            options = dict(a.options)
            if not a.flags[0].startswith("-") and not options.get("help"):
                options["help"] = POSITIONAL_HELP.get(options.get("metavar", ""))
            action = p.add_argument(*a.flags, **options)
            completer = _completer(action)
            if completer is not None:
                action.completer = completer  # type: ignore[attr-defined,unused-ignore]  # argcomplete


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
def kv_list(flag: str, help: str) -> Arg:
    """A repeatable KEY=VALUE option (`--metric auc=0.9 --metric f1=0.8`)."""
    return arg(flag, type=kv, action="append", default=[], metavar="K=V", help=help)


def _completer(action: argparse.Action) -> Any:
    """What completes this argument's value from the catalog (argcomplete's hook,
    read only while completing): model names for a MODEL, refs for a REF."""
    from regtui.cli import completion

    return completion.completer_for(action.metavar, action.dest)


REASON = arg(
    "--reason",
    required=True,
    help="why: kept with who and when in the audit log (required, as the TUI asks)",
)
