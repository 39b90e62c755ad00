"""ingest, items, show, stats."""

from __future__ import annotations

import sys
from typing import Any

import click

from newsdesk.cli.common import TIME, echo_json, get_desk, output_options
from newsdesk.model import KINDS, IngestReport, Item

EXIT_SKIPPED = 9  # the batch went through but some records were skipped


def item_row(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "source": item.source,
        "published": item.published.isoformat() if item.published else None,
        "language": item.language,
        "title": item.headline,
    }


def item_dict(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "text": item.text,
        "url": item.url,
        "source": item.source,
        "author": item.author,
        "published": item.published.isoformat() if item.published else None,
        "ingested": item.ingested.isoformat() if item.ingested else None,
        "language": item.language,
        "kind": item.kind,
        "origin": item.origin,
        "origin_line": item.origin_line,
        "source_id": item.source_id,
        "extra": item.extra,
    }


@click.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--allow-private", is_flag=True, help="Allow URLs on private, loopback or link-local addresses.")
@click.option("--progress/--no-progress", default=None, help="Show a progress bar (default: when on a terminal).")
@click.option("--source", "outlet", metavar="NAME",
              help="Outlet of items that name none (page dumps, plain text); others keep their own.")
@click.option("--cluster", default=None, metavar="ADDRESS",
              help="Run the per-item stages on Dask workers: local:N or tcp://HOST:8786 (setting cluster).")
@output_options
def ingest(targets: tuple[str, ...], allow_private: bool, progress: bool | None, outlet: str | None,
           cluster: str | None,
           as_json: bool) -> None:
    """Ingest files, directories, URLs, or '-' for stdin.

    Exit status: 0 all read, 2 a target could not be read, 7 the store or the cluster cannot be
    reached, 9 some records were skipped.
    """
    desk = get_desk()
    if cluster:
        desk.settings["cluster"] = cluster
    show = (sys.stderr.isatty() and not as_json) if progress is None else progress
    total = IngestReport()
    from newsdesk.errors import InputError

    failed: list[str] = []
    for target in targets:
        try:
            report = _ingest_one(desk, target, allow_private, show, outlet)
        except InputError as e:
            click.echo(f"error: {e}", err=True)
            failed.append(str(e))
            continue
        total.new += report.new
        total.already += report.already
        total.skipped.extend(report.skipped)
        total.new_ids.extend(report.new_ids)
    total.settled = desk.settle(total.new)  # the targets are one run: it ends with one pass
    for skip in total.skipped:
        click.echo(f"skipped {skip}", err=True)
    fired = desk.check_watches_after(total.new)
    if fired and not as_json:
        click.echo(f"{len(fired)} alert(s) fired (newsdesk alerts)", err=True)
    if as_json:
        echo_json({**total.to_dict(), "failed": failed})
    else:
        click.echo(total.summary() + (f", {len(failed)} target(s) unreadable" if failed else ""))
        if total.settled_summary():
            click.echo(total.settled_summary())
    if failed and not (total.new or total.already):
        sys.exit(2)
    if total.skipped or failed:
        sys.exit(EXIT_SKIPPED)


def _ingest_one(desk: Any, target: str, allow_private: bool, show: bool, outlet: str | None = None) -> IngestReport:
    if not show:
        return desk.ingest(target, allow_private=allow_private or None, outlet=outlet, settle=False)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(f"ingest {target}", total=None)
        return desk.ingest(
            target, allow_private=allow_private or None, progress=lambda n: bar.advance(task, n), outlet=outlet,
            settle=False,
        )


@click.command(name="items")
@click.option("--source", help="Only items from this outlet.")
@click.option("--kind", type=click.Choice(KINDS), help="Only articles or only headlines.")
@click.option("--since", type=TIME, help="Published at or after (ISO date or age like 24h).")
@click.option("--until", type=TIME, help="Published before.")
@click.option("--language", help="Only items in this language (ISO 639-1 code like de, or unknown).")
@click.option("--limit", default=50, show_default=True, help="Most items to list.")
@click.option("--offset", default=0, help="Items to pass over first.")
@output_options
def items_cmd(source, kind, since, until, language, limit, offset, as_json) -> None:
    """List items, newest first."""
    rows = [item_row(i) for i in get_desk().items(
        source=source, kind=kind, since=since, until=until, limit=limit, offset=offset,
        language=language.strip().lower() if language else None,
    )]
    if as_json:
        echo_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in ("id", "kind", "lang", "source", "published", "title"):
        table.add_column(col, overflow="fold" if col == "title" else "ellipsis")
    for r in rows:
        table.add_row(r["id"], r["kind"], r.get("language") or "", r["source"] or "", (r["published"] or "")[:16],
                      r["title"] or "")
    Console().print(table)


@click.command()
@click.argument("item_id")
@output_options
def show(item_id: str, as_json: bool) -> None:
    """Show one item: fields, text and every input line that named it."""
    desk = get_desk()
    item = desk.item(item_id)
    data = item_dict(item)
    data["sightings"] = desk.sightings(item.id)
    data["notes"] = desk.item_notes(item.id)
    if as_json:
        echo_json(data)
        return
    click.echo(f"{item.headline}")
    for key in ("id", "kind", "source", "author", "published", "url", "language", "origin", "source_id"):
        if data.get(key) not in (None, ""):
            click.echo(f"  {key}: {data[key]}")
    for note in data["notes"]:
        click.echo(f"  note: {note}")
    dropped = item.extra.get("template_lines")
    if isinstance(dropped, list) and dropped:
        click.echo(f"  the outlet's template lines, dropped from the text: {' | '.join(map(str, dropped))}")
    if item.text:
        click.echo("")
        click.echo(item.text)
    click.echo("")
    click.echo(f"seen {len(data['sightings'])} time(s):")
    for s in data["sightings"]:
        where = f"{s['origin']}:{s['line']}" if s["line"] is not None else (s["origin"] or "?")
        click.echo(f"  {where}" + (f" (id {s['source_id']})" if s["source_id"] else ""))


@click.command()
@output_options
def stats(as_json: bool) -> None:
    """Show what the store holds."""
    data = get_desk().stats()
    if as_json:
        echo_json(data)
        return
    for key, value in data.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for k, v in list(value.items())[:20]:
                click.echo(f"  {k}: {v}")
        else:
            click.echo(f"{key}: {value}")


@click.command(name="settings")
@output_options
def settings_cmd(as_json: bool) -> None:
    """List every setting: its environment variable, value now, default and help."""
    from newsdesk import config

    rows = [
        {"name": s.name, "env": s.env, "value": config.get(s.name), "default": s.default, "help": s.help}
        for s in config.SETTINGS
    ]
    for row in rows:
        if row["name"] in {"token"} and row["value"]:
            row["value"] = "(set)"
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['env']}={row['value']!s}")
        click.echo(f"    {row['help']} (default: {row['default']!s})")


def register(main: click.Group) -> None:
    for cmd in (ingest, items_cmd, show, stats, settings_cmd):
        main.add_command(cmd)
