"""Commands that bring models in: demo, watch, scan, register, log."""

from __future__ import annotations

import argparse
from pathlib import Path

from regtui.cli import values
from regtui.cli.access import open_catalog
from regtui.cli.command import arg, command, kv_list
from regtui.errors import RegtuiError

MODEL = arg("--model", type=values.model_name, help="register everything as this model")


@command("demo", "open the TUI on a fresh catalog seeded from sample_models/", json=False)
def cmd_demo(args: argparse.Namespace) -> int:
    from regtui.demo import run_demo

    return run_demo()


@command(
    "watch",
    "watch folders and register finished model files",
    arg(
        "dirs",
        nargs="*",
        type=Path,
        metavar="DIR",
        help="folders to watch (default: the watch roots kept in the catalog)",
    ),
    MODEL,
    arg(
        "--settle",
        type=values.settle,
        default=None,
        help="seconds a file must be quiet before it counts as finished",
    ),
    arg("--headless", action="store_true", help="no TUI: print one line per event"),
    arg("--poll", action="store_true", help="poll instead of OS events (network FS)"),
)
def cmd_watch(args: argparse.Namespace) -> int:
    try:
        from regtui.watch.headless import run_headless
    except ImportError:
        raise RegtuiError("the watcher is not available in this build") from None
    from regtui.cli.tui import run_tui

    with open_catalog(args) as cat:
        dirs = list(args.dirs)
        if not args.headless:
            return run_tui(args, cat, watch_dirs=dirs)
        return run_headless(cat, dirs, args.model, args.settle, args.poll, args.json)


@command(
    "scan",
    "one pass over folders: register what is new, then exit",
    arg("dirs", nargs="+", type=Path, metavar="DIR"),
    MODEL,
)
def cmd_scan(args: argparse.Namespace) -> int:
    from regtui.catalog.scan import scan
    from regtui.cli import output

    with open_catalog(args) as cat:
        items = scan(
            cat, args.dirs, args.model, on_item=None if args.json else output.print_scan_item
        )
    output.emit(
        args, lambda: [i.to_json() for i in items], lambda: output.print_scan_summary(items)
    )
    return 1 if any(i.outcome == "error" for i in items) else 0


@command(
    "register",
    "register one file or bundle folder as a new version",
    arg("path", type=Path, metavar="PATH"),
    arg("--model", type=values.model_name, required=True),
    kv_list("--metric"),
    kv_list("--param"),
    kv_list("--tag"),
    arg(
        "--dataset",
        action="append",
        default=[],
        metavar="PATH|URI",
        help="data that made it: a file or folder (hashed) or a URI (recorded, never fetched)",
    ),
)
def cmd_register(args: argparse.Namespace) -> int:
    from regtui.cli import output

    with open_catalog(args) as cat:
        cand = cat.prepare(
            args.path,
            args.model,
            metrics={k: values.metric(k, v) for k, v in args.metric},
            params={k: values.scalar(v) for k, v in args.param},
            tags=dict(args.tag),
            datasets=args.dataset,
            dataset_progress=None if args.json else output.hash_progress("dataset"),
        )
        result = cat.add_candidates([cand])[0]

    def text() -> None:
        v = result.version
        verb = "registered" if result.created else "already registered as"
        print(f"{verb} {output.ref(v)}  {output.human_size(v.size_bytes)}  {v.format}")
        if result.merged:
            print(f"merged into {output.ref(v)}: {output.changes(result.merged)}")
        output.print_warnings(v)

    output.emit(args, result.to_json, text)
    return 0


@command(
    "log",
    "attach metrics/params to a version after registration",
    arg("ref", metavar="REF"),
    kv_list("--metric"),
    kv_list("--param"),
    arg("--reason"),
)
def cmd_log(args: argparse.Namespace) -> int:
    from regtui.cli import output

    metrics = {k: values.metric(k, v) for k, v in args.metric}
    with open_catalog(args) as cat:
        v, changed = cat.log_changes(
            args.ref,
            metrics=metrics,
            params={k: values.scalar(v) for k, v in args.param},
            reason=args.reason,
        )
    output.emit(
        args,
        lambda: {**v.to_json(), "changed": changed},
        f"{output.ref(v)}: {output.changes(changed) if changed else 'nothing changed'}",
    )
    return 0
