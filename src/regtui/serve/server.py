"""The web server of `regtui serve`: textual-serve's, behind a gate.

Every request passes `gate` (an aiohttp middleware) before any handler: the page,
the static files, downloads and the websocket. A token arrives once in the URL
(`/?token=…`), is checked, and becomes an HttpOnly, SameSite=Strict cookie; the
browser is sent on to `/` so the token leaves the address bar and history. The
websocket must also come from a page of this same origin (its Origin names the
Host it connects to), so another site open in the browser cannot drive a session.
The page is textual-serve's, without its Google Fonts link (the font is served
from here): a served page loads nothing from anywhere else, which its
Content-Security-Policy also holds it to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server, to_int

from regtui.errors import UsageError
from regtui.serve.auth import Gate, is_loopback, valid_user
from regtui.serve.session import Session, SessionPlan

log = logging.getLogger("regtui.serve")
USER_KEY = "regtui.user"  # the request's authenticated user, set by the gate
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class ServeConfig:
    host: str
    port: int
    gate: Gate
    plan: SessionPlan
    no_token: bool
    user_header: str | None
    title: str = "regtui"


def refused(status: int, why: str) -> web.Response:
    page = f"<!doctype html><title>regtui: refused</title><p>{why}</p>\n"
    return web.Response(status=status, text=page, content_type="text/html", headers=HEADERS)


class RegtuiServer(Server):
    def __init__(self, config: ServeConfig) -> None:
        super().__init__("regtui", host=config.host, port=config.port, title=config.title)
        self.config = config
        self.templates_path = Path(__file__).parent / "templates"
        self.cookie = f"regtui_serve_{config.port}"
        self.sessions: set[Session] = set()

    # --------------------------------------------------------------- the gate

    def who(self, request: web.Request, token: str | None) -> str | web.Response:
        """The user this request acts as, or the refusal to send."""
        cfg = self.config
        if cfg.no_token and not is_loopback(urlsplit(f"//{request.host}").hostname or ""):
            # DNS rebinding: a page of another site that resolves to this machine.
            return refused(403, "this server answers only to localhost")
        if not cfg.no_token:
            try:
                user = cfg.gate.user_for(token)
            except UsageError as exc:
                log.error("%s", exc)
                return refused(503, "the server cannot read its tokens file")
            if user is None:
                return refused(401 if token is None else 403, "a valid access token is needed")
        else:
            user = cfg.gate.serving_user
        if cfg.user_header:
            named = request.headers.get(cfg.user_header)
            if named is None or not valid_user(named):
                return refused(401, f"no valid {cfg.user_header} header from the proxy")
            user = named
        return user

    @web.middleware
    async def gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        query_token = request.query.get("token") if request.path == "/" else None
        token = query_token or request.cookies.get(self.cookie)
        user = self.who(request, token)
        if isinstance(user, web.Response):
            return user
        if request.path == "/" and request.query:
            # Keep nothing from the address: no token in history, and none of the
            # page script's own parameters (`ping` would fetch any URL).
            onward = web.HTTPSeeOther("/", headers=HEADERS)
            if query_token is not None:
                # Secure when the page came over TLS (a proxy in front says so).
                tls = request.secure or request.headers.get("X-Forwarded-Proto") == "https"
                onward.set_cookie(
                    self.cookie,
                    query_token,
                    httponly=True,
                    samesite="Strict",
                    path="/",
                    secure=tls or None,
                )
            return onward
        if request.path == "/ws" and not self.same_origin(request):
            return refused(403, "the websocket must come from this server's own page")
        request[USER_KEY] = user
        response = await handler(request)
        if not response.prepared:
            response.headers.update(HEADERS)
        return response

    @staticmethod
    def same_origin(request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if not origin:
            return False
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc.lower() == request.host.lower()

    # --------------------------------------------------------------- the app

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self.gate])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", self.statics_path, show_index=False, name="static"),
            ]
        )
        app.on_shutdown.append(self.on_shutdown)
        return app

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        return {"title": self.title, "font_size": 16}

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler, with a Session for the authenticated user."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = max(10, min(to_int(request.query.get("width", "80"), 80), 1000))
        height = max(5, min(to_int(request.query.get("height", "24"), 24), 500))
        session: Session | None = None
        try:
            await websocket.prepare(request)
            session = Session(
                self.config.plan,
                str(request[USER_KEY]),
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
            )
            self.sessions.add(session)
            await session.start(width, height)
            await self._process_messages(websocket, session)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await websocket.close()
        except Exception as error:  # a browser's malformed message ends its session only
            log.warning("session ended: %s", type(error).__name__)
        finally:
            if session is not None:
                await session.stop()
                self.sessions.discard(session)
        return websocket

    async def on_shutdown(self, app: web.Application) -> None:
        await self.stop_sessions()

    async def stop_sessions(self) -> None:
        await asyncio.gather(*(s.stop() for s in list(self.sessions)), return_exceptions=True)
        self.sessions.clear()

    # --------------------------------------------------------------- running

    async def run(self, stop: asyncio.Event, ready: Callable[[list[Any]], None]) -> int:
        """Serve until `stop` is set; `ready` gets the bound addresses. Returns the
        number of sessions ended at shutdown."""
        runner = web.AppRunner(await self._make_app(), handle_signals=False, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.config.host, self.config.port).start()
            addresses = list(runner.addresses)
            if addresses:  # --port 0: named by the port it got (one cookie per server)
                self.cookie = f"regtui_serve_{addresses[0][1]}"
            ready(addresses)
            await stop.wait()
            ended = len(self.sessions)
            await self.stop_sessions()
            return ended
        finally:
            await runner.cleanup()
