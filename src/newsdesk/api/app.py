"""The FastAPI application: JSON API under /api and the web reader, one Desk behind both."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsdesk.api import errors
from newsdesk.api.auth import Auth

LOGGER = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent

CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class Guard:
    """ASGI middleware: refuses bodies over the limit (413) and adds the security headers."""

    def __init__(self, app: ASGIApp, max_body: int):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_body
            except ValueError:
                too_big = True
            if too_big:
                await self._refuse(send)
                return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise errors.TooLarge(f"request body over {self.max_body} bytes")
            return message

        async def secured_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", []) if h[0] not in dict(SECURITY_HEADERS)]
                message = {**message, "headers": headers + SECURITY_HEADERS}
            await send(message)

        try:
            await self.app(scope, limited_receive, secured_send)
        except errors.TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(errors.error_body(f"request body too large (at most {self.max_body} bytes)", 413))
        await send({
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close"), *SECURITY_HEADERS],
        })
        await send({"type": "http.response.body", "body": body.encode()})


def create_app(
    desk_or_db: Any = None,
    *,
    token: str | None = None,
    public_reads: bool | None = None,
    max_body: int | None = None,
) -> FastAPI:
    """Returns the newsdesk web application over a Desk (or the path of a store file).

    token, public_reads and max_body override the desk's settings (`token`, `public_reads`,
    `max_request_bytes`); with no token at all, write routes are refused.
    """
    from newsdesk.desk import Desk

    desk = desk_or_db if isinstance(desk_or_db, Desk) else Desk(desk_or_db)
    app = FastAPI(
        title="newsdesk",
        version=_version(),
        description=(
            "newsdesk turns a stream of news into stories. Every error is "
            '`{"ok": false, "error": "...", "status": N}`. Write routes need '
            "`Authorization: Bearer TOKEN`. Listings page with an opaque `cursor`."
        ),
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.desk = desk
    app.state.auth = Auth(
        token=str(token if token is not None else desk.setting("token") or ""),
        public_reads=bool(desk.setting("public_reads") if public_reads is None else public_reads),
    )
    errors.install(app)

    from newsdesk.api import outlets, routes, web

    app.include_router(routes.read)
    app.include_router(outlets.read)
    app.include_router(routes.write)
    web.install(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    limit = int(max_body if max_body is not None else desk.setting("max_request_bytes"))
    app.add_middleware(Guard, max_body=limit)
    return app


def app_from_env() -> FastAPI:
    """Returns the app over the store NEWSDESK_DB names (for `serve --workers N`)."""
    from newsdesk import config

    return create_app(config.get("db"))


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("newsdesk")
    except Exception:  # noqa: BLE001 - running from a source tree without metadata
        return "0.0.0"
