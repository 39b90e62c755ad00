"""feeds, poll, watch, alerts, export, import."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click

from newsdesk.cli.common import echo_json, get_desk, output_options
from newsdesk.errors import InputError

_FULLTEXT = click.Choice(["auto", "always", "never"])
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(value: str) -> float:
    """Returns seconds from '90', '30s', '10m', '1h' or '1d'."""
    m = _INTERVAL.match(value or "")
    if not m or float(m.group(1)) <= 0:
        raise InputError(f"{value!r}: not an interval (use 30s, 10m, 1h)")
    return float(m.group(1)) * _SECONDS[m.group(2)]


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in columns:
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(*["" if r.get(c) is None else str(r.get(c)) for c in columns])
    Console().print(table)


# -- feeds ---------------------------------------------------------------------------------
@click.group()
def feeds() -> None:
    """Manage the feeds that `newsdesk poll` reads."""


@feeds.command("add")
@click.argument("sources", nargs=-1, required=True)
@click.option("--fulltext", type=_FULLTEXT, default="auto", show_default=True,
              help="Fetch each article page: auto (when the feed gives only a snippet), always, never.")
@click.option("--title", help="A name for the feed (default: the feed's own title).")
@output_options
def feeds_add(sources: tuple[str, ...], fulltext: str, title: str | None, as_json: bool) -> None:
    """Add feed URLs, or the feeds listed in OPML files."""
    desk = get_desk()
    added: list[dict[str, Any]] = []
    for source in sources:
        if source.lower().startswith(("http://", "https://")):
            added.append(desk.add_feed(source, title=title, fulltext=fulltext))
        elif Path(source).is_file():
            added.extend(desk.add_feeds_opml(source, fulltext=fulltext))
        else:
            raise InputError(f"{source}: neither an http(s) URL nor an OPML file")
    if as_json:
        echo_json(added)
        return
    for f in added:
        click.echo(f"{'added' if f['added'] else 'already there'} {f['id']}: {f['url']}")


@feeds.command("list")
@output_options
def feeds_list(as_json: bool) -> None:
    """List feeds with when they were polled, what they gave, and why one is failing."""
    rows = get_desk().feeds()
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        polled = (r["last_polled"] or "never")[:16].replace("T", " ")
        click.echo(f"{r['id']:>3}  {r['url']}  ({r['title'] or 'untitled'}; fulltext {r['fulltext']})")
        state = "ok" if not r["error"] else (
            f"FAILING x{r['failures']}: {r['error']}; next try {(r['retry_after'] or '')[:16].replace('T', ' ')}")
        click.echo(f"     polled {polled}, HTTP {r['last_status'] or '-'}, {r['last_new']} new, "
                   f"{r['items_seen']} read in all; {state}")


@feeds.command("remove")
@click.argument("feed")
def feeds_remove(feed: str) -> None:
    """Remove a feed (by number or URL); its items stay."""
    removed = get_desk().remove_feed(feed)
    click.echo(f"removed {removed['id']}: {removed['url']}")


@feeds.command("set")
@click.argument("feed")
@click.option("--fulltext", type=_FULLTEXT, required=True, help="When to fetch each article page in full.")
def feeds_set(feed: str, fulltext: str) -> None:
    """Change a feed's full-text mode."""
    f = get_desk().set_feed_fulltext(feed, fulltext)
    click.echo(f"{f['id']}: fulltext {f['fulltext']}")


# -- poll ----------------------------------------------------------------------------------
def _print_round(report: Any, as_json: bool) -> None:
    if as_json:
        echo_json(report.to_dict())
        return
    for f in report.feeds:
        if f.outcome == "error":
            click.echo(f"failed {f.url}: {f.error} (retry after {(f.retry_after or '')[:19]})", err=True)
        elif f.outcome == "backoff":
            click.echo(f"backing off {f.url} until {(f.retry_after or '')[:19]}: {f.error}", err=True)
    from newsdesk.live.alerts import describe

    for alert in report.alerts:
        click.echo(f"alert {describe(alert)}")
    click.echo(report.summary())


@click.command()
@click.argument("feed_refs", nargs=-1)
@click.option("--every", help="Poll again at this interval (30s, 10m, 1h) until stopped with Ctrl-C.")
@click.option("--force", is_flag=True, help="Also poll feeds that are backing off after errors.")
@click.option("--allow-private", is_flag=True, help="Allow feeds on private, loopback or link-local addresses.")
@click.option("--no-check", is_flag=True, help="Do not check watches after polling.")
@output_options
def poll(feed_refs: tuple[str, ...], every: str | None, force: bool, allow_private: bool,
         no_check: bool, as_json: bool) -> None:
    """Poll feeds once (or --every interval): store new items, then check watches.

    Exit status 0 when every polled feed answered, 9 when some failed.
    """
    desk = get_desk()
    options = {"feeds": list(feed_refs) or None, "force": force,
               "allow_private": allow_private or None, "check": not no_check}
    if every:
        desk.poll_every(parse_interval(every), on_round=lambda r: _print_round(r, as_json), **options)
        return
    report = desk.poll(**options)
    _print_round(report, as_json)
    if report.count("error"):
        sys.exit(9)


# -- watches and alerts --------------------------------------------------------------------
@click.group()
def watch() -> None:
    """Manage watches: alerts when an entity, a search or a story gets news."""


@watch.command("add")
@click.argument("kind", type=click.Choice(["entity", "query", "story", "blindspot"]))
@click.argument("target")
@click.option("--name", help="A name for the watch (default: KIND:TARGET).")
@click.option("--min-new-sources", type=int, default=None,
              help="New independent sources before a story alerts again (default: setting alert_min_new_sources).")
@click.option("--webhook", help="POST each alert as JSON to this URL.")
@click.option("--secret", envvar="NEWSDESK_WEBHOOK_SECRET",
              help="Sign webhook bodies with HMAC-SHA256 under this secret (X-Newsdesk-Signature; env NEWSDESK_WEBHOOK_SECRET).")
@output_options
def watch_add(kind: str, target: str, name: str | None, min_new_sources: int | None,
              webhook: str | None, secret: str | None, as_json: bool) -> None:
    """Add a watch on an entity name, a full-text query, a story id, or an outlet attribute.

    A blindspot watch (`watch add blindspot lean`) alerts when a story becomes a blindspot.
    """
    w = get_desk().add_watch(kind, target, name=name, min_new_sources=min_new_sources,
                             webhook=webhook, secret=secret)
    w["secret"] = bool(w["secret"])
    if as_json:
        echo_json(w)
        return
    click.echo(f"watch {w['id']} {w['name']!r}: {kind} {w['target']}")


@watch.command("list")
@output_options
def watch_list(as_json: bool) -> None:
    """List watches."""
    rows = get_desk().watches()
    if as_json:
        echo_json(rows)
        return
    _table(rows, ["id", "name", "kind", "target", "min_new_sources", "webhook"])


@watch.command("remove")
@click.argument("watch_ref")
def watch_remove(watch_ref: str) -> None:
    """Remove a watch (by number or name); its past alerts stay."""
    w = get_desk().remove_watch(watch_ref)
    click.echo(f"removed watch {w['id']} {w['name']!r}")


@click.command()
@click.option("--check", is_flag=True, help="First check watches against items that arrived since the last check.")
@click.option("--watch", "watch_ref", help="Only alerts of this watch (number or name).")
@click.option("--limit", default=20, show_default=True, help="Most alerts to list.")
@click.option("--feed", "feed_fmt", type=click.Choice(["rss", "atom"]), help="Print the alerts as an RSS or Atom feed.")
@output_options
def alerts(check: bool, watch_ref: str | None, limit: int, feed_fmt: str | None, as_json: bool) -> None:
    """List alerts, newest first (with --check, fire new ones first)."""
    from newsdesk.live.alerts import describe

    desk = get_desk()
    fired = desk.check_watches() if check else []
    if feed_fmt:
        click.echo(desk.alerts_feed(feed_fmt, watch=watch_ref, limit=limit))
        return
    rows = desk.alerts(watch=watch_ref, limit=limit)
    if as_json:
        echo_json(rows)
        return
    if check:
        click.echo(f"{len(fired)} new alert(s)")
    for a in rows:
        click.echo(f"{a['created'][:19]} {describe(a)}")


# -- export and import ---------------------------------------------------------------------
@click.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "rss", "opml"]), default="jsonl",
              show_default=True, help="Output format.")
@click.option("--what", type=click.Choice(["items", "stories", "entities", "feeds", "watches", "corrections", "all"]),
              default="all", show_default=True, help="What to export (csv, rss and opml take one kind).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write here instead of stdout.")
def export(fmt: str, what: str, output: str | None) -> None:
    """Export the store: items with sightings, stories with members, entities, feeds, watches, corrections."""
    desk = get_desk()
    if output:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            n = desk.export(fh, fmt=fmt, what=what)
        click.echo(f"{n} record(s) written to {output}", err=True)
    else:
        desk.export(sys.stdout, fmt=fmt, what=what)


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@output_options
def import_cmd(path: str, as_json: bool) -> None:
    """Restore a JSONL export into this store (items re-ingested in order, corrections replayed)."""
    counts = get_desk().import_jsonl(path)
    if as_json:
        echo_json(counts)
        return
    click.echo(", ".join(f"{n} {kind}" for kind, n in counts.items()) or "nothing imported")


def register(main: click.Group) -> None:
    for cmd in (feeds, poll, watch, alerts, export, import_cmd):
        main.add_command(cmd)
