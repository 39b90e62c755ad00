"""Tokens: write routes need one; read routes need one unless `public_reads` is on.

The API takes `Authorization: Bearer TOKEN`. The web reader signs in once and keeps a
cookie naming a session of its own (a random id signed with the token, never the token
itself), recorded in the store and deleted at sign-out; its forms also carry a CSRF field
derived from the token, and the cookie is SameSite=Strict.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request

from newsdesk.errors import Unauthorized

COOKIE = "newsdesk_session"
SESSION_LIFETIME = timedelta(days=30)


@dataclass
class Auth:
    """The server's token policy."""

    token: str
    public_reads: bool

    def _mac(self, purpose: str) -> str:
        return hmac.new(self.token.encode(), purpose.encode(), hashlib.sha256).hexdigest()

    def new_session(self, request: Request) -> str:
        """Returns the cookie value of a new sign-in session, recorded in the store.

        Each sign-in gets its own random session id, signed with the token; signing out
        deletes it, and changing the token ends every session.
        """
        session_id = secrets.token_urlsafe(18)
        request.app.state.desk.add_session(session_id, SESSION_LIFETIME)
        return f"{session_id}.{self._mac('session:' + session_id)}"

    def end_session(self, request: Request) -> None:
        """Ends the session the request's cookie names, if any."""
        session_id = self._session_id(request)
        if session_id:
            request.app.state.desk.end_session(session_id)

    def _session_id(self, request: Request) -> str | None:
        """Returns the session id of a cookie whose signature holds, else None."""
        value = request.cookies.get(COOKIE) or ""
        session_id, _, mac = value.partition(".")
        if not self.token or not session_id or not mac:
            return None
        if not hmac.compare_digest(mac.encode(), self._mac("session:" + session_id).encode()):
            return None
        return session_id

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
        session_id = self._session_id(request)
        return session_id is not None and request.app.state.desk.session_active(session_id)

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
