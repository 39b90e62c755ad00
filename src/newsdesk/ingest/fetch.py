"""Fetching URLs safely: timeouts, a size cap, bounded redirects with every hop checked,
and private, loopback, link-local, reserved and multicast addresses refused unless allowed.

    result = fetch("https://example.org/feed.xml", etag=old_etag)
    if result.status == 304: ...  # not modified: content is b""

Every failure is a `FetchError` whose message is one line naming the URL and the reason.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from newsdesk import config
from newsdesk.errors import FetchError

LOGGER = logging.getLogger(__name__)

REDIRECTS = frozenset({301, 302, 303, 307, 308})
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, "
    "text/html;q=0.8, text/plain;q=0.7, */*;q=0.5"
)


@dataclass
class FetchResult:
    """What one fetch got: the asked and final URL, status, headers (lower-case keys), body."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""
    content_type: str = ""  # media type only, lower case ("text/html"); "" when not given

    @property
    def charset(self) -> str | None:
        """Returns the charset the Content-Type header names, if any."""
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip("\"' ").lower()
        return None

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


def _refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Returns why an address may not be fetched by default, or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for attr, what in (
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_unspecified", "unspecified"),
        ("is_reserved", "reserved"),
        ("is_private", "private"),
    ):
        if getattr(ip, attr):
            return what
    if not ip.is_global:
        return "non-public"
    return None


def resolve(host: str, port: int) -> list[str]:
    """Returns every address a host name resolves to (the literal itself for an IP)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as e:
        raise FetchError(f"cannot resolve host {host!r} ({e})") from None
    return sorted({str(info[4][0]).split("%")[0] for info in infos})


AllowPrivate = bool | Iterable[str]


def _allowed(address: str, allow_private: AllowPrivate) -> bool:
    if isinstance(allow_private, bool):
        return allow_private
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(net, strict=False) for net in allow_private)


def check_url(url: str, *, allow_private: AllowPrivate = False) -> None:
    """Returns nothing for a URL that may be fetched; raises FetchError naming why not.

    `allow_private` is True (any address), False (public addresses only), or a list of
    networks ("10.1.0.0/16", "127.0.0.1") whose private addresses are allowed.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise FetchError(f"{url}: not a valid URL ({e})") from None
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"{url}: only http and https URLs can be fetched")
    host = parts.hostname
    if not host:
        raise FetchError(f"{url}: no host name")
    if allow_private is True:
        return
    port = port or (443 if parts.scheme == "https" else 80)
    for address in resolve(host, port):
        why = _refusal(ipaddress.ip_address(address))
        if why and not _allowed(address, allow_private or False):
            named = host if host.strip("[]") == address else f"{host} ({address})"
            raise FetchError(
                f"{url}: refused, {named} is a {why} address; "
                "allow it with --allow-private or NEWSDESK_ALLOW_PRIVATE=1"
            )


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """Returns one TLS context for every fetch: loading the CA bundle costs ~85 ms a client."""
    return httpx.create_ssl_context()


class _Watchdog:
    """Shuts a request's sockets down at its deadline, so that no read outlasts it.

    httpx's timeouts bound each read, not the whole response: a server that sends a byte
    now and then (headers or body) would keep a fetch open for ever.
    """

    def __init__(self, deadline: float):
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict) -> None:
        if not event.endswith(("connect_tcp.complete", "start_tls.complete")):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            if self.fired:
                _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shut(sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def fetch(
    url: str,
    *,
    allow_private: AllowPrivate = False,
    max_bytes: int | None = None,
    timeout: float | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    max_redirects: int | None = None,
    user_agent: str | None = None,
) -> FetchResult:
    """Returns the response to a GET of url; raises FetchError (one line) on any failure.

    Redirects are followed by hand so that every hop is checked; at most `max_redirects`.
    With `etag` / `last_modified` the request is conditional: a 304 comes back as a result
    with status 304 and empty content. The body is streamed and refused past `max_bytes`;
    the whole fetch ends after four times `timeout`, however the server trickles its bytes.
    """
    headers = {"User-Agent": user_agent or str(config.get("user_agent")), "Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return request(
        "GET", url, headers=headers, allow_private=allow_private, max_bytes=max_bytes,
        timeout=timeout, max_redirects=max_redirects,
    )


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    content: bytes | None = None,
    allow_private: AllowPrivate = False,
    max_bytes: int | None = None,
    timeout: float | None = None,
    max_redirects: int | None = None,
    raise_for_status: bool = True,
) -> FetchResult:
    """Returns the response to one guarded request (GET of a page, POST of a webhook).

    Every hop's address is checked before connecting and again once connected, proxies from
    the environment are ignored, and the whole exchange has a deadline. With
    `raise_for_status` false an HTTP error status comes back as a result.
    """
    max_bytes = int(max_bytes if max_bytes is not None else config.get("max_bytes"))
    timeout = float(timeout if timeout is not None else config.get("fetch_timeout"))
    hops = int(max_redirects if max_redirects is not None else config.get("max_redirects"))
    deadline = time.monotonic() + timeout * 4  # the whole fetch, on top of per-step timeouts
    watchdog = _Watchdog(deadline)
    current = url.strip()
    # trust_env=False: a proxy from the environment would connect to hosts we never checked.
    try:
        with httpx.Client(
            timeout=timeout, follow_redirects=False, trust_env=False, verify=_ssl_context()
        ) as client:
            for _hop in range(hops + 1):
                check_url(current, allow_private=allow_private)
                try:
                    result = _send(
                        client, method, current, headers, content, max_bytes, deadline,
                        allow_private, watchdog, raise_for_status,
                    )
                except httpx.TimeoutException:
                    raise FetchError(f"{current}: timed out after {timeout:g}s") from None
                except httpx.HTTPError as e:
                    if watchdog.fired:
                        raise FetchError(f"{current}: took too long (over {timeout * 4:g}s)") from None
                    reason = str(e).splitlines()[0] if str(e) else type(e).__name__
                    raise FetchError(f"{current}: {reason}") from None
                if isinstance(result, str):
                    if method != "GET" or hops == 0:
                        raise FetchError(f"{current}: redirected to {result[:200]}, not followed")
                    current = urljoin(current, result)
                    continue
                result.url = url
                return result
    finally:
        watchdog.cancel()
    raise FetchError(f"{url}: too many redirects (more than {hops})")


def _check_peer(response: httpx.Response, url: str, allow_private: AllowPrivate) -> None:
    """Raises FetchError when the connection went to an address the guard refuses.

    The name was checked before connecting; this closes the gap where it resolves to a
    different (private) address the second time (DNS rebinding).
    """
    if allow_private is True:
        return
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if not peer:
        return
    address = str(peer[0]).split("%")[0]
    try:
        why = _refusal(ipaddress.ip_address(address))
    except ValueError:
        return
    if why and not _allowed(address, allow_private or False):
        raise FetchError(f"{url}: refused, connected to a {why} address ({address})")


def _send(
    client: httpx.Client,
    method: str,
    url: str,
    headers: dict[str, str],
    content: bytes | None,
    max_bytes: int,
    deadline: float,
    allow_private: AllowPrivate,
    watchdog: _Watchdog,
    raise_for_status: bool,
) -> FetchResult | str:
    """Returns the result of one request, or the Location to follow for a redirect."""
    with client.stream(
        method, url, headers=headers, content=content, extensions={"trace": watchdog.trace}
    ) as response:
        _check_peer(response, url, allow_private)
        status = response.status_code
        if status in REDIRECTS:
            location = response.headers.get("location")
            if not location:
                raise FetchError(f"{url}: HTTP {status} redirect without a Location")
            return location
        head = {k.lower(): v for k, v in response.headers.items()}
        media = head.get("content-type", "").split(";")[0].strip().lower()
        if status == 304:
            return FetchResult(url, url, 304, head, b"", media)
        if status >= 400 and raise_for_status:
            raise FetchError(f"{url}: HTTP {status} {response.reason_phrase}".rstrip())
        declared = head.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(f"{url}: body is {int(declared)} bytes, over the {max_bytes} limit")
        chunks: list[bytes] = []
        size = 0
        # Chunks as they arrive (not a fixed size at a time), so the deadline is checked after
        # every read however slowly the bytes come.
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"{url}: body is over the {max_bytes} byte limit")
            if time.monotonic() > deadline:
                raise FetchError(f"{url}: took too long to download")
            chunks.append(chunk)
        if watchdog.fired:  # the socket was shut at the deadline: what came is not the whole body
            raise FetchError(f"{url}: took too long to download")
        return FetchResult(url, str(response.url), status, head, b"".join(chunks), media)
