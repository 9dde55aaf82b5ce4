"""Commands that bring models in: demo, watch, scan, register, log."""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from regtui.cli import values
from regtui.cli.access import open_catalog
from regtui.cli.command import REASON, arg, command, kv_list
from regtui.errors import RegtuiError, UsageError

if TYPE_CHECKING:
    from regtui.catalog.service import Catalog

MODEL = arg(
    "--model",
    type=values.model_name,
    help="register everything as this model (default: named by the folder layout)",
)


@command(
    "demo",
    "open the TUI on a fresh catalog seeded from sample_models/",
    arg(
        "--headless-check",
        action="store_true",
        help="no TUI: seed the demo catalog and print its versions and metrics, then exit",
    ),
    json=False,
)
def cmd_demo(args: argparse.Namespace) -> int:
    from regtui.demo import check_demo, run_demo

    if getattr(args, "db", None):  # accepted by every command, but the demo's is its own
        raise UsageError(
            "regtui demo always opens a fresh temporary catalog: leave out --db "
            "(`regtui --db PATH` opens that catalog)"
        )
    return check_demo() if args.headless_check else run_demo()


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
        metavar="SECONDS",
        help="seconds (0 to 3600) a file must be quiet before it counts as finished "
        "(default: the folder's saved time, else 2)",
    ),
    arg(
        "--headless",
        action="store_true",
        help="no TUI: print one line per event (and deliver hooks, as `hooks run` does)",
    ),
    arg("--no-hooks", action="store_true", help="with --headless: deliver no hooks"),
    arg(
        "--poll",
        action="store_true",
        help="poll instead of OS events (network file systems, where events do not arrive)",
    ),
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
        return run_headless(
            cat, dirs, args.model, args.settle, args.poll, args.json, hooks=not args.no_hooks
        )


@command(
    "scan",
    "one pass over folders: register what is new, then exit",
    arg("dirs", nargs="+", type=Path, metavar="DIR", help="folders to look through"),
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
    arg("path", type=Path, metavar="PATH", help="the model file or bundle folder"),
    arg(
        "--model",
        type=values.model_name,
        required=True,
        help="the model it is a version of (made if new)",
    ),
    kv_list("--metric", "a metric, a number (repeatable): --metric auc=0.91"),
    kv_list("--param", "a parameter (repeatable); numbers and true/false keep their type"),
    kv_list("--tag", "a tag, text (repeatable): --tag team=growth"),
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
    kv_list("--metric", "a metric to set, a number (repeatable)"),
    kv_list("--param", "a parameter to set (repeatable)"),
    REASON,
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


@command(
    "import-mlflow",
    "bring an MLflow model registry over: models, versions, aliases, run metrics",
    arg("tracking_uri", metavar="TRACKING_URI", help="e.g. sqlite:///mlflow.db or ./mlruns"),
    arg("--registry-uri", metavar="URI", help="the registry, when not the tracking store"),
    arg(
        "--model",
        dest="models",
        action="append",
        default=[],
        metavar="NAME",
        help="only this registered model (repeatable); default: every one",
    ),
    arg(
        "--copy-artifacts",
        action="store_true",
        help="keep a copy of each version's files in the catalog's store "
        "(downloaded through MLflow when they are not on this machine)",
    ),
    arg("--dry-run", action="store_true", help="print what would come over; change nothing"),
)
def cmd_import_mlflow(args: argparse.Namespace) -> int:
    import sys

    from regtui.cli import output
    from regtui.from_mlflow import reader
    from regtui.from_mlflow.importer import Importer

    shown = reader.shown(args.tracking_uri)
    print(f"reading the MLflow registry at {output.safe(shown)}…", file=sys.stderr)
    registry = reader.read(args.tracking_uri, args.registry_uri, args.models)
    tty = sys.stderr.isatty()

    def progress(done: int, total: int, what: str) -> None:
        if tty:
            sys.stderr.write(f"\r\x1b[K[{done}/{total}] {output.safe(what, 60)}")
        elif done % 100 == 0 or done == total:
            print(f"[{done}/{total}] {output.safe(what, 200)}", file=sys.stderr)

    with _catalog_to_import_into(args) as cat:
        outcome = Importer(
            cat,
            registry,
            dry_run=args.dry_run,
            copy_artifacts=args.copy_artifacts,
            on_progress=progress,
        ).run()
    if tty:
        sys.stderr.write("\r\x1b[K")
    output.emit(args, outcome.to_json, lambda: output.print_import(outcome))
    problems = outcome.problems
    return (problems[0].exit_code or 1) if problems else 0


@contextlib.contextmanager
def _catalog_to_import_into(args: argparse.Namespace) -> Iterator[Catalog]:
    """The catalog; for --dry-run opened read-only, and where there is none yet an
    empty one in a temporary folder, so a plan makes no file."""
    from regtui.catalog.service import Catalog
    from regtui.errors import CatalogError

    if not args.dry_run:
        with open_catalog(args) as cat:
            yield cat
        return
    try:
        cat = open_catalog(args, read_only=True)
    except CatalogError:
        with (
            tempfile.TemporaryDirectory(prefix="regtui-plan-") as tmp,
            Catalog(Path(tmp) / "plan.sqlite", user=getattr(args, "user", None)) as empty,
        ):
            yield empty
        return
    with cat:
        yield cat
