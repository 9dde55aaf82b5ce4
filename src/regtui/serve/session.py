"""One browser session: its own `regtui` app process, what it runs and how it ends.

textual-serve starts the app through a shell from a command string, with the
server's whole environment. Here the command is an explicit argv (this
interpreter, isolated with -I, from a neutral folder), the acting user comes from
the server's authentication only, and nothing a page sends (only its terminal
size, as integers) reaches the command or the environment. The process leads its
own process group, so stopping a session also ends what it started (the header's
chain check): nothing outlives the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import tempfile
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from textual_serve.app_service import AppService

# A session's app gets this long to quit when asked before its group is ended.
QUIT_SECONDS = 3.0
KILL_SECONDS = 2.0
# The server's own settings, never a session's: its user and catalog are given
# explicitly, and the token is nobody's business but the server's.
_NOT_PASSED = ("REGTUI_SERVE_TOKEN", "REGTUI_USER", "REGTUI_DB")


@dataclass(frozen=True)
class SessionPlan:
    """What every session of this server runs, but for who acts."""

    url: str  # the catalog's SQLAlchemy URL, as the server opened it
    read_only: bool
    postgres: bool
    serving_user: str  # who the server's own URL logs in as

    def argv(self, user: str) -> list[str]:
        """The command: the catalog goes in the environment (REGTUI_DB, see
        `environment`): a URL's password must not show in `ps`."""
        argv = [sys.executable, "-I", "-m", "regtui.serve.child", "--user", user]
        return argv + (["--read-only"] if self.read_only else [])

    def environment(self, base: dict[str, str], user: str) -> dict[str, str]:
        """The server's environment without its own settings, plus who and where."""
        env = {k: v for k, v in base.items() if k not in _NOT_PASSED}
        env["REGTUI_USER"] = user
        env["REGTUI_DB"] = self.url_for(user)
        return env

    def url_for(self, user: str) -> str:
        """The catalog URL this user's session opens. On PostgreSQL the actor is the
        login role, so the session logs in as the user's own role; its password
        comes from libpq's usual sources (~/.pgpass, PGPASSFILE, peer or cert auth),
        never from the server's URL."""
        if not self.postgres or user == self.serving_user:
            return self.url
        return with_role(self.url, user)


def with_role(url: str, role: str) -> str:
    """`url` logging in as `role`, without the password it held."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host += f":{parts.port}"
    netloc = f"{quote(role, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class Session(AppService):
    """textual-serve's AppService, starting an explicit argv in its own group and
    making sure the group is gone when the session stops."""

    def __init__(self, plan: SessionPlan, user: str, **kwargs: object) -> None:
        super().__init__("regtui", **kwargs)  # type: ignore[arg-type]
        self.plan = plan
        self.user = user
        self.process: asyncio.subprocess.Process | None = None

    async def _open_app_process(
        self, width: int = 80, height: int = 24
    ) -> asyncio.subprocess.Process:
        env = self.plan.environment(self._build_environment(width, height), self.user)
        self.process = await asyncio.create_subprocess_exec(
            *self.plan.argv(self.user),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=tempfile.gettempdir(),
            start_new_session=True,
        )
        self._process = self.process  # textual-serve's run() reads it from there
        assert self.process.stdin is not None
        self._stdin = self.process.stdin
        return self.process

    async def stop(self) -> None:
        """Ask the app to quit; end its process group if it has not within
        QUIT_SECONDS (or at all: a child it started may linger); reap it."""
        with contextlib.suppress(asyncio.TimeoutError, ConnectionError, RuntimeError):
            await asyncio.wait_for(asyncio.shield(super().stop()), QUIT_SECONDS)
        await self.end_group()

    async def end_group(self) -> None:
        proc = self.process
        if proc is None:
            return
        if proc.returncode is None:
            _signal_group(proc.pid, signal.SIGTERM)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), KILL_SECONDS)
        _signal_group(proc.pid, signal.SIGKILL)  # the app if it hung, a child it left
        await proc.wait()


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
