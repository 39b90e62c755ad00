"""Dates named in an item, resolved against the item's reference time.

The reference is the publication time, else the time it was ingested; which one was used is
recorded with every date. "on Tuesday" is the Tuesday of that week: the one before the
reference unless the sentence speaks of the future ("will", "set to", "next"); "February 24"
takes the year that puts it nearest the reference.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]
_MONTH_ABBR = {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}
_FUTURE = re.compile(
    r"\b(will|shall|set to|scheduled|due to|plans? to|going to|expected to|is to|are to|next|upcoming|would)\b",
    re.IGNORECASE,
)
_NUM_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
              "eight": 8, "nine": 9, "ten": 10, "a": 1, "an": 1, "several": 3, "a few": 3}
_AGO = re.compile(r"^(\d+|one|two|three|four|five|six|seven|eight|nine|ten|a|an|a few|several)\s+"
                  r"(day|week|month|year)s?\s+ago$")
_MONTH_DAY = re.compile(r"^(?:(\d{1,2})\s+)?([a-z]{3,9})\.?(?:\s+(\d{1,2})(?:st|nd|rd|th)?)?,?(?:\s+(\d{4}))?$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_YEAR = re.compile(r"^(?:in\s+)?(\d{4})$")


def reference_of(published: datetime | None, ingested: datetime | None) -> tuple[str, datetime | None]:
    """Returns which time dates resolve against ('published', 'ingested' or 'none') and the time."""
    if published is not None:
        return "published", published
    if ingested is not None:
        return "ingested", ingested
    return "none", None


def resolve(surface: str, ref: date, sentence: str = "") -> tuple[date, str] | None:
    """Returns (first day, granularity) of the period a date expression names, or None."""
    text = re.sub(r"\s+", " ", surface.strip().lower()).strip(".,")
    text = re.sub(r"^(on|this past|this coming|the|early|late|mid|by|since|until|from)\s+", "", text)
    future = bool(_FUTURE.search(sentence))
    if text in ("today", "tonight", "this morning", "this afternoon", "this evening"):
        return ref, "day"
    if text in ("yesterday", "last night"):
        return ref - timedelta(days=1), "day"
    if text == "tomorrow":
        return ref + timedelta(days=1), "day"
    for prefix, sign in (("last ", -1), ("next ", 1), ("this ", 0), ("", None)):
        if not text.startswith(prefix):
            continue
        rest = text[len(prefix):]
        if rest in WEEKDAYS:
            return _weekday(ref, WEEKDAYS.index(rest), sign, future), "day"
        if rest == "week":
            start = ref - timedelta(days=ref.weekday())
            return start + timedelta(weeks=sign or 0), "week"
        if rest == "month":
            return _add_months(ref.replace(day=1), sign or 0), "month"
        if rest == "year":
            return date(ref.year + (sign or 0), 1, 1), "year"
        if rest == "weekend":
            sat = ref + timedelta(days=(5 - ref.weekday()) % 7)
            if sign == -1 or (sign is None and not future):
                sat -= timedelta(days=7) if sat > ref else timedelta(0)
            return sat, "day"
    m = _AGO.match(text)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else _NUM_WORDS[m.group(1)]
        unit = m.group(2)
        if unit == "day":
            return ref - timedelta(days=n), "day"
        if unit == "week":
            return ref - timedelta(weeks=n), "week"
        if unit == "month":
            return _add_months(ref.replace(day=1), -n), "month"
        return date(ref.year - n, 1, 1), "year"
    m = _ISO.match(text)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))), "day"
        except ValueError:
            return None
    m = _YEAR.match(text)
    if m and 1800 <= int(m.group(1)) <= 2200:
        return date(int(m.group(1)), 1, 1), "year"
    m = _MONTH_DAY.match(text)
    if m:
        month = _month(m.group(2))
        if month is None:
            return None
        day_s = m.group(1) or m.group(3)
        year = int(m.group(4)) if m.group(4) else None
        if day_s is None:
            if year is None:
                year = _nearest_year(ref, month, 1, future)
            return date(year, month, 1), "month"
        try:
            if year is None:
                year = _nearest_year(ref, month, int(day_s), future)
            return date(year, month, int(day_s)), "day"
        except ValueError:
            return None
    return None


def _month(word: str) -> int | None:
    if word in MONTHS:
        return MONTHS.index(word) + 1
    return _MONTH_ABBR.get(word)


def _weekday(ref: date, target: int, sign: int | None, future: bool) -> date:
    delta = target - ref.weekday()
    if sign == 1:
        return ref + timedelta(days=(delta % 7) or 7) + timedelta(days=7 if delta > 0 else 0)
    if sign == -1:
        return ref - timedelta(days=((-delta) % 7) or 7)
    if future:
        return ref + timedelta(days=delta % 7)
    return ref - timedelta(days=(-delta) % 7)


def _add_months(d: date, n: int) -> date:
    month = d.month - 1 + n
    return d.replace(year=d.year + month // 12, month=month % 12 + 1)


def _nearest_year(ref: date, month: int, day: int, future: bool) -> int:
    best = ref.year
    best_gap = None
    for year in (ref.year - 1, ref.year, ref.year + 1):
        try:
            gap = (date(year, month, day) - ref).days
        except ValueError:
            continue
        score = abs(gap) + (0 if (gap >= 0) == future else 30)
        if best_gap is None or score < best_gap:
            best, best_gap = year, score
    return best


# -- dates written in other languages (dateparser) ------------------------------------------

_DP_LANGS: frozenset[str] | None = None


def _dateparser_languages() -> frozenset[str]:
    """Returns the language codes dateparser knows (empty when it is not installed)."""
    global _DP_LANGS
    if _DP_LANGS is None:
        try:
            from dateparser.languages.loader import default_loader

            _DP_LANGS = frozenset(default_loader.get_locale_map().keys())
        except Exception:  # noqa: BLE001 - dateparser missing or changed: English rules only
            _DP_LANGS = frozenset()
    return _DP_LANGS


def _settings(reference: datetime | None, prefer: str = "current_period") -> dict:
    settings = {"RETURN_AS_TIMEZONE_AWARE": True, "TO_TIMEZONE": "UTC", "PREFER_DATES_FROM": prefer}
    if reference is not None:
        ref = reference if reference.tzinfo else reference.replace(tzinfo=UTC)
        # dateparser reads RELATIVE_BASE as naive local time: give it the UTC wall clock.
        settings["RELATIVE_BASE"] = ref.astimezone(UTC).replace(tzinfo=None)
        settings["TIMEZONE"] = "UTC"
    return settings


def parse_localised(text: str | None, language: str | None = None,
                    reference: datetime | None = None) -> datetime | None:
    """Returns the time a date written in any language dateparser knows names, or None.

    "Qua, 31 Jan 2018 10:20:00 -0200" (Portuguese), "vor zwei Tagen", "ontem": relative
    expressions resolve against `reference` (the publication time) as today. The language,
    when known to dateparser, narrows the reading; otherwise dateparser guesses it.
    """
    if not text or len(text) > 200 or not _dateparser_languages():
        return None
    import dateparser

    langs = [language] if language and language in _dateparser_languages() else None
    try:
        found = dateparser.parse(text.strip(), languages=langs, settings=_settings(reference, "past"))
    except Exception:  # noqa: BLE001 - an odd string is no date, never a failed batch
        return None
    if found is None and langs:
        try:
            found = dateparser.parse(text.strip(), settings=_settings(reference, "past"))
        except Exception:  # noqa: BLE001
            return None
    return found


_TRAILING_NUMBER = re.compile(r"[,;]\s*\d+\s*$")
_HAN_DATE = re.compile(r"[年月日]")


def find_localised(text: str, language: str, reference: datetime | None) -> list[tuple[str, int, int, date]]:
    """Returns (surface, start, end, day) of the dates named in a text in `language`.

    For items with no entity model of their own language; only spans holding a month name,
    a day name, a relative word or a full numeric date are kept (bare numbers are not dates).
    """
    if not text or language not in _dateparser_languages():
        return []
    from dateparser.search import search_dates

    try:
        found = search_dates(text[:5000], languages=[language], settings=_settings(reference)) or []
    except Exception:  # noqa: BLE001
        return []
    out: list[tuple[str, int, int, date]] = []
    pos = 0
    for surface, when in found:
        surface = _TRAILING_NUMBER.sub("", surface)
        stripped = surface.strip()
        letters = sum(c.isalpha() for c in stripped)
        if letters <= 3 and not any(c.isdigit() for c in stripped) and not _HAN_DATE.search(stripped):
            continue  # "Die", "Mar": a short word is a day name only in context
        if stripped.isdigit() or not (letters or re.search(r"\d[./-]\d", stripped)):
            continue
        start = text.find(surface, pos)
        if start < 0:
            continue
        pos = start + len(surface)
        out.append((surface, start, pos, when.date()))
    return out
