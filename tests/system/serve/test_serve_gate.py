"""Nothing of a served catalog without the token, and no process left behind.

Every route (the page, each static file, downloads, the websocket) is asked with no
token, a wrong one (in the URL and as the cookie), a token of another server's
port, and for the websocket a foreign or missing Origin: each is refused and no
session process starts. The right token works once in the URL, then by cookie only.
A session whose websocket drops leaves no process (its group is counted, so an
orphaned grandchild would show); SIGTERM ends every session, exits 0 and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.support import serving
from tests.unit.helpers import catalog_with_versions

TOKEN = "right-token-" + "x" * 20
ROUTES = [
    "/",
    "/static/js/textual.js",
    "/static/css/xterm.css",
    "/static/fonts/RobotoMono-VariableFont_wght.ttf",
    "/static/",
    "/download/anything",
    "/nothing-here",
]
WRONG = ["", "wrong", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), "x" * 600, "right-token-%00"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[serving.Served]:
    folder = tmp_path_factory.mktemp("gate")
    db = folder / "catalog.sqlite"
    catalog_with_versions(str(db), folder, n=1).close()
    s = serving.start(db, "--token", TOKEN, env={"REGTUI_USER": "serving-owner"})
    yield s
    s.stop(signal.SIGKILL)


def cookie(served: serving.Served, value: str) -> dict[str, str]:
    return {"Cookie": f"regtui_serve_{served.port}={value}"}


async def status(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, headers=headers or {}, allow_redirects=False) as r,
    ):
        return r.status, await r.text(errors="replace")


async def ws_status(served: serving.Served, headers: dict[str, str]) -> int:
    """The websocket handshake's answer: 101 when it was accepted."""
    async with aiohttp.ClientSession() as http:
        try:
            async with http.ws_connect(f"{served.base}/ws?width=80&height=24", headers=headers):
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("token", [None, *WRONG])
def test_every_route_refuses_a_missing_or_wrong_token(
    served: serving.Served, route: str, token: str | None
) -> None:
    async def check() -> None:
        query = "" if token is None else f"?token={token}"
        code, body = await status(f"{served.base}{route}{query}")
        assert code in (401, 403), (route, token, code)
        assert "textual" not in body.lower() and "churn" not in body
        if token is not None:  # the same wrong token as a cookie
            code, _ = await status(f"{served.base}{route}", cookie(served, token))
            assert code in (401, 403), (route, token, code)

    asyncio.run(check())
    assert not serving.session_groups(served.proc.pid)


def test_the_token_becomes_a_strict_http_only_cookie_and_leaves_the_url(
    served: serving.Served,
) -> None:
    async def check() -> None:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{served.base}/?token={TOKEN}", allow_redirects=False) as r,
        ):
            assert r.status == 303 and r.headers["Location"] == "/"
            set_cookie = r.headers["Set-Cookie"]
        assert all(p in set_cookie for p in ("HttpOnly", "SameSite=Strict", "Path=/"))
        assert "Secure" not in set_cookie  # plain http on loopback: it would never come back
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                f"{served.base}/?token={TOKEN}",
                headers={"X-Forwarded-Proto": "https"},  # a TLS proxy in front
                allow_redirects=False,
            ) as r,
        ):
            assert "Secure" in r.headers["Set-Cookie"]
        code, page = await status(f"{served.base}/", cookie(served, TOKEN))
        assert code == 200 and "/static/js/textual.js" in page
        # Nothing loads from elsewhere (textual-serve's page links Google Fonts).
        assert not re.search(r"(src|href)=\"(https?:)?//", page), page
        assert "googleapis" not in page
        code, _ = await status(f"{served.base}/static/js/textual.js", cookie(served, TOKEN))
        assert code == 200
        # Page parameters are dropped (textual.js would fetch `ping` from anywhere).
        code, _ = await status(f"{served.base}/?ping=http://example.com/", cookie(served, TOKEN))
        assert code == 303
        # A cookie named for another port (another server on this host) is no key here.
        other = {"Cookie": f"regtui_serve_{served.port + 1}={TOKEN}"}
        assert (await status(f"{served.base}/", other))[0] == 401

    asyncio.run(check())


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-cookie-no-origin"),
        pytest.param({"Origin": "{base}"}, id="no-cookie"),
        pytest.param({"Origin": "{base}", "cookie": "wrong"}, id="wrong-cookie"),
        pytest.param({"cookie": TOKEN}, id="no-origin"),
        pytest.param({"Origin": "http://evil.example", "cookie": TOKEN}, id="foreign-origin"),
        pytest.param({"Origin": "http://127.0.0.1.evil.example", "cookie": TOKEN}, id="look-alike"),
        pytest.param({"Origin": "null", "cookie": TOKEN}, id="null-origin"),
        pytest.param({"Origin": "{base}:1", "cookie": TOKEN}, id="other-port"),
    ],
)
def test_the_websocket_refuses_without_the_cookie_or_from_another_origin(
    served: serving.Served, headers: dict[str, str]
) -> None:
    sent = {k: v.replace("{base}", served.base) for k, v in headers.items() if k != "cookie"}
    if "cookie" in headers:
        sent.update(cookie(served, headers["cookie"]))
    assert asyncio.run(ws_status(served, sent)) in (401, 403)
    assert not serving.session_groups(served.proc.pid)


def test_a_dropped_websocket_leaves_no_process(served: serving.Served) -> None:
    headers = {"Origin": served.base, **cookie(served, TOKEN)}

    async def session() -> set[int]:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{served.base}/ws?width=100&height=30", headers=headers)
            await ws.receive(timeout=30)  # the app drew something: it runs
            groups = serving.session_groups(served.proc.pid)
            # Its header's chain check starts a second process a second in (niced, so
            # usually still running): close while it runs, when it does within 5 s.
            with contextlib.suppress(AssertionError):
                serving.wait_until(lambda: len(serving.alive_in(groups)) > 1, 5, "chain check")
            await ws.close()  # the tab closed
            return groups

    groups = asyncio.run(session())
    assert len(groups) == 1
    serving.wait_until(lambda: not serving.alive_in(groups), 10, "the session to end")


def test_sigterm_ends_every_session_and_exits_0(tmp_path: Path) -> None:
    db = tmp_path / "catalog.sqlite"
    catalog_with_versions(str(db), tmp_path, n=1).close()
    served = serving.start(db, "--no-token")
    headers = {"Origin": served.base}

    async def two_sessions() -> set[int]:
        async with aiohttp.ClientSession() as http:
            sockets = [
                await http.ws_connect(f"{served.base}/ws?width=80&height=24", headers=headers)
                for _ in range(2)
            ]
            for ws in sockets:
                await ws.receive(timeout=30)
            groups = serving.session_groups(served.proc.pid)
            code, out = served.stop(signal.SIGTERM)  # with both still connected
            assert code == 0, out
            assert out.rstrip().splitlines()[-1] == "regtui serve: stopped; 2 session(s) ended"
            return groups

    groups = asyncio.run(two_sessions())
    assert len(groups) == 2
    assert not serving.alive_in(groups)


def test_no_token_answers_only_to_a_loopback_host_name(tmp_path: Path) -> None:
    """DNS rebinding: another site's name resolving to 127.0.0.1 reaches no page."""
    db = tmp_path / "catalog.sqlite"
    catalog_with_versions(str(db), tmp_path, n=1).close()
    served = serving.start(db, "--no-token")
    try:
        assert asyncio.run(status(f"{served.base}/"))[0] == 200
        for host in ("evil.example", f"evil.example:{served.port}", "127.0.0.1.nip.io"):
            assert asyncio.run(status(f"{served.base}/", {"Host": host}))[0] == 403
    finally:
        served.stop()


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def test_a_sessions_command_is_the_servers_whatever_the_page_sends(
    served: serving.Served,
) -> None:
    """Query arguments, headers and a claimed user reach neither argv nor environment."""
    headers = {"Origin": served.base, **cookie(served, TOKEN), "X-Forwarded-User": "mallory"}
    query = "width=80&height=24&user=mallory&db=/etc/passwd&--read-only=1&REGTUI_USER=mallory"

    async def session() -> tuple[list[str], str]:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{served.base}/ws?{query}", headers=headers)
            await ws.receive(timeout=30)
            (group,) = serving.session_groups(served.proc.pid)
            argv = cmdline(group)
            env = Path(f"/proc/{group}/environ").read_bytes().decode(errors="replace")
            cwd = os.readlink(f"/proc/{group}/cwd")
            await ws.close()
            return argv, env + "\0cwd=" + cwd

    argv, env = asyncio.run(session())
    assert argv[1:] == ["-I", "-m", "regtui.serve.child", "--user", "serving-owner"]
    assert "\0REGTUI_USER=serving-owner\0" in f"\0{env}"
    assert re.search(r"\0REGTUI_DB=sqlite:///[^\0]*/catalog\.sqlite\0", f"\0{env}")
    assert "mallory" not in " ".join(argv) + env and TOKEN not in env
    assert f"cwd={tempfile.gettempdir()}" in env


def test_user_header_names_the_user_and_nothing_passes_without_it(tmp_path: Path) -> None:
    db = tmp_path / "catalog.sqlite"
    catalog_with_versions(str(db), tmp_path, n=1).close()
    served = serving.start(db, "--token", TOKEN, "--user-header", "X-Remote-User")
    try:
        base = {"Origin": served.base, **cookie(served, TOKEN)}
        for bad in ({}, {"X-Remote-User": ""}, {"X-Remote-User": "-rf"},
                    {"X-Remote-User": "a b"}, {"X-Remote-User": "x/../y"}):  # fmt: skip
            assert asyncio.run(status(f"{served.base}/", {**base, **bad}))[0] == 401, bad
            assert asyncio.run(ws_status(served, {**base, **bad})) == 401, bad
        assert (
            asyncio.run(status(f"{served.base}/", {"X-Remote-User": "ann"}))[0] == 401
        )  # no token

        async def session() -> list[str]:
            async with aiohttp.ClientSession() as http:
                headers = {**base, "X-Remote-User": "ann.lee"}
                ws = await http.ws_connect(f"{served.base}/ws", headers=headers)
                await ws.receive(timeout=30)
                (group,) = serving.session_groups(served.proc.pid)
                argv = cmdline(group)
                await ws.close()
                return argv

        assert asyncio.run(session())[-2:] == ["--user", "ann.lee"]
    finally:
        code, out = served.stop()
    assert code == 0, out


def test_a_server_killed_outright_leaves_no_session_behind(tmp_path: Path) -> None:
    """SIGKILL gives the server no chance to end its sessions: they end themselves."""
    db = tmp_path / "catalog.sqlite"
    catalog_with_versions(str(db), tmp_path, n=1).close()
    served = serving.start(db, "--no-token")

    async def session() -> set[int]:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{served.base}/ws", headers={"Origin": served.base})
            await ws.receive(timeout=30)
            groups = serving.session_groups(served.proc.pid)
            served.stop(signal.SIGKILL)
            return groups

    groups = asyncio.run(session())
    assert len(groups) == 1
    serving.wait_until(lambda: not serving.alive_in(groups), 5, "the orphaned session to end")
