"""What every command shares: the lazily opened Desk and the output options."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from newsdesk.errors import InputError


class DeskContext:
    """Opens the Desk on first use, so `--help` never touches the store."""

    def __init__(self, db: str):
        self.db = db
        self._desk = None

    @property
    def desk(self):
        if self._desk is None:
            from newsdesk.desk import Desk

            self._desk = Desk(self.db)
        return self._desk

    def close(self) -> None:
        if self._desk is not None:
            self._desk.close()


def get_desk(ctx: click.Context | None = None):
    ctx = ctx or click.get_current_context()
    return ctx.find_object(DeskContext).desk


def output_options(fn: Callable) -> Callable:
    """Adds --json to a listing command; the command receives `as_json`."""

    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, default=_default, ensure_ascii=False, indent=2))


_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(value: str | None, *, now: datetime | None = None) -> datetime | None:
    """Returns a time from ISO 8601 ('2026-02-17', '2026-02-17T10:00Z') or an age ('24h', '3d')."""
    if value is None or value == "":
        return None
    value = value.strip()
    if value[-1:] in _UNITS and value[:-1].isdigit():
        return (now or datetime.now(UTC)) - duration(value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value[:40]!r}: not a time (use ISO 8601 like 2026-02-17 or an age like 24h)") from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    from newsdesk.ingest.normalise import MAX_YEAR, MIN_YEAR

    try:
        year = parsed.astimezone(UTC).year
    except OverflowError:
        year = 0
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InputError(f"{value[:40]!r}: out of range (use a time between the years {MIN_YEAR} and {MAX_YEAR})")
    return parsed


MAX_SPAN = timedelta(days=36_500)


def duration(value: str) -> timedelta:
    """Returns a duration from '90m', '6h', '2d' or '1w', at most a hundred years."""
    value = value.strip()
    digits, unit = value[:-1], value[-1:]
    if unit not in _UNITS or not digits.isdigit() or len(digits) > 9 or int(digits) <= 0:
        raise InputError(f"{value[:40]!r}: not a duration (use a number and a unit, like 6h, 90m or 2d)")
    try:
        span: timedelta | None = timedelta(**{_UNITS[unit]: int(digits)})
    except OverflowError:
        span = None
    if span is None or span > MAX_SPAN:
        raise InputError(f"{value!r}: out of range (at most {MAX_SPAN.days} days)")
    return span


class TimeParam(click.ParamType):
    name = "TIME"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime | None:
        if isinstance(value, datetime) or value is None:
            return value
        try:
            return parse_time(value)
        except InputError as e:
            self.fail(str(e), param, ctx)


TIME = TimeParam()
