"""Commands that read models and versions: models, versions, show, diff.

The first three try the stdlib-sqlite3 reader first (no SQLAlchemy import), and
open the full Catalog only when it cannot answer."""

from __future__ import annotations

import argparse

from regtui.cli import values, version_list
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
    "list versions: of MODEL, or of every model when MODEL is left out",
    arg(
        "model",
        nargs="?",
        type=values.model_name,
        metavar="MODEL",
        help="one model (default: every model; each row then shows MODEL:N)",
    ),
    arg(
        "--filter",
        dest="where",
        metavar="EXPR",
        help="e.g. \"metrics.auc > 0.9 and tags.team = 'growth'\" (the filter language)",
    ),
    arg(
        "--order-by",
        metavar="FIELD",
        help="sort by a filter field with one value per version: metrics.NAME, params.NAME, "
        "tags.NAME, created, version, model, size, format, approval, … "
        "(default: model, then version); versions without the value come last",
    ),
    arg(
        "--desc",
        action="store_true",
        help="largest first (without --order-by: each model's newest first)",
    ),
    arg(
        "--limit",
        type=version_list.limit,
        metavar="N",
        help="at most N versions: the first N in this order (default: all)",
    ),
)
def cmd_versions(args: argparse.Namespace) -> int:
    from regtui.catalog.filter_fields import order_field
    from regtui.cli import output

    if args.order_by is not None:
        order_field(args.order_by, label="--order-by")  # a usage error before any read
    order = {"order_by": args.order_by, "desc": args.desc, "limit": args.limit}
    if args.json and not args.where:
        # Streamed as SQLite builds each row's text: 100,000 versions in well under a second.
        streamed = read_quickly(
            args, lambda q: version_list.write_pieces(q.versions_json(args.model, **order))
        )
        if streamed:
            return 0
    versions = None if args.where else read_quickly(args, lambda q: q.versions(args.model, **order))
    if versions is None:
        with open_catalog(args) as cat:
            versions = cat.versions(args.model, where=args.where, **order)

    def data() -> output.JsonText:
        from regtui.catalog.version_json import versions_json_text

        # Spliced, not re-encoded: 100,000 versions must list in well under a second.
        return output.JsonText(versions_json_text(versions))

    if args.model is None:
        output.emit(args, data, lambda: version_list.print_found_versions(versions))
    else:
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
