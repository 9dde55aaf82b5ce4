"""On PostgreSQL a served user acts as their own database role: the session logs in
as the token's user (password from libpq's own sources; here the test server
trusts its socket), so the server's triggers record that role; a user with no
role that can log in gets a one-line error in the browser, not a blank page.

Driven through the websocket as the page drives it (keys in, terminal bytes out):
the browser itself is covered on SQLite (test_serve_browser.py).
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from regtui.catalog.service import Catalog
from tests.support import serving
from tests.support.patience import patient
from tests.support.pg import PgServer, url_as
from tests.unit.helpers import artifact

ANSI = re.compile(
    rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])"
)


def text_of(stream: bytes) -> str:
    return ANSI.sub(b"", stream).decode("utf-8", "replace")


@pytest.fixture
def pg_catalog(pg_server: PgServer, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    url = pg_server.new_database()
    with Catalog(url) as cat:
        cat.register(artifact(tmp_path, "m.bin", "pg model"), "churn")
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}  # the tokens file goes there
    yield url, env


def add_user(url: str, env: dict[str, str], name: str) -> str:
    import os

    done = subprocess.run(
        [sys.executable, "-m", "regtui", "--db", url, "serve", "--add-user", name],
        capture_output=True, text=True, timeout=60, env={**os.environ, **env}, check=True,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


async def drive(served: serving.Served, token: str, until: list[tuple[str, str]]) -> str:
    """Connect as the page does; for each (text, keys): wait for text, send keys."""
    cookie = {"Cookie": f"regtui_serve_{served.port}={token}", "Origin": served.base}
    seen = b""
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"{served.base}/ws?width=160&height=40", headers=cookie)
        loop = asyncio.get_running_loop()
        for text, keys in until:
            deadline = loop.time() + patient(15)
            while text not in text_of(seen):
                msg = await ws.receive(timeout=max(0.1, deadline - loop.time()))
                if msg.type == aiohttp.WSMsgType.BINARY:
                    seen += msg.data
                elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    break
            assert text in text_of(seen), text_of(seen)[-2000:]
            if keys:
                await ws.send_json(["stdin", keys])
        await ws.close()
    return text_of(seen)


def test_a_served_user_acts_as_their_own_postgres_role(
    pg_catalog: tuple[str, dict[str, str]],
) -> None:
    url, env = pg_catalog
    role = f"ann_{uuid.uuid4().hex[:8]}"
    url_as(url, role)  # a role that may log in (trusted on the test server's socket)
    token = add_user(url, env, role)
    served = serving.start(url, env=env)
    try:
        steps = [("churn", "a"), ("Reason", "ok from pg"), ("ok from pg", "\r"), ("Approved", "")]
        shown = asyncio.run(drive(served, token, steps))
        assert role in shown  # the header: who acts

        def approved() -> object:
            with Catalog(url) as cat:
                return cat.audit_events("churn", action="approved")

        event = serving.wait_until(approved, 10, "the approval")[-1]
        assert (event.actor, event.reason) == (role, "ok from pg")
    finally:
        code, out = served.stop()
    assert code == 0, out


def test_a_user_without_a_role_gets_one_line_in_the_page(
    pg_catalog: tuple[str, dict[str, str]],
) -> None:
    url, env = pg_catalog
    token = add_user(url, env, f"nobody_{uuid.uuid4().hex[:8]}")
    served = serving.start(url, env=env)
    try:
        shown = asyncio.run(drive(served, token, [("cannot open the catalog", "")]))
        assert "Traceback" not in shown
    finally:
        code, out = served.stop()
    assert code == 0, out
