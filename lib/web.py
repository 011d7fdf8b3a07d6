"""The HTTP layer around the Streamlit app (server.py builds it): the two routes that set and clear the HttpOnly session
cookie, security headers on every response, and Streamlit's /_stcore/metrics kept to this machine. No Streamlit script
code runs here.

A websocket message cannot set a cookie, so after a password sign-in the page posts the session's one-time code to
CLAIM_PATH, whose answer sets the cookie (HttpOnly, SameSite=Strict, Secure over HTTPS). Both routes want a POST carrying
GUARD_HEADER from a page of this site: a form or image on another site cannot send that header, and a script on another
site would need a CORS preflight that is never granted.
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lib import config
from lib.clock import now
from lib.db import get_engine
from lib.services import sessions

CLAIM_PATH = "/session/claim"  # POST {"code": …}: the answer sets the session cookie
END_PATH = "/session/end"  # POST: the answer clears the session cookie (the session itself ended on the server already)
GUARD_HEADER = "X-Cockpit-Session"  # the custom header both routes require
METRICS_PATH = "/_stcore/metrics"  # Streamlit's metrics: answered only to this machine, never through the proxy
LOOPBACK = frozenset({"127.0.0.1", "::1"})  # this machine's addresses
SECURITY_HEADERS = {  # on every HTTP answer (the proxy should send them too: README, Deployment)
    "X-Frame-Options": "SAMEORIGIN",  # no other site frames the cockpit (clickjacking)
    "Content-Security-Policy": "frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_STATE = {"serving": False}  # set once server.py has installed the routes in this process


def serving() -> bool:
    """Whether this process serves the cookie routes (started as `streamlit run server.py`, not `streamlit run Home.py`)."""
    return _STATE["serving"]


def public_path(path: str) -> str:
    """A route's path as the browser sees it, under Streamlit's server.baseUrlPath when one is set."""
    from streamlit import config as streamlit_config

    base = (streamlit_config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}{path}" if base else path


def from_this_site(request: Request) -> bool:
    """A POST carrying the guard header, from a page of this site (Origin, where sent, names this host)."""
    origin, fetched_from = request.headers.get("origin"), request.headers.get("sec-fetch-site")
    return (request.method == "POST" and request.headers.get(GUARD_HEADER) == "1"
            and (origin is None or urlsplit(origin).netloc == request.headers.get("host"))
            and fetched_from in (None, "same-origin"))


def _claimed(code: object) -> tuple[str, dt.datetime] | None:
    """The cookie token a one-time code claims, with its session's end (None for a wrong, used or stale code)."""
    with get_engine(config.database_url()).begin() as conn:
        return sessions.claim(conn, code)


def _cookie_options(request: Request) -> dict:
    """Where the cookie applies and how it travels: HttpOnly, SameSite=Strict, Secure when the page is served over HTTPS."""
    secure = request.url.scheme == "https" or (request.headers.get("origin") or "").startswith("https://")
    return {"path": public_path("/"), "secure": secure, "httponly": True, "samesite": "strict"}


async def claim(request: Request) -> Response:
    """Set the session cookie for the one-time code the page posts after a sign-in."""
    if not from_this_site(request):
        return PlainTextResponse("Forbidden", status_code=403)
    try:
        code = (await request.json()).get("code")
    except (ValueError, AttributeError):
        return PlainTextResponse("Bad Request", status_code=400)
    claimed = await run_in_threadpool(_claimed, code)
    if claimed is None:
        return PlainTextResponse("Forbidden", status_code=403)
    token, ends = claimed
    response = JSONResponse({"claimed": True})
    response.set_cookie(config.SESSION_COOKIE_NAME, token, max_age=max(0, int((ends - now()).total_seconds())),
                        **_cookie_options(request))
    return response


async def end(request: Request) -> Response:
    """Clear the session cookie (after a sign-out)."""
    if not from_this_site(request):
        return PlainTextResponse("Forbidden", status_code=403)
    response = JSONResponse({"cleared": True})
    response.delete_cookie(config.SESSION_COOKIE_NAME, **_cookie_options(request))
    return response


def routes() -> list[Route]:
    """The cookie routes, under the base path (marks this process as serving them)."""
    _STATE["serving"] = True
    return [Route(public_path(CLAIM_PATH), claim, methods=["POST"]), Route(public_path(END_PATH), end, methods=["POST"])]


class Hardening:
    """ASGI middleware: security headers on every HTTP answer; Streamlit's metrics only for this machine asking directly."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one request (a websocket passes untouched)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].endswith(METRICS_PATH) and not _asked_here_directly(scope):
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            """Add the security headers to the answer's start."""
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)


def _asked_here_directly(scope: Scope) -> bool:
    """A request from this machine that came through no proxy (a proxy adds X-Forwarded-For)."""
    peer = (scope.get("client") or ("", 0))[0]
    return peer in LOOPBACK and not any(name.lower() == b"x-forwarded-for" for name, _value in scope.get("headers", []))


def middleware() -> list[Middleware]:
    """The middleware server.py installs around Streamlit."""
    return [Middleware(Hardening)]
