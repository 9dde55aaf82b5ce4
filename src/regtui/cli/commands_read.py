"""Commands that read models and versions: models, versions, show, diff.

The first three try the stdlib-sqlite3 reader first (no SQLAlchemy import), and
open the full Catalog only when it cannot answer."""

from __future__ import annotations

import argparse

from regtui.cli import values
from regtui.cli.access import open_catalog, read_quickly
from regtui.cli.command import arg, command


@command("models", "list models")
def cmd_models(args: argparse.Namespace) -> int:
    from regtui.cli import output

    models = read_quickly(args, lambda q: q.models())
    if models is None:
        with open_catalog(args) as cat:
            models = cat.models()
    output.emit(args, lambda: [m.to_json() for m in models], lambda: output.print_models(models))
    return 0


@command(
    "versions",
    "list the versions of a model",
    arg("model", type=values.model_name, metavar="MODEL"),
    arg(
        "--filter",
        dest="where",
        metavar="EXPR",
        help="e.g. \"metrics.auc > 0.9 and tags.team = 'growth'\"",
    ),
)
def cmd_versions(args: argparse.Namespace) -> int:
    from regtui.cli import output

    versions = None if args.where else read_quickly(args, lambda q: q.versions(args.model))
    if versions is None:
        with open_catalog(args) as cat:
            versions = cat.versions(args.model, where=args.where)

    def data() -> output.JsonText:
        from regtui.catalog.version_json import versions_json_text

        # Spliced, not re-encoded: 100,000 versions must list in well under a second.
        return output.JsonText(versions_json_text(versions))

    output.emit(args, data, lambda: output.print_versions(versions))
    return 0


@command(
    "show", "show one version (MODEL:VERSION, MODEL@STAGE or MODEL)", arg("ref", metavar="REF")
)
def cmd_show(args: argparse.Namespace) -> int:
    from regtui.catalog.refs import parse_ref
    from regtui.cli import output

    ref = parse_ref(args.ref)
    found = read_quickly(args, lambda q: (v := q.get(ref), q.stage_history(v.model)))
    if found is None:
        with open_catalog(args) as cat:
            found = (v := cat.get(ref), cat.stage_history(v.model))
    v, history = found
    output.emit(args, v.to_json, lambda: output.print_version(v, history))
    return 0


@command(
    "diff",
    "compare two versions",
    arg("left", metavar="REF"),
    arg("right", metavar="REF"),
    arg("--all", action="store_true", help="also list the fields that are equal"),
)
def cmd_diff(args: argparse.Namespace) -> int:
    from regtui.cli import output

    with open_catalog(args) as cat:
        diff = cat.diff(args.left, args.right)
    output.emit(args, diff.to_json, lambda: output.print_diff(diff, show_all=args.all))
    return 0
