"""Commands that review versions and move stages: approve, reject, promote,
rollback, demote, stages, archive, edit."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from regtui.cli import values
from regtui.cli.access import open_catalog
from regtui.cli.command import REASON, arg, command, kv_list
from regtui.errors import UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from regtui.catalog.records import StageMove

REF = arg("ref", metavar="REF")


def _decide(args: argparse.Namespace, approve: bool) -> int:
    from regtui.cli import output

    with open_catalog(args) as cat:
        v = (cat.approve if approve else cat.reject)(args.ref, args.reason)
    line = f"{output.ref(v)} {v.approval.status} by {output.safe(v.approval.by)}"
    output.emit(args, v.to_json, line)
    return 0


@command("approve", "approve a version", REF, arg("--reason", required=True))
def cmd_approve(args: argparse.Namespace) -> int:
    return _decide(args, approve=True)


@command("reject", "reject a version", REF, arg("--reason", required=True))
def cmd_reject(args: argparse.Namespace) -> int:
    return _decide(args, approve=False)


def _emit_moves(args: argparse.Namespace, moves: list[StageMove]) -> None:
    """Stage moves: one as an object, several as a list; one line each as text."""
    from regtui.cli import output

    def text() -> None:
        for m in moves:
            print(output.move_line(m))

    data = moves[0].to_json if len(moves) == 1 else lambda: [m.to_json() for m in moves]
    output.emit(args, data, text)


@command(
    "promote",
    "point a stage at a version",
    REF,
    arg(
        "--to",
        required=True,
        metavar="STAGE",
        dest="stages",
        action="append",
        help="repeat to move several stages at once (one transaction)",
    ),
    arg(
        "--demote",
        metavar="STAGE",
        action="append",
        default=[],
        help="also empty this stage, in the same transaction",
    ),
    REASON,
    arg(
        "--expect",
        metavar="VERSION|none",
        help="only if the stage still holds this version (else: conflict)",
    ),
)
def cmd_promote(args: argparse.Namespace) -> int:
    with open_catalog(args) as cat:
        expect = None
        if args.expect is not None:
            expect = 0 if args.expect == "none" else values.version(args.expect)
        moves = cat.move_stages(
            args.ref, args.stages, args.demote, reason=args.reason, expect_version=expect
        )
    _emit_moves(args, moves)
    return 0


@command(
    "rollback",
    "move a stage back to the version it held before",
    arg("model", type=values.model_name, metavar="MODEL"),
    arg("--stage", default="production"),
    arg("--to", type=values.version, metavar="VERSION"),
    REASON,
)
def cmd_rollback(args: argparse.Namespace) -> int:
    with open_catalog(args) as cat:
        move = cat.rollback(args.model, args.stage, args.to, args.reason)
    _emit_moves(args, [move])
    return 0


@command(
    "demote",
    "empty a stage",
    arg("model", type=values.model_name, metavar="MODEL"),
    arg("--stage", required=True),
    REASON,
)
def cmd_demote(args: argparse.Namespace) -> int:
    with open_catalog(args) as cat:
        move = cat.demote(args.model, args.stage, args.reason)
    _emit_moves(args, [move])
    return 0


@command(
    "stages",
    "stage history of a model (or what a stage held at a time)",
    arg("model", type=values.model_name, metavar="MODEL"),
    arg("--stage"),
    arg("--at", metavar="WHEN", help="ISO date/time: which version the stage held then"),
)
def cmd_stages(args: argparse.Namespace) -> int:
    from regtui.cli import output

    with open_catalog(args) as cat:
        if args.at:
            held = cat.stage_at(args.model, args.stage, _when(args))
            output.emit(
                args,
                lambda: {"model": args.model, "stage": args.stage, "at": args.at, "version": held},
                f"{args.model}@{args.stage} at {args.at}: "
                + (f"version {held}" if held is not None else "nothing"),
            )
            return 0
        moves = cat.stage_history(args.model, args.stage)

    def text() -> None:
        for m in moves:
            print(output.move_line(m))

    output.emit(args, lambda: [m.to_json() for m in moves], text)
    return 0


def _when(args: argparse.Namespace) -> datetime:
    """`--at` as a time (UTC unless it says otherwise); it needs `--stage`."""
    from datetime import UTC, datetime

    if not args.stage:
        raise UsageError("--at needs --stage")
    try:
        when = datetime.fromisoformat(args.at)
    except ValueError:
        raise UsageError(f"--at: {args.at!r} is not an ISO date or time") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@command(
    "archive",
    "archive a version (or --undo)",
    REF,
    REASON,
    arg("--undo", action="store_true"),
)
def cmd_archive(args: argparse.Namespace) -> int:
    from regtui.cli import output

    with open_catalog(args) as cat:
        v = cat.archive(args.ref, args.reason, archived=not args.undo)
    output.emit(args, v.to_json, f"{output.ref(v)} {'archived' if v.archived else 'unarchived'}")
    return 0


@command(
    "edit",
    "edit the description and tags of a model, or of a version",
    arg("target", metavar="MODEL|REF"),
    arg("--description", help="the new description ('' clears a version's)"),
    kv_list("--tag"),
    arg("--untag", action="append", default=[], metavar="K"),
    REASON,
)
def cmd_edit(args: argparse.Namespace) -> int:
    from regtui.catalog.refs import parse_ref
    from regtui.cli import output

    ref = parse_ref(args.target)
    with open_catalog(args) as cat:
        # The tags are merged inside the write transaction: a concurrent edit is
        # kept, and MODEL@STAGE is the version the stage holds as it is written.
        edited = cat.edit(
            ref,
            description=args.description,
            tags=dict(args.tag),
            untag=args.untag,
            reason=args.reason,
        )
    output.emit(args, edited.to_json, f"edited {output.safe(args.target)}")
    return 0
