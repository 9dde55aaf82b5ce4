"""Commands about the shell regtui runs in: completion."""

from __future__ import annotations

import argparse
import sys

from regtui.cli.command import arg, command


@command(
    "completion",
    "print a shell script that completes regtui's commands, options, models and refs",
    arg(
        "shell",
        choices=("bash", "zsh", "fish"),
        metavar="SHELL",
        help="bash, zsh or fish",
    ),
    json=False,
)
def cmd_completion(args: argparse.Namespace) -> int:
    from regtui.cli.completion import script

    sys.stdout.write(script(args.shell))
    return 0
