"""Commands about the catalog as a whole: serving from it (resolve), copying it
(backup, export, import), checking it (audit, verify), its rules (policy), and
where it and its kept copies live (locate, store)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from regtui.cli import values
from regtui.cli.access import open_catalog, read_quickly
from regtui.cli.command import arg, command
from regtui.errors import RegtuiError, UsageError
from regtui.text import counted

if TYPE_CHECKING:
    from regtui.catalog.quickread import QuickReader
    from regtui.catalog.store import StoreLocation


@command(
    "resolve",
    "print the artifact path of MODEL@STAGE (for serving code)",
    arg("ref", metavar="MODEL@STAGE"),
    arg(
        "--no-check",
        action="store_true",
        help="skip re-hashing the artifact before printing its path",
    ),
    arg(
        "-0",
        "--null",
        action="store_true",
        help="end the path with NUL instead of a newline (for xargs -0)",
    ),
    arg(
        "--uri",
        action="store_true",
        help="print a URI instead of a local path: the object URL (s3://…) of a kept "
        "copy in a bucket, re-hashed there, for serving systems that read it themselves; "
        "file://… otherwise",
    ),
)
def cmd_resolve(args: argparse.Namespace) -> int:
    from regtui.catalog.artifacts import serve_path, serve_uri
    from regtui.catalog.refs import parse_ref
    from regtui.catalog.registration import REGISTRATION_SQL, identity_problem
    from regtui.catalog.stage_rules import check_holder
    from regtui.cli import output
    from regtui.errors import CatalogError, PolicyRefused

    ref = parse_ref(args.ref)

    def quick(q: QuickReader) -> tuple[Any, ...]:
        v = q.get(ref)
        row = q.con.execute(REGISTRATION_SQL, (v.model, v.target)).fetchone()
        return v, q.store_location(), row[0] if row else None, q.policy()

    found = read_quickly(args, quick)
    if found is None:
        with open_catalog(args) as cat:
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
    if args.uri:
        uri = serve_uri(v, where.path, check=not args.no_check)
        end = "\0" if args.null else "\n"
        output.emit(
            args,
            lambda: {**v.to_json(), "serve_uri": uri},
            lambda: sys.stdout.write(output.safe(uri, 4000) + end),
        )
        return 0
    path = serve_path(v, where.path, check=not args.no_check)

    def text() -> None:
        if args.null:
            output.print_path(path, end=b"\0")
            return
        if "\n" in str(path) and not sys.stdout.isatty():
            print(
                "regtui: warning: the path holds a newline; read it with -0 or --json",
                file=sys.stderr,
            )
        output.print_path(path)

    output.emit(args, lambda: {**v.to_json(), "serve_path": str(path)}, text)
    return 0


@command(
    "backup",
    "take a consistent copy of a live SQLite catalog",
    arg("file", type=Path, metavar="FILE", help="the copy to write (a new file)"),
    json=False,
)
def cmd_backup(args: argparse.Namespace) -> int:
    from regtui.cli import output

    with open_catalog(args) as cat:
        done = cat.backup(args.file)
    print(
        f"backed up the catalog to {output.safe(str(args.file), 500)} "
        f"({counted(done.pages, 'page')})",
        file=sys.stderr,
    )
    if done.store is not None:
        print(
            f"copied {counted(done.copies, 'kept copy', 'kept copies')} into "
            f"{output.safe(str(done.store), 500)}",
            file=sys.stderr,
        )
    for problem in done.problems:
        print(f"regtui: warning: not in the backup: {output.safe(problem, 500)}", file=sys.stderr)
    return 0


@command(
    "audit",
    "the audit log",
    arg(
        "model",
        nargs="?",
        type=values.model_name,
        metavar="MODEL",
        help="only this model's events (default: every event)",
    ),
    arg("--actor", metavar="NAME", help="only events by this user"),
    arg(
        "--action",
        metavar="ACTION",
        help="only events of this kind (registered, approved, promoted, edited, …)",
    ),
    arg("--verify", action="store_true", help="check the hash chain"),
    arg(
        "--follow",
        "-f",
        action="store_true",
        help="keep printing new events as they happen, one line (or JSON object) each; "
        "without --since, the last 10 first",
    ),
    arg(
        "--since",
        metavar="SEQ|TIME",
        help="with --follow: the events after sequence number SEQ (0: all), or from an "
        "ISO time or date (UTC) on",
    ),
    arg(
        "--head",
        nargs="?",
        const="",
        default=None,
        metavar="H",
        help="print the chain head; with --verify, check it equals H",
    ),
)
def cmd_audit(args: argparse.Namespace) -> int:
    from regtui.cli import output

    if args.since is not None and not args.follow:
        raise UsageError("--since goes with --follow")
    if args.follow and (args.verify or args.head is not None):
        raise UsageError("--follow prints events; it does not go with --verify or --head")
    with open_catalog(args) as cat:
        if args.follow:
            from regtui.cli.audit_follow import follow

            return follow(cat, args)
        if args.verify:
            # The chain, then the tables against what the chain records.
            from regtui.cli.verify_progress import VerifyProgress

            progress = VerifyProgress()
            try:
                check, state = cat.verify_catalog(args.head or None, progress)
            finally:
                progress.finish()
            ok = check.ok and (state is None or state.ok)

            def verified() -> None:
                print(output.chain_line(check))
                if state is not None:
                    output.print_state(state)

            output.emit(
                args,
                lambda: (
                    {**check.to_json(), "ok": ok, "chain_ok": check.ok}
                    | (state.to_json() if state else {})
                ),
                verified,
            )
            return 0 if ok else 8
        if args.head is not None:
            seq, head = cat.audit_head()
            output.emit(args, lambda: {"events": seq, "head": head}, head)
            return 0
        events = cat.audit_events(args.model, actor=args.actor, action=args.action)
    output.emit(args, lambda: [e.to_json() for e in events], lambda: output.print_events(events))
    return 0


@command(
    "verify",
    "re-hash artifacts: report missing or changed ones",
    arg(
        "model",
        nargs="?",
        type=values.model_name,
        metavar="MODEL",
        help="only this model's versions (default: every version)",
    ),
)
def cmd_verify(args: argparse.Namespace) -> int:
    from regtui.cli import output

    with open_catalog(args) as cat:
        checks = cat.verify_artifacts(args.model)
    output.emit(args, lambda: [c.to_json() for c in checks], lambda: output.print_checks(checks))
    return 0 if all(c.state == "ok" for c in checks) else 9


@command(
    "policy",
    "show or change the approval policy",
    arg("--protect", metavar="STAGES", help="comma-separated protected stages"),
    arg(
        "--distinct-approver",
        choices=["on", "off"],
        help="on: whoever registered a version may not approve it",
    ),
    arg("--reason", help="why (required when --protect '' removes every protection)"),
)
def cmd_policy(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from regtui.cli import output

    with open_catalog(args) as cat:
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

    def text() -> None:
        print(f"protected stages: {output.safe(', '.join(policy.protected_stages)) or '(none)'}")
        print(f"approver must differ from creator: {'on' if policy.distinct_approver else 'off'}")

    output.emit(args, policy.to_json, text)
    return 0


@command(
    "export",
    "write the whole catalog as JSON",
    arg("file", type=Path, metavar="FILE", help="'-' for standard output"),
    json=False,
)
def cmd_export(args: argparse.Namespace) -> int:
    from regtui.cli import output
    from regtui.path_problems import describe

    with open_catalog(args) as cat:
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
        raise UsageError(f"cannot write {describe(args.file, exc)}") from None
    print(
        f"exported {counted(len(data['models']), 'model')}, "
        f"{counted(len(data['versions']), 'version')}, "
        f"{counted(len(data['audit']), 'event')} to {output.safe(str(args.file), 500)}",
        file=sys.stderr,
    )
    return 0


@command(
    "import",
    "load a catalog export into an empty catalog",
    arg("file", type=Path, metavar="FILE", help="a file `regtui export` wrote"),
)
def cmd_import(args: argparse.Namespace) -> int:
    from regtui.path_problems import describe

    try:
        data = json.loads(args.file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {describe(args.file, exc)}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{args.file}: not readable JSON: {exc}") from None
    except RecursionError:  # json's decoder recurses once per nesting level
        raise UsageError(f"{args.file}: not a catalog export: JSON nested too deeply") from None
    from regtui.cli import output

    notes: list[str] = []
    with open_catalog(args) as cat:
        n = cat.import_data(data, notes)
    for note in notes:
        print(f"regtui: note: {output.safe(note, 500)}", file=sys.stderr)
    output.emit(
        args,
        lambda: {"versions": n, **({"notes": notes} if notes else {})},
        f"imported {counted(n, 'version')}",
    )
    return 0


@command("locate", "print where the catalog, its store and data live")
def cmd_locate(args: argparse.Namespace) -> int:
    from regtui import settings
    from regtui.cli import output

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

    def text() -> None:
        for k, v in info.items():
            print(f"{k}: {output.safe(output.human(v), 500)}")

    output.emit(args, lambda: info, text)
    return 0


def _store_location(args: argparse.Namespace) -> StoreLocation:
    """The catalog's store without creating a catalog that is not there yet."""
    from regtui import settings
    from regtui.catalog import store

    where = read_quickly(args, lambda q: q.store_location())
    if where is not None:
        return where
    url = settings.database_url(getattr(args, "db", None))
    file = settings.sqlite_file(url)
    if file is not None and not Path(file).exists():
        return store.location_for(url, None)  # no catalog yet, so no setting either
    with open_catalog(args) as cat:
        return cat.store_location()


@command(
    "store",
    "show where kept copies live, or move them (--set)",
    arg(
        "--set",
        dest="location",
        metavar="LOCATION",
        help="keep copies in this folder, or in an S3 bucket (s3://bucket/prefix; "
        "credentials from AWS_* variables or a profile, never the URL), from now on "
        "(existing ones are copied there and verified first)",
    ),
    arg("--reason", help="why the store moves (with --set), kept in the audit log"),
)
def cmd_store(args: argparse.Namespace) -> int:
    from regtui.catalog import store
    from regtui.cli import output

    if args.location is not None:
        given = args.location
        args.location = store.absolute_location(given)  # a blank one: a usage error
        if isinstance(args.location, Path) and not Path(given).expanduser().is_absolute():
            print(
                f"regtui: note: {output.safe(given, 200)} is relative: using "
                f"{output.safe(str(args.location), 500)}",
                file=sys.stderr,
            )
    with open_catalog(args) as cat:
        if args.location is not None:
            before = cat.store_location()
            where = cat.set_store_location(args.location, args.reason)
        else:
            if args.reason is not None:
                raise UsageError("--reason goes with --set")
            before, where = None, cat.store_location()
        kept = cat.count_kept_copies()

    # None until the folder exists: nothing has been kept there yet.
    here = where.path
    reflinks = store.reflinks_work(here) if isinstance(here, Path) and here.is_dir() else None

    def text() -> None:
        if before is not None:
            print(
                f"moved the store to {output.safe(str(where.path), 500)} "
                f"({counted(kept.present, 'kept copy', 'kept copies')} copied; the old ones "
                f"stay in {output.safe(str(before.path), 500)})"
            )
            return
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

    output.emit(
        args,
        lambda: {
            **where.to_json(),
            "kept_copies": kept.present,
            "missing_copies": kept.missing,
            "reflinks": reflinks,
        },
        text,
    )
    return 0
