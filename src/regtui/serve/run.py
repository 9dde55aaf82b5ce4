"""Running `regtui serve`: open the catalog once (so a bad --db fails here, not in
each browser), say where to connect, serve until SIGTERM or SIGINT, end every
session, and say so."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from regtui.serve.auth import Gate, TokensFile, check_user, new_token, token_hash
from regtui.serve.session import SessionPlan


def serve(args: argparse.Namespace, url: str, tokens: Path) -> int:
    from regtui.cli.access import open_catalog
    from regtui.serve.server import RegtuiServer, ServeConfig

    TokensFile.read(tokens)  # a file others may read is refused before anything starts
    with open_catalog(args, read_only=args.read_only) as cat:
        postgres = cat.dialect == "postgresql"
        serving_user = check_user(cat.actor)
        read_only = bool(args.read_only or cat.read_only)
        shown = _shown(cat.url)
    token = None if args.no_token else (args.token or os.environ.get("REGTUI_SERVE_TOKEN"))
    if not args.no_token and not token:
        token = new_token()
    gate = Gate(tokens, None if token is None else token_hash(token), serving_user)
    plan = SessionPlan(url, read_only, postgres, serving_user)
    config = ServeConfig(
        host=args.host,
        port=args.port,
        gate=gate,
        plan=plan,
        no_token=bool(args.no_token),
        user_header=args.user_header,
    )
    server = RegtuiServer(config)

    def ready(addresses: list[Any]) -> None:
        port = addresses[0][1] if addresses else args.port
        host = f"[{args.host}]" if ":" in args.host else args.host
        link = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
        mode = "read-only" if read_only else "changes allowed"
        who = f"--user-header {args.user_header}" if args.user_header else serving_user
        print(f"regtui serve: {link}", flush=True)
        print(f"  catalog {shown} · acting as {who} · {mode} · SIGTERM or Ctrl+C stops", flush=True)

    ended = asyncio.run(_serve_until_signal(server, ready))
    print(f"regtui serve: stopped; {ended} session(s) ended", flush=True)
    return 0


async def _serve_until_signal(server: Any, ready: Any) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        return int(await server.run(stop, ready))
    except OSError as exc:  # the port is taken, the address is not ours
        from regtui.errors import UsageError

        raise UsageError(
            f"cannot listen on {server.config.host}:{server.config.port}: {exc.strerror}"
        ) from None


def _shown(url: str) -> str:
    """The catalog as the startup line names it: never a password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)
