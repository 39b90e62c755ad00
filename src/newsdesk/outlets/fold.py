"""The folding rule that turns a source name or a URL into an outlet key.

A source name folds to its key by: Unicode NFKC and case folding; "&" read as "and";
punctuation dropped; a leading "the " and "www." dropped; then trailing words from
`SUFFIXES` ("news", "online", ...) dropped while something is left. So "The Reuters",
"REUTERS" and "Reuters News" share the key "reuters". A name that is itself a web address
("reuters.com", "www.reuters.com") is read as a domain.

A URL gives its registered domain: the host without "www.", cut to the label before the
public suffix ("news.bbc.co.uk" -> "bbc.co.uk"). The suffix rule is small and offline: the
last label is the suffix, or the last two when the second-to-last is one of `SECOND_LEVEL`
under a two-letter country code ("co.uk", "com.au") or the pair is in `KNOWN_PAIRS`.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

SUFFIXES = ("news", "online", "newspaper", "com", "net", "org", "homepage", "home page")
SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "gv", "or", "ne", "go", "gob", "nic", "mil"}
KNOWN_PAIRS = {"github.io", "blogspot.com", "substack.com", "wordpress.com", "medium.com"}

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_WS = re.compile(r"\s+")
_DOMAIN = re.compile(r"^(?:https?://)?(?:www\d?\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)+)/?$", re.IGNORECASE)
_HOST_OK = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+$")


def fold_name(name: str | None) -> str:
    """Returns the outlet key of a source name ('' when nothing is left)."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", name).casefold().strip()
    text = text.replace("&", " and ")
    text = text.removeprefix("www.")
    text = _WS.sub(" ", _PUNCT.sub(" ", text)).strip()
    if text.startswith("the ") and len(text) > 4:
        text = text[4:]
    changed = True
    while changed:
        changed = False
        for suffix in SUFFIXES:
            if text.endswith(" " + suffix) and len(text) > len(suffix) + 1:
                text = text[: -len(suffix) - 1].rstrip()
                changed = True
    return text


def name_as_domain(name: str | None) -> str | None:
    """Returns the registered domain when a source name is a web address, else None."""
    if not name:
        return None
    m = _DOMAIN.match(name.strip())
    if not m or " " in name.strip():
        return None
    return registered_domain(m.group(1))


def registered_domain(host_or_url: str | None) -> str | None:
    """Returns the registered domain of a host or URL ('news.bbc.co.uk' -> 'bbc.co.uk')."""
    if not host_or_url:
        return None
    value = host_or_url.strip()
    if "://" in value:
        try:
            host = urlsplit(value).hostname or ""
        except ValueError:
            return None
    else:
        host = value.split("/", 1)[0].split(":", 1)[0]
    host = host.casefold().strip(".")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if not _HOST_OK.match(host) or host.replace(".", "").isdigit():
        return None
    labels = host.split(".")
    if len(labels) < 2:
        return None
    suffix = 1
    last_two = ".".join(labels[-2:])
    if len(labels) >= 3 and (last_two in KNOWN_PAIRS or (len(labels[-1]) == 2 and labels[-2] in SECOND_LEVEL)):
        suffix = 2
    if len(labels) <= suffix:
        return None
    return ".".join(labels[-(suffix + 1):])


def domain_label(domain: str) -> str:
    """Returns the name part of a registered domain ('bbc.co.uk' -> 'bbc')."""
    return domain.split(".", 1)[0]


def input_key(origin: str | None, ingested: str | None) -> str | None:
    """Returns the input an item without an outlet came from, which counts as one source.

    A file or web address is one input however often it is read (a page's headline list
    read again is the same outlet's page); pasted text and stdin are one input per ingest.
    """
    if not origin:
        return None
    if any(c in origin for c in "/\\.:"):
        return origin
    return f"{origin}@{ingested or ''}"


def input_label(key: str) -> str:
    """Returns a short label for an input key (the file name of a path)."""
    base = key.rsplit("@", 1)[0] if "@" in key and "/" not in key.rsplit("@", 1)[1] else key
    tail = base.rstrip("/").rsplit("/", 1)[-1]
    return tail or base
