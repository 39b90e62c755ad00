"""Webhook delivery: JSON POSTed to a watch's URL, signed with HMAC-SHA256, retried with backoff.

The receiver checks `X-Newsdesk-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body
under the watch's secret (see `sign`). Delivery goes through the guarded fetch client: redirects
are not followed, proxies from the environment are ignored, and private addresses are refused
before connecting and once connected (DNS rebinding) unless allowed, as for every fetch.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from newsdesk.errors import FetchError

if TYPE_CHECKING:
    from newsdesk.live.api import LiveService

LOGGER = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Newsdesk-Signature"
EVENT_HEADER = "X-Newsdesk-Event"
DELIVERY_HEADER = "X-Newsdesk-Delivery"
RESPONSE_BYTES = 65536  # most of a receiver's answer read (it is not used)


def sign(secret: str, body: bytes) -> str:
    """Returns the signature header value for a body: 'sha256=' and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """Returns whether a signature header value matches the body under this secret."""
    return hmac.compare_digest(sign(secret, body), signature or "")


def check_target(url: str, *, allow_private: bool) -> None:
    """Raises FetchError when a webhook URL is not http(s) or names a private address."""
    from newsdesk.ingest.fetch import check_url

    check_url(url, allow_private=allow_private)


def post(
    url: str,
    payload: dict[str, Any],
    *,
    secret: str | None,
    attempts: int,
    backoff: float,
    timeout: float,
    allow_private: bool,
    delivery_id: int | None = None,
    user_agent: str = "newsdesk",
) -> tuple[bool, int, str | None]:
    """Returns (delivered, attempts made, last error) after POSTing with retries and backoff."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": user_agent, EVENT_HEADER: "alert"}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    if delivery_id is not None:
        headers[DELIVERY_HEADER] = str(delivery_id)
    from newsdesk.ingest.fetch import request

    error: str | None = None
    made = 0
    for attempt in range(max(1, attempts)):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        made += 1
        try:
            resp = request(
                "POST", url, headers=headers, content=body, allow_private=allow_private,
                timeout=timeout, max_redirects=0, max_bytes=RESPONSE_BYTES, raise_for_status=False,
            )
        except FetchError as e:
            error = str(e)
            if "refused" in error:
                break  # the guard refuses this address; retrying will not change that
            continue
        if 200 <= resp.status < 300:
            return True, made, None
        error = f"HTTP {resp.status}"
        if 400 <= resp.status < 500 and resp.status not in (408, 429):
            break  # the receiver refuses this request; retrying will not change that
    LOGGER.warning("webhook %s: %s after %d attempt(s)", url, error, made)
    return False, made, error


def deliver_pending(live: LiveService) -> list[dict[str, Any]]:
    """Returns the deliveries tried now: every pending or failed one with attempts left."""
    from newsdesk.live.alerts import alert_payload

    store = live.store
    retries = int(live.setting("webhook_retries"))
    max_attempts = (retries + 1) * 3  # three rounds of retries across checks, then give up
    tried = []
    down: set[str] = set()  # a receiver that failed now is not tried again until the next check
    for d in store.deliveries_due(max_attempts):
        if d["target"] in down:
            continue
        alert = store.get_alert(d["alert_id"])
        ok, made, error = post(
            d["target"], alert_payload(alert), secret=d["secret"],
            attempts=min(retries + 1, max_attempts - d["attempts"]),
            backoff=float(live.setting("webhook_backoff")),
            timeout=float(live.setting("fetch_timeout")),
            allow_private=bool(live.setting("allow_private")),
            delivery_id=d["id"], user_agent=str(live.setting("user_agent")),
        )
        store.record_delivery(d["id"], sent=ok, attempts=made, error=error)
        if not ok:
            down.add(d["target"])
        tried.append({"delivery": d["id"], "alert": d["alert_id"], "target": d["target"],
                      "sent": ok, "attempts": made, "error": error})
    return tried
