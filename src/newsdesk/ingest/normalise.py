"""Normalisation shared by every source: text, titles, URLs, times, and building the Item.

Every reader hands its raw fields to `make_item`, which cleans them before the Item's
content-derived id is computed, so the same article read from a feed, a page or a JSONL
file gets the same id whenever its canonical URL (or its cleaned title and text) agree.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from newsdesk.model import ARTICLE, HEADLINE, Item, whole_chars

LOGGER = logging.getLogger(__name__)

# -- text ------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200e\u200f\u2028\u2029\ufeff]")
# Only what needs changing: runs of 2+ spaces, or one space character other than " ".
_SPACES = re.compile(
    r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]{2,}|[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]"
)
_BLANKS = re.compile(r"\n{3,}")

# Lines a page template leaves in the text; matched whole, case-insensitive, after trimming.
_BOILERPLATE = re.compile(
    r"^(?:advertisement|advertising|sponsored(?: content)?|ad|"
    r"read more|read more(?:[:›»|]| about| at| here| on| from).{0,80}|continue reading|click here to read more|"
    r"share this(?: article| story| page)?|share on (?:facebook|twitter|x|linkedin)|share|tweet|"
    r"sign up (?:for|to) (?:our|the) .{0,40}newsletters?.{0,40}|subscribe(?: now| today)?|"
    r"subscribe to (?:our|the) newsletter|follow us on .{0,40}|"
    r"skip to (?:main )?content|related(?: articles| stories| coverage)?|"
    r"story continues below(?: advertisement)?|article continues below(?: advertisement)?|"
    r"this story has been shared \d+ times?|"
    r"\(?(?:photo|image): ?[^.]{0,60}\)?|cookies? (?:policy|settings)|accept (?:all )?cookies)"
    r"[.!:]?$",
    re.IGNORECASE,
)


def is_boilerplate(line: str) -> bool:
    """Returns whether a trimmed line is page furniture ("Advertisement", "Read more"...)."""
    return len(line) <= 80 and _BOILERPLATE.match(line) is not None


def clean_text(text: str | None, max_chars: int | None = None) -> str:
    """Returns text in NFC with tidy spacing, boilerplate lines dropped, capped at max_chars."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.replace("\n", "").isprintable():  # fast path: most text has nothing to fix
        text = _CONTROL.sub("", text)
        text = _SPACES.sub(" ", text)
    elif "  " in text:
        text = _SPACES.sub(" ", text)
    lines = []
    for raw in text.split("\n"):
        line = raw.strip()
        if line and is_boilerplate(line):
            continue
        lines.append(line)
    text = _BLANKS.sub("\n\n", "\n".join(lines)).strip()
    if max_chars is not None and len(text) > max_chars:
        cut = text.rfind(" ", max(0, max_chars - 200), max_chars)
        text = text[: cut if cut > 0 else max_chars].rstrip()
    return text


def clean_line(text: str | None, max_chars: int = 1000) -> str | None:
    """Returns a one-line field (title, author, source) in NFC with single spaces, or None."""
    if text is None:
        return None
    text = unicodedata.normalize("NFC", str(text))
    if text.isprintable() and "  " not in text:  # fast path: nothing to fix but the ends
        return text.strip()[:max_chars] or None
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text.replace("\r", " ").replace("\n", " ")).strip()
    return text[:max_chars] or None


_BLOCK_TAGS = frozenset(
    {
        "p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
        "blockquote", "section", "article", "header", "footer", "pre", "figure", "figcaption", "dd",
        "dt", "hr"
    }
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "svg", "head"})


class _Stripper(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


# A '<' that opens no tag: no '>' comes before the next '<'.
_LONE_LT = re.compile(r"<(?![^<>]*>)")
_TAG = re.compile(r"<[^<>]+>")
# Blank lines and the spaces around them, tried only from the start of a run of spaces (tried
# from each space of a long run, 50 KB of spaces took 2 s).
_BLANK_LINES = re.compile(r"(?<![ \t])[ \t]*\n[ \t\n]*\n[ \t]*")


def linear_markup(fragment: str) -> str:
    """Returns the fragment without what makes Python's HTMLParser scan it again and again.

    HTMLParser looks for the end of every comment, tag or declaration it starts from where it
    starts, to the end of the input when there is none: a feed summary of 400 KB of "<!--" took
    it 28 s, of "<a " (no '>') 100 s per 100 KB. Comments go (an unclosed one hides the rest, as
    in a browser), and a '<' with no '>' before the next '<' is escaped, in passes that each read
    the fragment once, so the parser then reads each character a bounded number of times.
    """
    out: list[str] = []
    pos = 0
    while True:
        start = fragment.find("<!--", pos)
        if start < 0:
            out.append(fragment[pos:])
            break
        out.append(fragment[pos:start])
        end = fragment.find("-->", start + 4)
        if end < 0:
            break
        pos = end + 3
    # A marked section ("<![CDATA[", "<![if") is looked for to its end the same way; in HTML
    # outside SVG and MathML it is no markup, so it is read as text.
    return _LONE_LT.sub("&lt;", "".join(out)).replace("<![", "&lt;![")


def strip_html(fragment: str | None) -> str:
    """Returns the text of an HTML fragment: tags removed, entities decoded, blocks as lines."""
    if not fragment:
        return ""
    if "<" not in fragment:
        return html.unescape(fragment)
    fragment = linear_markup(fragment)
    parser = _Stripper()
    try:
        parser.feed(fragment)
        parser.close()
    except Exception:  # noqa: BLE001 - HTMLParser is lenient; never let odd markup stop a batch
        return _TAG.sub(" ", fragment)
    text = "".join(parser.parts)
    return _BLANK_LINES.sub("\n\n", text)


# -- titles ----------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.;,:]['\"’”)]?$")
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
_MINOR = frozenset(
    {
        "a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "of", "on", "or",
        "over", "per", "the", "to", "up", "via", "vs", "with", "amid", "after", "before", "than",
        "that", "is", "are", "was", "were", "be", "its", "his", "her", "their", "our"
    }
)


def words(line: str) -> list[str]:
    """Returns the alphabetic words of a line."""
    return _WORD.findall(line)


_OUTLET_SEPARATORS = (" - ", " – ", " — ", " | ")


def without_outlet(title: str | None, outlet: str | None) -> str | None:
    """Returns the title without the outlet's name appended to it ("Headline - Outlet", as
    aggregators and page titles write it); the title as it is otherwise."""
    if not title or not outlet:
        return title
    for sep in _OUTLET_SEPARATORS:
        tail = len(sep) + len(outlet)
        if len(title) > tail and title[-tail:].casefold() == (sep + outlet).casefold():
            return title[:-tail].rstrip()
    return title


def looks_like_title(line: str, *, max_words: int = 25, max_chars: int = 250) -> bool:
    """Returns whether one line has the shape of a headline: short, no sentence ending."""
    line = line.strip()
    if not line or len(line) > max_chars or _SENTENCE_END.search(line):
        return False
    if line[0] in "-*•·>|#" or line.endswith("…"):
        return False
    found = words(line)
    return 1 <= len(found) <= max_words and len(line.split()) <= max_words


def title_case_ratio(line: str) -> float:
    """Returns the share of a line's significant words that start with a capital letter."""
    significant = [w for w in words(line) if w.lower() not in _MINOR]
    if not significant:
        return 0.0
    return sum(1 for w in significant if w[0].isupper()) / len(significant)


# -- URLs ------------------------------------------------------------------------------------

_TRACKING = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid",
        "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id",
        "wickedid", "spm", "ocid", "cmpid", "ncid", "rss_source", "ref_src", "ref_url", "s_cid",
        "sr_share", "twclid", "li_fat_id"
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(key: str) -> bool:
    k = key.lower()
    return k.startswith(("utm_", "utm-", "__hs", "pk_", "mtm_")) or k in _TRACKING


def canonical_url(url: str | None) -> str | None:
    """Returns the canonical form of an http(s) URL (no tracking, no fragment), else None."""
    if not url:
        return None
    url = str(url).strip()
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        host = parts.hostname.lower().rstrip(".")
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        port = parts.port
    except ValueError:
        return None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username:
        netloc = parts.username + (f":{parts.password}" if parts.password else "") + "@" + netloc
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


# -- times -----------------------------------------------------------------------------------


# Times outside these years are refused: converting them to UTC, or adding a story's window
# to them, would overflow Python's datetime (year 1 to 9999).
MIN_YEAR, MAX_YEAR = 1000, 2999


def parse_time(value: Any) -> datetime | None:
    """Returns a timezone-aware time (naive taken as UTC) from ISO 8601, RFC 2822 or a
    datetime; None when absent, unreadable or out of range (see `time_problem`)."""
    parsed, _ = read_time(value)
    return parsed


def read_time(value: Any) -> tuple[datetime | None, str | None]:
    """Returns (time, None) for a readable time, (None, why) for one that is not, (None, None)
    when absent."""
    if value is None or value == "":
        return None, None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            parsed = datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            return None, "out of range"
    elif isinstance(value, str):
        raw = value.strip()[:200]
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            try:
                parsed = parsedate_to_datetime(raw)
            except (TypeError, ValueError, IndexError, OverflowError):
                LOGGER.debug("unreadable time %r", raw)
                return None, "not a time"
    else:
        return None, f"not a time (a {type(value).__name__})"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        year = parsed.astimezone(UTC).year
    except (OverflowError, ValueError):
        return None, "out of range"
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None, f"out of range (years {MIN_YEAR}-{MAX_YEAR})"
    return parsed, None


def time_note(value: Any, why: str) -> str:
    """Returns the note kept on an item whose input time was dropped."""
    shown = value if isinstance(value, str) else repr(value)
    return f"published {shown[:80]!r} dropped: {why}"


# -- items -----------------------------------------------------------------------------------

HEADLINE_MAX_WORDS = 20
# Caps on the fields a hostile input could make as large as its file.
MAX_URL_CHARS = 4096
MAX_ID_CHARS = 300
MAX_EXTRA_CHARS = 20_000  # the kept unknown fields, as JSON


NOTES = "_notes"  # key in `extra` of what reading the input dropped, for `show`


def add_note(extra: dict[str, Any], note: str) -> None:
    """Adds a note (what was dropped from the input, and why) to an item's extra fields."""
    notes = extra.get(NOTES)
    if not isinstance(notes, list):
        notes = extra[NOTES] = []
    if note not in notes:
        notes.append(note)


def capped_extra(extra: dict[str, Any] | None) -> dict[str, Any]:
    """Returns the unknown fields to keep: each while the JSON of all stays under the cap."""
    import json

    out: dict[str, Any] = {}
    used = 2
    for key, value in (extra or {}).items():
        key = whole_chars(str(key)[:200])
        try:
            dumped = json.dumps({key: value}, ensure_ascii=False)
            mended = whole_chars(dumped)
            if mended is not dumped:  # a lone surrogate somewhere inside
                dumped, value = mended, json.loads(mended)[key]
        except (TypeError, ValueError, RecursionError):
            continue
        size = len(dumped)
        if used + size > MAX_EXTRA_CHARS:
            add_note(out, f"unknown fields over {MAX_EXTRA_CHARS} characters were dropped")
            continue
        out[key] = value
        used += size
    return out


_SLUG_SPLIT = re.compile(r"[-_+.~,]+")
_SLUG_EXT = re.compile(r"\.(?:s?html?|php\d?|aspx?|jsp|cms|ece|amp)$", re.IGNORECASE)
SLUG_MIN_WORDS = 3  # fewer is a section name ("world", "news/politics"), not a headline


def title_from_url(url: str | None) -> str | None:
    """Returns the headline a news URL's slug spells, or None when it spells none.

    "https://example.com/news/414348-ferry-strike-ends/" gives "Ferry strike ends": the last
    path segment with at least SLUG_MIN_WORDS words, less numeric ids and file extensions.
    """
    if not url or len(url) > MAX_URL_CHARS:
        return None
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return None
    for segment in reversed([seg for seg in path.split("/") if seg]):
        segment = _SLUG_EXT.sub("", unquote_plus(segment))
        words = []
        for token in _SLUG_SPLIT.split(segment):
            if not token or not any(c.isalpha() for c in token):
                if token.isdigit() and (len(token) <= 3 or (len(token) == 4 and words)):
                    words.append(token)  # "10", "2026" in a headline; a long leading number is an id
                continue
            if sum(c.isdigit() for c in token) >= 3:
                continue  # "a1b2c3d4", "article123456": an id
            words.append(token.lower())
        while words and words[-1].isdigit():
            words.pop()
        if sum(1 for w in words if not w.isdigit()) >= SLUG_MIN_WORDS:
            title = " ".join(words)[:200]
            return title[:1].upper() + title[1:]
    return None


def make_item(
    *,
    title: str | None,
    text: str | None,
    origin: str,
    origin_line: int | None = None,
    url: str | None = None,
    source: str | None = None,
    published: Any = None,
    language: str | None = None,
    author: str | None = None,
    source_id: Any = None,
    kind: str | None = None,
    extra: dict[str, Any] | None = None,
    max_chars: int | None = None,
    detect_language: bool = True,
) -> Item | None:
    """Returns a normalised Item, or None when it has neither title nor text.

    A record with a title and no text is a headline; so is one with no title whose text
    is a single short line (the text becomes the title).
    """
    published = whole_chars(published)  # its text may go into a note; the Item mends the other fields
    title_clean = clean_line(title, 1000)
    body = clean_text(text, max_chars)
    if not title_clean and not body:
        # A failed scrape or a link-only entry: its URL's slug is often the headline.
        title_clean = clean_line(title_from_url(url), 1000)
        if not title_clean:
            return None
        extra = {**(extra or {}), "title_from": "url"}
    if kind is None:
        if not body:
            kind = HEADLINE
        elif not title_clean and "\n" not in body and len(body.split()) <= HEADLINE_MAX_WORDS:
            title_clean, body, kind = clean_line(body, 1000), "", HEADLINE
        else:
            kind = ARTICLE
    lang = clean_line(language, 20)
    if detect_language:
        # Declared ("en-GB" -> "en"), unless the text clearly says otherwise; else detected.
        from newsdesk.nlp.language import item_language

        lang, why = item_language(lang, f"{title_clean or ''}\n{body}")
        if why:
            extra = {**(extra or {}), "language_note": why}
    elif lang:
        from newsdesk.nlp.language import normalise_code

        lang = normalise_code(lang)
    published_at, why = read_time(published)
    if published_at is None and why == "not a time" and isinstance(published, str):
        # "Qua, 31 Jan 2018 10:20:00 -0200", "31. Januar 2018": dates in the item's language.
        from newsdesk.nlp.dates import parse_localised

        published_at, why = read_time(parse_localised(published, lang))
        if published_at is None and why is None:
            why = "not a time"
    extra = capped_extra(extra)
    if why:
        add_note(extra, time_note(published, why))
        LOGGER.warning("%s%s: %s", origin, f":{origin_line}" if origin_line else "",
                       time_note(published, why))
    return Item(
        title=title_clean,
        text=body,
        url=canonical_url(url) if url is None or len(str(url)) <= MAX_URL_CHARS else None,
        source=clean_line(source, 300),
        published=published_at,
        language=lang,
        kind=kind,
        author=clean_line(author, 300),
        origin=origin,
        origin_line=origin_line,
        source_id=None if source_id is None or source_id == "" else str(source_id)[:MAX_ID_CHARS],
        extra=extra,
    )
