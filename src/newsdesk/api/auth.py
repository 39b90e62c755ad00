"""Tokens: write routes need one; read routes need one unless `public_reads` is on.

The API takes `Authorization: Bearer TOKEN`. The web reader signs in once and keeps a
cookie holding an HMAC of the token (never the token itself); its forms also carry a
CSRF field derived from the token, and the cookie is SameSite=Strict.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from fastapi import Request

from newsdesk.errors import Unauthorized

COOKIE = "newsdesk_session"


@dataclass
class Auth:
    """The server's token policy."""

    token: str
    public_reads: bool

    def _mac(self, purpose: str) -> str:
        return hmac.new(self.token.encode(), purpose.encode(), hashlib.sha256).hexdigest()

    def session_value(self) -> str:
        """Returns the cookie value that proves a sign-in."""
        return self._mac("session")

    def csrf_value(self) -> str:
        """Returns the value web forms must carry."""
        return self._mac("csrf")

    def token_ok(self, given: str | None) -> bool:
        return bool(self.token) and given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def bearer_ok(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and self.token_ok(value.strip())

    def cookie_ok(self, request: Request) -> bool:
        value = request.cookies.get(COOKIE)
        return bool(self.token) and value is not None and hmac.compare_digest(
            value.encode(), self.session_value().encode()
        )

    def signed_in(self, request: Request) -> bool:
        """Returns whether the request carries the token (header) or a sign-in cookie."""
        return self.bearer_ok(request) or self.cookie_ok(request)

    def check_write(self, request: Request, *, allow_cookie: bool = False) -> None:
        """Raises Unauthorized unless the request may write."""
        if not self.token:
            raise Unauthorized("writes are disabled: no token is configured (set NEWSDESK_TOKEN)")
        if self.bearer_ok(request) or (allow_cookie and self.cookie_ok(request)):
            return
        raise Unauthorized("this route needs a token: send 'Authorization: Bearer TOKEN'")

    def check_csrf(self, given: str | None) -> None:
        if not given or not hmac.compare_digest(given.encode(), self.csrf_value().encode()):
            raise Unauthorized("form expired or not from this site: reload the page and try again")

    def check_read(self, request: Request, *, allow_cookie: bool = False) -> None:
        """Raises Unauthorized when reads need a token and the request has none."""
        if self.public_reads:
            return
        if not self.token:
            raise Unauthorized("reads need a token but none is configured (set NEWSDESK_TOKEN)")
        if self.bearer_ok(request) or (allow_cookie and self.cookie_ok(request)):
            return
        raise Unauthorized("this server needs a token for reads: send 'Authorization: Bearer TOKEN'")


def get_auth(request: Request) -> Auth:
    return request.app.state.auth


def read_access(request: Request) -> None:
    """Dependency for API read routes."""
    get_auth(request).check_read(request)


def write_access(request: Request) -> None:
    """Dependency for API write routes."""
    get_auth(request).check_write(request)


def anonymous_mode(request: Request, mode: str) -> str:
    """Returns the search mode a request may use: without a token, full text only.

    Semantic search loads the embedding model and stores vectors for new items; a reader
    without a token must not be able to make the server do either.
    """
    if get_auth(request).signed_in(request):
        return mode
    if mode in ("semantic", "hybrid"):
        raise Unauthorized(f"search mode {mode!r} needs a token (it loads a model); use mode=text")
    return "text" if mode == "auto" else mode
