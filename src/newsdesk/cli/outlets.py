"""outlets (list, import, export), coverage, blindspots."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from newsdesk.cli.common import TIME, echo_json, get_desk, output_options

EXIT_PROBLEMS = 9  # the file went through but some lines had problems


def _day(value: Any) -> str:
    return str(value or "")[:16].replace("T", " ")


def _hours(value: float | None) -> str:
    if value is None:
        return "not reached"
    return f"{value * 60:.0f}m" if value < 1 else (f"{value:.1f}h" if value < 48 else f"{value / 24:.1f}d")


@click.group(name="outlets", invoke_without_command=True)
@output_options
@click.pass_context
def outlets_cmd(ctx: click.Context, as_json: bool) -> None:
    """List outlets: items, stories, first and last seen, domains, attributes.

    `newsdesk outlets import FILE` attaches attributes (country, lean, owner...) from a CSV or
    JSONL file; `newsdesk outlets export` writes the same format back.
    """
    if ctx.invoked_subcommand is not None:
        return
    desk = get_desk()
    rows = desk.outlets()
    if as_json:
        echo_json({"outlets": rows, "inputs": desk.outlet_inputs()})
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in ("outlet", "items", "stories", "first seen", "last seen", "domains", "attributes"):
        table.add_column(col, justify="right" if col in ("items", "stories") else "left", overflow="fold")
    for o in rows:
        attrs = ", ".join(f"{k}={v}" for k, v in o["attributes"].items())
        table.add_row(escape(o["name"]), str(o["items"]), str(o["stories"]), _day(o["first_seen"]),
                      _day(o["last_seen"]), escape(", ".join(o["domains"])), escape(attrs))
    console = Console()
    console.print(table)
    inputs = desk.outlet_inputs()
    if inputs:
        console.print(f"{len(inputs)} input(s) name no outlet; each counts as one source "
                      "(set one with `newsdesk ingest --source NAME`).", markup=False)


@outlets_cmd.command(name="import")
@click.argument("path", type=click.Path(dir_okay=False))
@output_options
def outlets_import(path: str, as_json: bool) -> None:
    """Attach attributes to outlets from a .csv or .jsonl file (one outlet per line).

    One column names the outlet (name or outlet) or its domain; `aliases` lists other names
    and domains separated by ";"; every other column is an attribute. Outlets not seen yet
    are kept for later. Exit status 9 when some lines had problems (the good rows are imported).
    """
    report = get_desk().import_outlets(path)
    for line in report["problems"]:
        click.echo(line, err=True)
    if as_json:
        echo_json(report)
    else:
        click.echo(f"{report['added']} outlet(s) added, {report['updated']} updated, "
                   f"{report['unseen']} not seen in items yet, {len(report['problems'])} problem(s)")
    if report["problems"]:
        sys.exit(EXIT_PROBLEMS)


@outlets_cmd.command(name="export")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None,
              help="File format (default: from PATH's extension, else csv).")
def outlets_export(path: str | None, fmt: str | None) -> None:
    """Write outlets with their domains, aliases and attributes (the import format) to PATH or stdout."""
    desk = get_desk()
    if fmt is None:
        fmt = "jsonl" if path and Path(path).suffix.lower() in (".jsonl", ".ndjson") else "csv"
    if path:
        with open(path, "w", encoding="utf-8", newline="") as out:
            n = desk.export_outlets(out, fmt)
        click.echo(f"{n} outlet(s) written to {path}", err=True)
    else:
        desk.export_outlets(click.get_text_stream("stdout"), fmt)


@click.command(name="coverage")
@click.argument("story_id")
@click.option("--by", "by", metavar="ATTR", help="Group outlets by this attribute (lean, country, owner...).")
@output_options
def coverage_cmd(story_id: str, by: str | None, as_json: bool) -> None:
    """Who covers a story: outlets by attribute value, first report, time to 2, 5 and 10 sources."""
    cov = get_desk().coverage(story_id, by=by)
    if as_json:
        echo_json(cov)
        return
    click.echo(f"story {cov['story']}: {cov['outlets']} outlets, {cov['independent']} independent "
               f"sources, {cov['items']} items")
    if cov["first"]:
        at = f" at {_day(cov['first']['time'])}" if cov["first"]["time"] else " (no publication time)"
        click.echo(f"first report: {cov['first']['outlet']}{at}")
    click.echo("time to reach " + ", ".join(f"{n} sources: {_hours(h)}" for n, h in cov["reach_hours"].items()))
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    if by:
        for col in (cov["by"], "sources", "share", "items", "first report", "outlets"):
            table.add_column(col, overflow="fold", justify="right" if col in ("sources", "share", "items") else "left")
        for g in cov["groups"]:
            table.add_row(escape(str(g["value"])), str(g["sources"]), f"{g['share']:.0%}", str(g["items"]),
                          _day(g["first"]), escape(", ".join(g["outlets"])))
    else:
        for col in ("outlet", "items", "copies", "first report"):
            table.add_column(col, overflow="fold", justify="right" if col in ("items", "copies") else "left")
        for o in cov["by_outlet"]:
            table.add_row(escape(o["name"]), str(o["items"]), str(o["copies"]), _day(o["first"]))
    Console().print(table)


@click.command(name="blindspots")
@click.option("--by", "by", metavar="ATTR", required=True, help="Outlet attribute to compare (lean, country...).")
@click.option("--since", type=TIME, help="Only stories active at or after (ISO date or age like 24h).")
@click.option("--min-sources", type=click.IntRange(min=1), default=None,
              help="Fewest independent sources (default: setting blindspot_min_sources).")
@click.option("--limit", default=50, show_default=True, help="Most stories to list.")
@output_options
def blindspots_cmd(by: str, since: Any, min_sources: int | None, limit: int, as_json: bool) -> None:
    """List stories where one value of an attribute holds at most 10% of the sources (setting blindspot_share)."""
    rows = get_desk().blindspots(by, since=since, min_sources=min_sources, limit=limit)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no blindspots")
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in ("story", "sources", "missing", "by value", "title"):
        table.add_column(col, overflow="fold", justify="right" if col == "sources" else "left")
    for r in rows:
        counts = ", ".join(f"{k} {v}" for k, v in r["counts"].items())
        table.add_row(r["story"], str(r["sources"]), escape(", ".join(r["missing"])), escape(counts),
                      escape(r["title"] or ""))
    Console().print(table)


def register(main: click.Group) -> None:
    main.add_command(outlets_cmd)
    main.add_command(coverage_cmd)
    main.add_command(blindspots_cmd)
