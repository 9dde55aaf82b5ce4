"""Commands that review versions and move stages: approve, reject, promote,
rollback, demote, stages, archive, edit."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from regtui.catalog.clock import iso
from regtui.cli import values
from regtui.cli.access import open_catalog
from regtui.cli.command import REASON, arg, command, kv_list
from regtui.errors import RegtuiError, UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from regtui.catalog.records import StageMove, VersionInfo
    from regtui.catalog.service import Catalog

REF = arg("ref", metavar="REF")
REFS = arg(
    "refs",
    nargs="+",
    metavar="REF",
    help="one or more versions: MODEL:N, MODEL@STAGE or MODEL; all are checked "
    "first and all change, or none does",
)
MODEL = arg("model", type=values.model_name, metavar="MODEL")


def _each(
    args: argparse.Namespace,
    change: Callable[[Catalog], list[VersionInfo]],
    line: Callable[[VersionInfo], str],
) -> None:
    """Run a change over several refs (one transaction in the catalog) and print
    one line per version; as JSON one object for one ref, a list for several."""
    from regtui.cli import output

    with open_catalog(args) as cat:
        try:
            changed = change(cat)
        except RegtuiError as exc:
            if len(args.refs) > 1:  # the message names the ref; say the rest stayed
                exc.args = (f"{exc}; none of the {len(args.refs)} versions was changed",)
            raise

    def text() -> None:
        for v in changed:
            print(line(v))

    data = changed[0].to_json if len(changed) == 1 else lambda: [v.to_json() for v in changed]
    output.emit(args, data, text)


def _decided(v: VersionInfo) -> str:
    from regtui.cli import output

    return f"{output.ref(v)} {v.approval.status} by {output.safe(v.approval.by)}"


@command("approve", "approve one or more versions", REFS, REASON)
def cmd_approve(args: argparse.Namespace) -> int:
    _each(args, lambda cat: cat.approve_many(args.refs, args.reason), _decided)
    return 0


@command("reject", "reject one or more versions", REFS, REASON)
def cmd_reject(args: argparse.Namespace) -> int:
    _each(args, lambda cat: cat.reject_many(args.refs, args.reason), _decided)
    return 0


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
        help="the stage to point at REF; repeat to move several at once (one transaction)",
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
        help="only if the stage still holds this version ('none': is empty); "
        "else a conflict (exit 5) and nothing moves",
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
    MODEL,
    arg("--stage", default="production", help="the stage to move back"),
    arg(
        "--to",
        type=values.version,
        metavar="VERSION",
        help="a version the stage held before (default: the one before the current)",
    ),
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
    MODEL,
    arg("--stage", required=True, help="the stage to empty"),
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
    MODEL,
    arg("--stage", help="only this stage's history (needed with --at)"),
    arg(
        "--at",
        metavar="WHEN",
        help="which version the stage held then: an ISO time (UTC unless it says), "
        "or a date, meaning the end of that day in UTC, as times are shown",
    ),
)
def cmd_stages(args: argparse.Namespace) -> int:
    from regtui.cli import output

    with open_catalog(args) as cat:
        if args.at:
            when, whole_day = _when(args)
            held = cat.stage_at(args.model, args.stage, when)
            output.emit(
                args,
                lambda: {
                    "model": args.model,
                    "stage": args.stage,
                    "at": args.at,
                    "as_of": iso(when),
                    "version": held,
                },
                lambda: print(_held_line(args, when, whole_day, held)),
            )
            return 0
        moves = cat.stage_history(args.model, args.stage)

    def text() -> None:
        for m in moves:
            print(output.move_line(m))

    output.emit(args, lambda: [m.to_json() for m in moves], text)
    return 0


def _held_line(args: argparse.Namespace, when: datetime, whole_day: bool, held: int | None) -> str:
    from regtui.catalog.refs import quote_model
    from regtui.cli import output

    at = f"at the end of {when.date()} (UTC)" if whole_day else f"at {iso(when)}"
    holds = f"version {held}" if held is not None else "nothing"
    return f"{output.safe(quote_model(args.model))}@{output.safe(args.stage)} {at}: {holds}"


def _when(args: argparse.Namespace) -> tuple[datetime, bool]:
    """`--at` as a time, and whether it was a date alone (values.when). It needs `--stage`."""
    if not args.stage:
        raise UsageError("--at needs --stage")
    return values.when(args.at, "--at")


@command(
    "archive",
    "archive one or more versions (or --undo)",
    REFS,
    REASON,
    arg("--undo", action="store_true", help="unarchive them instead"),
)
def cmd_archive(args: argparse.Namespace) -> int:
    from regtui.cli import output

    _each(
        args,
        lambda cat: cat.archive_many(args.refs, args.reason, archived=not args.undo),
        lambda v: f"{output.ref(v)} {'archived' if v.archived else 'unarchived'}",
    )
    return 0


@command(
    "edit",
    "edit the description and tags of a model, or of a version",
    arg("target", metavar="MODEL|REF"),
    arg("--description", help="the new description ('' clears a version's)"),
    kv_list("--tag", "set a tag (repeatable): --tag owner=ml"),
    arg("--untag", action="append", default=[], metavar="K", help="remove a tag (repeatable)"),
    REASON,
)
def cmd_edit(args: argparse.Namespace) -> int:
    from regtui.catalog.refs import parse_ref
    from regtui.cli import output

    if args.description is None and not args.tag and not args.untag:
        raise UsageError("name what to change: --description, --tag or --untag")
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
