"""Alerts as people read them: one line, a webhook payload, an RSS or Atom feed."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree as ET

from newsdesk.errors import InputError

FEED_FORMATS = ("rss", "atom")


def alert_payload(alert: dict[str, Any]) -> dict[str, Any]:
    """Returns the JSON object a webhook receives for one alert."""
    return {
        "alert": alert["id"],
        "watch": alert["watch"],
        "reason": alert["reason"],
        "story": alert["story"],
        "title": alert["title"],
        "url": alert["url"],
        "item": alert["item_id"],
        "sources": alert["sources"],
        "items": alert["items"],
        "created": alert["created"],
    }


def describe(alert: dict[str, Any]) -> str:
    """Returns one line for a person: which watch, new or updated, the story and its sources."""
    what = "new story" if alert["reason"] == "new" else "story grew"
    return (
        f"[{alert['watch']}] {what}: {alert['title'] or '(untitled)'} "
        f"({alert['sources']} source(s), {alert['items']} item(s); story {alert['story']})"
    )


def _rfc822(value: str | None) -> str:
    when = datetime.fromisoformat(value) if value else datetime.now(UTC)
    return format_datetime(when.astimezone(UTC), usegmt=True)


def alerts_feed(
    alerts: list[dict[str, Any]], *, fmt: str = "rss", title: str = "newsdesk alerts",
    link: str = "http://localhost/",
) -> str:
    """Returns alerts (newest first) as an RSS 2.0 or Atom 1.0 document."""
    if fmt not in FEED_FORMATS:
        raise InputError(f"{fmt!r}: not an alert feed format (use rss or atom)")
    if fmt == "rss":
        rss = ET.Element("rss", version="2.0")
        channel = ET.SubElement(rss, "channel")
        ET.SubElement(channel, "title").text = title
        ET.SubElement(channel, "link").text = link
        ET.SubElement(channel, "description").text = "Stories that matched your watches"
        for a in alerts:
            item = ET.SubElement(channel, "item")
            ET.SubElement(item, "title").text = describe(a)
            if a.get("url"):
                ET.SubElement(item, "link").text = a["url"]
            ET.SubElement(item, "guid", isPermaLink="false").text = f"newsdesk-alert-{a['id']}"
            ET.SubElement(item, "pubDate").text = _rfc822(a["created"])
            ET.SubElement(item, "category").text = a["watch"]
            ET.SubElement(item, "description").text = a["title"] or ""
        return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(rss, encoding="unicode")
    ns = "http://www.w3.org/2005/Atom"
    ET.register_namespace("", ns)
    feed = ET.Element(f"{{{ns}}}feed")
    ET.SubElement(feed, f"{{{ns}}}title").text = title
    ET.SubElement(feed, f"{{{ns}}}id").text = "urn:newsdesk:alerts"
    ET.SubElement(feed, f"{{{ns}}}link", href=link)
    updated = alerts[0]["created"] if alerts else datetime.now(UTC).isoformat()
    ET.SubElement(feed, f"{{{ns}}}updated").text = updated
    for a in alerts:
        entry = ET.SubElement(feed, f"{{{ns}}}entry")
        ET.SubElement(entry, f"{{{ns}}}title").text = describe(a)
        ET.SubElement(entry, f"{{{ns}}}id").text = f"urn:newsdesk:alert:{a['id']}"
        ET.SubElement(entry, f"{{{ns}}}updated").text = a["created"]
        if a.get("url"):
            ET.SubElement(entry, f"{{{ns}}}link", href=a["url"])
        ET.SubElement(entry, f"{{{ns}}}category", term=a["watch"])
        ET.SubElement(entry, f"{{{ns}}}summary").text = a["title"] or ""
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode")
