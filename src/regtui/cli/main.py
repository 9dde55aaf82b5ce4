"""`regtui` command line: every action of the TUI as a command, for scripts and tests.

Imports of the catalog (SQLAlchemy) and the TUI (Textual) happen inside the
commands, so `regtui --version` and argument errors stay instant.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from regtui import __version__
from regtui.errors import RegtuiError, UsageError

if TYPE_CHECKING:
    from regtui.catalog.quickread import QuickReader
    from regtui.catalog.service import Catalog

T = TypeVar("T")


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors, as the command-line contract promises."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _kv(text: str) -> tuple[str, str]:
    if "=" not in text or text.startswith("="):
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), value


# A number as JSON writes one, in ASCII digits only (float() and int() also take
# '١٢', '1_000', ' inf' and 'nan'; none of those is a number here).
_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_NON_FINITE = re.compile(r"[+-]?(inf|infinity|nan)", re.IGNORECASE)
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")  # as float() reads


def _number(text: str) -> int | float | None:
    """`text` as a number when it is one (a JSON number, or a spelling of infinity
    or NaN, which the catalog then refuses by name); None when it is text."""
    text = text.strip()
    if _NON_FINITE.fullmatch(text):
        return float(text)
    if not _JSON_NUMBER.fullmatch(text):
        return None
    if any(c in text for c in ".eE"):
        return float(text)  # 1e999 is inf: refused, not stored
    return int(text)


def _scalar(value: str) -> Any:
    """Parameter values keep their type when they look like JSON numbers or booleans."""
    low = value.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    number = _number(value)
    return value if number is None else number


def _metric(key: str, value: str) -> float:
    text = value.strip()
    if not (_DECIMAL.fullmatch(text) or _NON_FINITE.fullmatch(text)):
        raise UsageError(f"metric {key!r} must be a number, got {value!r}")
    return float(text)  # inf, nan and 1e999 are refused by the catalog, by name


def _version(text: str) -> int:
    from regtui.catalog.refs import MAX_VERSION, version_number

    number = version_number(text.strip())
    if number is None:
        raise UsageError(f"expected a version number 1 … {MAX_VERSION}, got {text[:40]!r}")
    return number


def _settle(text: str) -> float:
    if not _DECIMAL.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}")
    value = float(text)
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError("settle time must be between 0 and 3600 seconds")
    return value


def build_parser() -> Parser:
    common = Parser(add_help=False)
    common.add_argument(
        "--db",
        default=argparse.SUPPRESS,
        help="catalog: SQLite path or postgresql:// URL (default: REGTUI_DB, "
        "else the user data directory)",
    )
    common.add_argument(
        "--user",
        default=argparse.SUPPRESS,
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
    )
    p.add_argument("--version", action="version", version=f"regtui {__version__}")
    p.add_argument("--read-only", action="store_true", help="open the TUI without actions")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    def cmd(name: str, help: str, *parents: Parser) -> Parser:
        return sub.add_parser(name, help=help, description=help, parents=[common, *parents])

    cmd("demo", "open the TUI on a fresh catalog seeded from sample_models/")

    w = cmd("watch", "watch folders and register finished model files", js)
    w.add_argument(
        "dirs",
        nargs="*",
        type=Path,
        metavar="DIR",
        help="folders to watch (default: the watch roots kept in the catalog)",
    )
    w.add_argument("--model", help="register everything as this model")
    w.add_argument(
        "--settle",
        type=_settle,
        default=None,
        help="seconds a file must be quiet before it counts as finished",
    )
    w.add_argument("--headless", action="store_true", help="no TUI: print one line per event")
    w.add_argument("--poll", action="store_true", help="poll instead of OS events (network FS)")

    s = cmd("scan", "one pass over folders: register what is new, then exit", js)
    s.add_argument("dirs", nargs="+", type=Path, metavar="DIR")
    s.add_argument("--model", help="register everything as this model")

    r = cmd("register", "register one file or bundle folder as a new version", js)
    r.add_argument("path", type=Path, metavar="PATH")
    r.add_argument("--model", required=True)
    r.add_argument("--metric", type=_kv, action="append", default=[], metavar="K=V")
    r.add_argument("--param", type=_kv, action="append", default=[], metavar="K=V")
    r.add_argument("--tag", type=_kv, action="append", default=[], metavar="K=V")
    r.add_argument(
        "--dataset",
        action="append",
        default=[],
        metavar="PATH|URI",
        help="data that made it: a file or folder (hashed) or a URI (recorded, never fetched)",
    )

    lg = cmd("log", "attach metrics/params to a version after registration", js)
    lg.add_argument("ref", metavar="REF")
    lg.add_argument("--metric", type=_kv, action="append", default=[], metavar="K=V")
    lg.add_argument("--param", type=_kv, action="append", default=[], metavar="K=V")
    lg.add_argument("--reason")

    cmd("models", "list models", js)

    v = cmd("versions", "list the versions of a model", js)
    v.add_argument("model", metavar="MODEL")
    v.add_argument(
        "--filter",
        dest="where",
        metavar="EXPR",
        help="e.g. \"metrics.auc > 0.9 and tags.team = 'growth'\"",
    )

    sh = cmd("show", "show one version (MODEL:VERSION, MODEL@STAGE or MODEL)", js)
    sh.add_argument("ref", metavar="REF")

    d = cmd("diff", "compare two versions", js)
    d.add_argument("left", metavar="REF")
    d.add_argument("right", metavar="REF")
    d.add_argument("--all", action="store_true", help="also list the fields that are equal")

    for name, verb in (("approve", "approve a version"), ("reject", "reject a version")):
        a = cmd(name, verb, js)
        a.add_argument("ref", metavar="REF")
        a.add_argument("--reason", required=True)

    pr = cmd("promote", "point a stage at a version", js)
    pr.add_argument("ref", metavar="REF")
    pr.add_argument(
        "--to",
        required=True,
        metavar="STAGE",
        dest="stages",
        action="append",
        help="repeat to move several stages at once (one transaction)",
    )
    pr.add_argument(
        "--demote",
        metavar="STAGE",
        action="append",
        default=[],
        help="also empty this stage, in the same transaction",
    )
    pr.add_argument("--reason")
    pr.add_argument(
        "--expect",
        metavar="VERSION|none",
        help="only if the stage still holds this version (else: conflict)",
    )

    rb = cmd("rollback", "move a stage back to the version it held before", js)
    rb.add_argument("model", metavar="MODEL")
    rb.add_argument("--stage", default="production")
    rb.add_argument("--to", type=_version, metavar="VERSION")
    rb.add_argument("--reason")

    dm = cmd("demote", "empty a stage", js)
    dm.add_argument("model", metavar="MODEL")
    dm.add_argument("--stage", required=True)
    dm.add_argument("--reason")

    st = cmd("stages", "stage history of a model (or what a stage held at a time)", js)
    st.add_argument("model", metavar="MODEL")
    st.add_argument("--stage")
    st.add_argument("--at", metavar="WHEN", help="ISO date/time: which version the stage held then")

    ar = cmd("archive", "archive a version (or --undo)", js)
    ar.add_argument("ref", metavar="REF")
    ar.add_argument("--reason")
    ar.add_argument("--undo", action="store_true")

    ed = cmd("edit", "edit a model's description/tags, or a version's tags", js)
    ed.add_argument("target", metavar="MODEL|REF")
    ed.add_argument("--description")
    ed.add_argument("--tag", type=_kv, action="append", default=[], metavar="K=V")
    ed.add_argument("--untag", action="append", default=[], metavar="K")
    ed.add_argument("--reason")

    rs = cmd("resolve", "print the artifact path of MODEL@STAGE (for serving code)", js)
    rs.add_argument("ref", metavar="MODEL@STAGE")
    rs.add_argument(
        "--no-check",
        action="store_true",
        help="skip re-hashing the artifact before printing its path",
    )
    rs.add_argument(
        "-0",
        "--null",
        action="store_true",
        help="end the path with NUL instead of a newline (for xargs -0)",
    )

    bk = cmd("backup", "take a consistent copy of a live SQLite catalog")
    bk.add_argument("file", type=Path, metavar="FILE")

    au = cmd("audit", "the audit log", js)
    au.add_argument("model", nargs="?", metavar="MODEL")
    au.add_argument("--actor")
    au.add_argument("--action")
    au.add_argument("--verify", action="store_true", help="check the hash chain")
    au.add_argument(
        "--head",
        nargs="?",
        const="",
        default=None,
        metavar="H",
        help="print the chain head; with --verify, check it equals H",
    )

    ve = cmd("verify", "re-hash artifacts: report missing or changed ones", js)
    ve.add_argument("model", nargs="?", metavar="MODEL")

    po = cmd("policy", "show or change the approval policy", js)
    po.add_argument("--protect", metavar="STAGES", help="comma-separated protected stages")
    po.add_argument("--distinct-approver", choices=["on", "off"])
    po.add_argument("--reason", help="why (required when --protect '' removes every protection)")

    ex = cmd("export", "write the whole catalog as JSON")
    ex.add_argument("file", type=Path, metavar="FILE", help="'-' for standard output")
    im = cmd("import", "load a catalog export into an empty catalog", js)
    im.add_argument("file", type=Path, metavar="FILE")

    cmd("locate", "print where the catalog, its store and data live", js)

    so = cmd("store", "show where kept copies live, or move them (--set)", js)
    so.add_argument(
        "--set",
        dest="location",
        metavar="LOCATION",
        help="keep copies in this folder from now on (existing ones are copied there)",
    )
    so.add_argument("--reason")
    return p


# --------------------------------------------------------------------- commands


def _open(args: argparse.Namespace, read_only: bool = False) -> Catalog:
    from regtui.catalog.service import Catalog

    return Catalog(getattr(args, "db", None), user=getattr(args, "user", None), read_only=read_only)


def _read_quickly(args: argparse.Namespace, fn: Callable[[QuickReader], T]) -> T | None:
    """`fn` over the stdlib-sqlite3 reader (catalog.quickread), or None when that
    path cannot answer and the command must open the full Catalog."""
    import sqlite3

    from regtui.catalog.quickread import NotHere, QuickReader

    reader = QuickReader.open(getattr(args, "db", None))
    if reader is None:
        return None
    try:
        with reader:
            return fn(reader)
    except (NotHere, sqlite3.Error):
        return None


def _emit_json(data: Any) -> None:
    from regtui.text import json_text

    sys.stdout.write(json_text(data, indent=2) + "\n")


def cmd_register(args: argparse.Namespace) -> int:
    from regtui.cli import output

    with _open(args) as cat:
        cand = cat.prepare(
            args.path,
            args.model,
            metrics={k: _metric(k, v) for k, v in args.metric},
            params={k: _scalar(v) for k, v in args.param},
            tags=dict(args.tag),
            datasets=args.dataset,
            dataset_progress=None if args.json else output.hash_progress("dataset"),
        )
        result = cat.add_candidates([cand])[0]
    if args.json:
        _emit_json(result.to_json())
    else:
        verb = "registered" if result.created else "already registered as"
        print(
            f"{verb} {output.ref(result.version)}  {output.human_size(result.version.size_bytes)}"
            f"  {result.version.format}"
        )
        if result.merged:
            print(f"merged into {output.ref(result.version)}: {output.changes(result.merged)}")
        output.print_warnings(result.version)
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    from regtui.cli import output

    metrics = {k: _metric(k, v) for k, v in args.metric}
    with _open(args) as cat:
        v, changed = cat.log_changes(
            args.ref,
            metrics=metrics,
            params={k: _scalar(v) for k, v in args.param},
            reason=args.reason,
        )
    if args.json:
        _emit_json({**v.to_json(), "changed": changed})
    else:
        print(f"{output.ref(v)}: {output.changes(changed) if changed else 'nothing changed'}")
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    from regtui.catalog.scan import scan
    from regtui.cli import output

    with _open(args) as cat:
        items = scan(
            cat, args.dirs, args.model, on_item=None if args.json else output.print_scan_item
        )
    if args.json:
        _emit_json([i.to_json() for i in items])
    else:
        output.print_scan_summary(items)
    return 1 if any(i.outcome == "error" for i in items) else 0


def cmd_models(args: argparse.Namespace) -> int:
    from regtui.cli import output

    models = _read_quickly(args, lambda q: q.models())
    if models is None:
        with _open(args) as cat:
            models = cat.models()
    if args.json:
        _emit_json([m.to_json() for m in models])
    else:
        output.print_models(models)
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    from regtui.cli import output

    versions = None if args.where else _read_quickly(args, lambda q: q.versions(args.model))
    if versions is None:
        with _open(args) as cat:
            versions = cat.versions(args.model, where=args.where)
    if args.json:
        from regtui.catalog.records import versions_json_text

        # Spliced, not re-encoded: 100,000 versions must list in well under a second.
        sys.stdout.write(versions_json_text(versions) + "\n")
    else:
        output.print_versions(versions)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from regtui.catalog.refs import parse_ref
    from regtui.cli import output

    ref = parse_ref(args.ref)
    found = _read_quickly(args, lambda q: (v := q.get(ref), q.stage_history(v.model)))
    if found is None:
        with _open(args) as cat:
            found = (v := cat.get(ref), cat.stage_history(v.model))
    v, history = found
    if args.json:
        _emit_json(v.to_json())
    else:
        output.print_version(v, history)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from regtui.cli import output

    with _open(args) as cat:
        diff = cat.diff(args.left, args.right)
    if args.json:
        _emit_json(diff.to_json())
    else:
        output.print_diff(diff, show_all=args.all)
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    from regtui.cli import output

    with _open(args) as cat:
        fn = cat.approve if args.command == "approve" else cat.reject
        v = fn(args.ref, args.reason)
    if args.json:
        _emit_json(v.to_json())
    else:
        print(f"{output.ref(v)} {v.approval.status} by {output.safe(v.approval.by)}")
    return 0


def _print_move(args: argparse.Namespace, move: Any) -> int:
    from regtui.cli import output

    if args.json:
        _emit_json(move.to_json())
    else:
        print(output.move_line(move))
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    with _open(args) as cat:
        expect = None
        if args.expect is not None:
            expect = 0 if args.expect == "none" else _version(args.expect)
        moves = cat.move_stages(
            args.ref, args.stages, args.demote, reason=args.reason, expect_version=expect
        )
    if len(moves) == 1:
        return _print_move(args, moves[0])
    if args.json:
        _emit_json([m.to_json() for m in moves])
    else:
        from regtui.cli import output

        for m in moves:
            print(output.move_line(m))
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    with _open(args) as cat:
        move = cat.rollback(args.model, args.stage, args.to, args.reason)
    return _print_move(args, move)


def cmd_demote(args: argparse.Namespace) -> int:
    with _open(args) as cat:
        move = cat.demote(args.model, args.stage, args.reason)
    return _print_move(args, move)


def cmd_stages(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from regtui.cli import output

    with _open(args) as cat:
        if args.at:
            if not args.stage:
                raise UsageError("--at needs --stage")
            try:
                when = datetime.fromisoformat(args.at)
            except ValueError:
                raise UsageError(f"--at: {args.at!r} is not an ISO date or time") from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            held = cat.stage_at(args.model, args.stage, when)
            if args.json:
                _emit_json(
                    {"model": args.model, "stage": args.stage, "at": args.at, "version": held}
                )
            else:
                print(
                    f"{args.model}@{args.stage} at {args.at}: "
                    + (f"version {held}" if held is not None else "nothing")
                )
            return 0
        moves = cat.stage_history(args.model, args.stage)
    if args.json:
        _emit_json([m.to_json() for m in moves])
    else:
        for m in moves:
            print(output.move_line(m))
    return 0


def cmd_archive(args: argparse.Namespace) -> int:
    from regtui.cli import output

    with _open(args) as cat:
        v = cat.archive(args.ref, args.reason, archived=not args.undo)
    if args.json:
        _emit_json(v.to_json())
    else:
        print(f"{output.ref(v)} {'archived' if v.archived else 'unarchived'}")
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    from regtui.catalog.refs import parse_ref
    from regtui.cli import output

    ref = parse_ref(args.target)
    with _open(args) as cat:
        if args.description is not None and (ref.version is not None or ref.stage is not None):
            raise UsageError("--description is for models; versions have tags")
        # The tags are merged inside the write transaction: a concurrent edit is
        # kept, and MODEL@STAGE is the version the stage holds as it is written.
        out = cat.edit(
            ref,
            description=args.description,
            tags=dict(args.tag),
            untag=args.untag,
            reason=args.reason,
        ).to_json()
    if args.json:
        _emit_json(out)
    else:
        print(f"edited {output.safe(args.target)}")
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    from regtui.catalog.artifacts import serve_path
    from regtui.catalog.refs import parse_ref
    from regtui.catalog.registration import REGISTRATION_SQL, identity_problem
    from regtui.catalog.stage_rules import check_holder
    from regtui.cli import output
    from regtui.errors import CatalogError, PolicyRefused

    ref = parse_ref(args.ref)

    def quick(q: QuickReader) -> tuple[Any, ...]:
        v = q.get(ref)
        row = q.con.execute(REGISTRATION_SQL, (v.model, v.ref)).fetchone()
        return v, q.store_location(), row[0] if row else None, q.policy()

    found = _read_quickly(args, quick)
    if found is None:
        with _open(args) as cat:
            v = cat.resolve(str(ref))
            found = (v, cat.store_location(), cat.registration(v), cat.policy())
    v, where, registered, policy = found
    # Serve only the artifact the log says was registered: a path and sha256
    # swapped together in the table would pass the re-hash below.
    problem = identity_problem(v, registered)
    if problem:
        raise CatalogError(problem)
    if ref.stage is not None:  # a stage pointer set outside regtui may hold anything
        try:
            check_holder(
                policy,
                ref.stage,
                ref=v.ref,
                archived=v.archived,
                approval=v.approval.status,
                damage=v.damage,
            )
        except PolicyRefused as exc:
            raise CatalogError(
                f"{ref} holds {v.ref}, which the policy does not allow there ({exc.detail}); "
                "not served: run `regtui audit --verify`"
            ) from None
    path = serve_path(v, where.path, check=not args.no_check)
    if args.json:
        _emit_json({**v.to_json(), "serve_path": str(path)})
    elif args.null:
        output.print_path(path, end=b"\0")
    else:
        if "\n" in str(path) and not sys.stdout.isatty():
            print(
                "regtui: warning: the path holds a newline; read it with -0 or --json",
                file=sys.stderr,
            )
        output.print_path(path)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from regtui.cli import output

    with _open(args) as cat:
        done = cat.backup(args.file)
    print(f"backed up the catalog to {args.file} ({done.pages} pages)", file=sys.stderr)
    if done.store is not None:
        print(
            f"copied {done.copies} kept copies into {output.safe(str(done.store), 500)}",
            file=sys.stderr,
        )
    for problem in done.problems:
        print(f"regtui: warning: not in the backup: {output.safe(problem, 500)}", file=sys.stderr)
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from regtui.cli import output

    with _open(args) as cat:
        if args.verify:
            # The chain, then the tables against what the chain records.
            check, state = cat.verify_catalog(args.head or None)
            if args.json:
                ok = check.ok and (state is None or state.ok)
                _emit_json(
                    {**check.to_json(), "ok": ok, "chain_ok": check.ok}
                    | (state.to_json() if state else {})
                )
            else:
                print(output.chain_line(check))
                if state is not None:
                    output.print_state(state)
            return 0 if check.ok and (state is None or state.ok) else 8
        if args.head is not None:
            seq, head = cat.audit_head()
            if args.json:
                _emit_json({"events": seq, "head": head})
            else:
                print(head)
            return 0
        events = cat.audit_events(args.model, actor=args.actor, action=args.action)
    if args.json:
        _emit_json([e.to_json() for e in events])
    else:
        output.print_events(events)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from regtui.cli import output

    with _open(args) as cat:
        checks = cat.verify_artifacts(args.model)
    if args.json:
        _emit_json([c.to_json() for c in checks])
    else:
        output.print_checks(checks)
    return 0 if all(c.state == "ok" for c in checks) else 9


def cmd_policy(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from regtui.cli import output

    with _open(args) as cat:
        policy = cat.policy()
        if args.protect is not None or args.distinct_approver is not None:
            if args.protect is not None:
                stages = tuple(s.strip() for s in args.protect.split(",") if s.strip())
                if policy.protected_stages and not stages and not (args.reason or "").strip():
                    raise UsageError(
                        "--protect '' removes protection from every stage: give --reason"
                    )
                policy = replace(policy, protected_stages=stages)
            if args.distinct_approver is not None:
                policy = replace(policy, distinct_approver=args.distinct_approver == "on")
            policy = cat.set_policy(policy, args.reason)
    if args.json:
        _emit_json(policy.to_json())
    else:
        print(f"protected stages: {output.safe(', '.join(policy.protected_stages)) or '(none)'}")
        print(f"approver must differ from creator: {'on' if policy.distinct_approver else 'off'}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    with _open(args) as cat:
        data = cat.export_data()
    from regtui.text import json_text

    text = json_text(data, indent=1, sort_keys=True) + "\n"
    if str(args.file) == "-":
        sys.stdout.write(text)
        return 0
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISREG(os.stat(args.file).st_mode):  # never replace a device or FIFO
            raise UsageError(f"{args.file} exists and is not a regular file; choose a file")
    tmp = args.file.with_name(args.file.name + ".partial")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(args.file)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {args.file}: {exc.strerror}") from None
    print(
        f"exported {len(data['models'])} models, {len(data['versions'])} versions, "
        f"{len(data['audit'])} events to {args.file}",
        file=sys.stderr,
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    try:
        data = json.loads(args.file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{args.file}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{args.file}: not readable JSON: {exc}") from None
    except RecursionError:  # json's decoder recurses once per nesting level
        raise UsageError(f"{args.file}: not a catalog export: JSON nested too deeply") from None
    from regtui.cli import output

    notes: list[str] = []
    with _open(args) as cat:
        n = cat.import_data(data, notes)
    for note in notes:
        print(f"regtui: note: {output.safe(note, 500)}", file=sys.stderr)
    if args.json:
        _emit_json({"versions": n, **({"notes": notes} if notes else {})})
    else:
        print(f"imported {n} versions")
    return 0


def cmd_locate(args: argparse.Namespace) -> int:
    from regtui import settings

    info: dict[str, Any] = {
        "catalog": settings.database_url(getattr(args, "db", None)),
        "data_dir": str(settings.data_dir()),
        "user": settings.current_user(getattr(args, "user", None)),
    }
    try:
        where = _store_location(args)
    except RegtuiError as exc:  # locate still answers what it can
        info["store"], info["store_note"] = None, f"unknown: {exc}"
    else:
        info["store"], info["store_note"] = str(where.path), where.note
    if args.json:
        _emit_json(info)
    else:
        from regtui.cli import output

        for k, v in info.items():
            print(f"{k}: {output.safe(str(v), 500)}")
    return 0


def _store_location(args: argparse.Namespace) -> Any:
    """The catalog's store without creating a catalog that is not there yet."""
    from regtui import settings
    from regtui.catalog import store

    where = _read_quickly(args, lambda q: q.store_location())
    if where is not None:
        return where
    url = settings.database_url(getattr(args, "db", None))
    file = settings.sqlite_file(url)
    if file is not None and not Path(file).exists():
        return store.location_for(url, None)  # no catalog yet, so no setting either
    with _open(args) as cat:
        return cat.store_location()


def cmd_store(args: argparse.Namespace) -> int:
    from regtui.catalog import store
    from regtui.cli import output

    if args.location is not None:
        given = args.location
        args.location = store.absolute_location(given)  # a blank one: a usage error
        if not Path(given).expanduser().is_absolute():
            print(
                f"regtui: note: {output.safe(given, 200)} is relative: using "
                f"{output.safe(str(args.location), 500)}",
                file=sys.stderr,
            )
    with _open(args) as cat:
        if args.location is not None:
            before = cat.store_location()
            where = cat.set_store_location(args.location, args.reason)
        else:
            if args.reason is not None:
                raise UsageError("--reason goes with --set")
            before, where = None, cat.store_location()
        kept = cat.count_kept_copies()

    # None until the folder exists: nothing has been kept there yet.
    reflinks = store.reflinks_work(where.path) if where.path.is_dir() else None
    if args.json:
        _emit_json(
            {
                **where.to_json(),
                "kept_copies": kept.present,
                "missing_copies": kept.missing,
                "reflinks": reflinks,
            }
        )
        return 0
    if before is not None:
        print(
            f"moved the store to {output.safe(str(where.path), 500)} ({kept.present} kept copies "
            f"copied; the old ones stay in {output.safe(str(before.path), 500)})"
        )
        return 0
    print(f"store: {output.safe(str(where.path), 500)}")
    print(f"source: {output.safe(where.source)}")
    print(f"host-local: {'yes' if where.host_local else 'no'}")
    print(f"kept copies: {kept.present}")
    if kept.missing:
        print(
            f"missing kept copies: {kept.missing} (`regtui verify` lists them; "
            "resolve falls back to training output that still matches)"
        )
    if reflinks is not None:
        print(
            "copies are copy-on-write clones (reflinks)"
            if reflinks
            else "copies are full copies (this file system has no reflinks)"
        )
    print(output.safe(where.note, 2000))
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    try:
        from regtui.watch.headless import run_headless
    except ImportError:
        raise RegtuiError("the watcher is not available in this build") from None
    with _open(args) as cat:
        dirs = list(args.dirs)
        if not args.headless:
            return _run_tui(args, cat, watch_dirs=dirs)
        return run_headless(cat, dirs, args.model, args.settle, args.poll, args.json)


def _run_tui(args: argparse.Namespace, cat: Catalog, watch_dirs: list[Path] | None = None) -> int:
    from regtui.tui.app import make_app

    app = make_app(cat, watch_dirs=watch_dirs, read_only=getattr(args, "read_only", False))
    app.run()
    return int(app.return_code or 0)


def cmd_tui(args: argparse.Namespace) -> int:
    from regtui import settings

    # A catalog we may not write (a copy for offline review, say) opens read-only
    # with actions disabled, instead of failing at the first change.
    read_only = args.read_only or settings.sqlite_is_read_only(getattr(args, "db", None))
    args.read_only = read_only
    with _open(args, read_only=read_only) as cat:
        return _run_tui(args, cat)


def cmd_demo(args: argparse.Namespace) -> int:
    from regtui.demo import run_demo

    return run_demo()


COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: cmd_tui,
    "demo": cmd_demo,
    "watch": cmd_watch,
    "scan": cmd_scan,
    "register": cmd_register,
    "log": cmd_log,
    "models": cmd_models,
    "versions": cmd_versions,
    "show": cmd_show,
    "diff": cmd_diff,
    "approve": cmd_decide,
    "reject": cmd_decide,
    "promote": cmd_promote,
    "rollback": cmd_rollback,
    "demote": cmd_demote,
    "stages": cmd_stages,
    "archive": cmd_archive,
    "edit": cmd_edit,
    "resolve": cmd_resolve,
    "backup": cmd_backup,
    "audit": cmd_audit,
    "verify": cmd_verify,
    "policy": cmd_policy,
    "export": cmd_export,
    "import": cmd_import,
    "locate": cmd_locate,
    "store": cmd_store,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        code = COMMANDS[args.command](args)
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
