"""`regtui serve`: the TUI in a browser, one app process per session, behind a token."""

from __future__ import annotations

import argparse
import os

from regtui.cli.command import arg, command
from regtui.errors import UsageError


@command(
    "serve",
    "serve the TUI to a browser (textual-serve): one app per session, token required",
    arg(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    ),
    arg("--port", type=int, default=8000, help="port to listen on (0: any free port)"),
    arg("--read-only", action="store_true", help="serve the app with every change disabled"),
    arg(
        "--token",
        metavar="TOKEN",
        help="the access token for the serving user (default: REGTUI_SERVE_TOKEN, which `ps` "
        "cannot show, else random)",
    ),
    arg(
        "--no-token",
        action="store_true",
        help="no token asked (only on a loopback host: anyone on this machine may connect)",
    ),
    arg(
        "--user-header",
        metavar="HEADER",
        help="behind an authenticating reverse proxy on this host: the user is this "
        "header's value (e.g. X-Forwarded-User); loopback bind only",
    ),
    arg("--add-user", metavar="NAME", help="make a token for NAME, print it once, and exit"),
    arg("--remove-user", metavar="NAME", help="remove NAME's token and exit"),
    arg("--list-users", action="store_true", help="list the users who have a token and exit"),
    json=False,
)
def cmd_serve(args: argparse.Namespace) -> int:
    from regtui import settings
    from regtui.serve.auth import TokensFile, check_user, is_loopback, tokens_path

    url = settings.database_url(getattr(args, "db", None))
    path = tokens_path(url)
    managing = [f for f in ("add_user", "remove_user") if getattr(args, f) is not None] + (
        ["list_users"] if args.list_users else []
    )
    if len(managing) > 1:
        raise UsageError("give one of --add-user, --remove-user, --list-users")
    if args.add_user is not None:
        token = TokensFile.read(path).add(check_user(args.add_user))
        print(f"token for {args.add_user} (shown once; only its hash is kept in {path}):")
        print(token)
        return 0
    if args.remove_user is not None:
        if not TokensFile.read(path).remove(args.remove_user):
            raise UsageError(f"no user {args.remove_user!r} in {path}")
        print(f"removed {args.remove_user}")
        return 0
    if args.list_users:
        for name in sorted(TokensFile.read(path).users):
            print(name)
        return 0
    if args.port < 0 or args.port > 65535:
        raise UsageError(f"--port {args.port}: give 0 to 65535")
    if args.no_token and (args.token or os.environ.get("REGTUI_SERVE_TOKEN")):
        raise UsageError("--no-token and a token (--token or REGTUI_SERVE_TOKEN): give one")
    if args.no_token and not is_loopback(args.host):
        raise UsageError(
            f"--no-token is allowed only on a loopback host (127.0.0.1, ::1, localhost), "
            f"not {args.host!r}: anyone who can reach it would get the catalog"
        )
    if args.token == "":
        raise UsageError("--token: empty; give a token, or leave it out for a random one")
    if args.user_header is not None and not is_loopback(args.host):
        raise UsageError(
            f"--user-header needs a loopback --host (the proxy on this machine), not "
            f"{args.host!r}: anyone reaching the port could send the header"
        )
    if args.user_header is not None and not _header_name(args.user_header):
        raise UsageError(f"--user-header {args.user_header!r}: not a header name")
    from regtui.serve.run import serve

    return serve(args, url, path)


def _header_name(name: str) -> bool:
    import re

    return re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}", name) is not None
