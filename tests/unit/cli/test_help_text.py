"""Every command's --help explains every option and ends with examples.

The parser is walked, not a list of commands: a command or option added later
without help text, or a command without examples, fails here.
"""

from __future__ import annotations

import argparse
import re

import pytest

from regtui.cli.main import build_parser


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("regtui has no subcommands")


PARSER = build_parser()
COMMANDS = _subparsers(PARSER)
EVERY = [("regtui", PARSER), *((f"regtui {n}", p) for n, p in COMMANDS.items())]


def _explained(action: argparse.Action) -> bool:
    return bool(action.help and action.help != argparse.SUPPRESS and action.help.strip())


@pytest.mark.parametrize(("name", "parser"), EVERY, ids=[n for n, _ in EVERY])
def test_every_argument_has_help_text(name: str, parser: argparse.ArgumentParser) -> None:
    bare = [
        "/".join(a.option_strings) or str(a.metavar or a.dest)
        for a in parser._actions
        if not isinstance(a, argparse._SubParsersAction) and not _explained(a)
    ]
    assert not bare, f"{name}: no help text for {bare}"


@pytest.mark.parametrize(("name", "parser"), EVERY, ids=[n for n, _ in EVERY])
def test_every_help_ends_with_examples_of_that_command(
    name: str, parser: argparse.ArgumentParser
) -> None:
    text = parser.format_help()
    assert "\nexamples:\n" in text, f"{name} --help has no examples"
    examples = text.split("\nexamples:\n", 1)[1].splitlines()
    assert examples and all("regtui " in line for line in examples), examples
    if name != "regtui":
        command = re.escape(name.split()[1])
        assert any(re.search(rf"regtui (--\S+ \S+ )*{command}\b", x) for x in examples), examples


@pytest.mark.parametrize(("name", "parser"), EVERY, ids=[n for n, _ in EVERY])
def test_a_default_worth_knowing_is_shown(name: str, parser: argparse.ArgumentParser) -> None:
    """An option whose default is a value (not None, off, or an empty list) says it."""
    text = " ".join(parser.format_help().split())
    for a in parser._actions:
        if not a.option_strings or a.default in (None, False, True, argparse.SUPPRESS, []):
            continue
        shown = parser._get_formatter()._expand_help(a)  # type: ignore[attr-defined]
        assert "default" in shown, f"{name} {a.option_strings}: default {a.default!r} not shown"
        assert " ".join(shown.split()) in text


def test_rollback_names_its_default_stage() -> None:
    assert "(default: production)" in " ".join(COMMANDS["rollback"].format_help().split())


def test_settle_says_its_default() -> None:
    assert "else 2)" in " ".join(COMMANDS["watch"].format_help().split())


CHANGES_THE_TUI_ASKS_WHY = ("approve", "reject", "promote", "rollback", "demote", "archive", "edit")


@pytest.mark.parametrize("name", CHANGES_THE_TUI_ASKS_WHY)
def test_reason_is_required_where_the_tui_asks_one(name: str) -> None:
    (reason,) = [a for a in COMMANDS[name]._actions if "--reason" in a.option_strings]
    assert reason.required, f"regtui {name}: --reason must be required"
