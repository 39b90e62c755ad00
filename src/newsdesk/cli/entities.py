"""entities, entity, mentions: the entity views."""

from __future__ import annotations

from typing import Any

import click

from newsdesk.cli.common import TIME, echo_json, get_desk, output_options


def _table(columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in columns:
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(*["" if v is None else str(v) for v in r])
    Console().print(table)


@click.command(name="entities")
@click.option("--type", "type_", help="Only this type: person, org, place, event, norp, product, law, work.")
@click.option("--since", type=TIME, help="Count mentions in items published at or after (ISO date or age like 24h).")
@click.option("--until", type=TIME, help="Count mentions in items published before.")
@click.option("--query", "-q", help="Only entities whose name contains this text.")
@click.option("--story", "story_id", help="The main entities of this story (and its keyphrases).")
@click.option("--limit", default=30, show_default=True, help="Most entities to list.")
@click.option("--offset", default=0, help="Entities to pass over first.")
@output_options
def entities_cmd(type_, since, until, query, story_id, limit, offset, as_json) -> None:
    """List the most mentioned entities (of all items, or of one story with --story)."""
    desk = get_desk()
    if story_id:
        rows = desk.story_entities(story_id, limit=limit, type=type_)
        phrases = desk.story_keyphrases(story_id)
        if as_json:
            echo_json({"story_id": story_id, "entities": rows, "keyphrases": phrases})
            return
        _table(["name", "type", "mentions", "items"],
               [[r["name"], r["type"], r["mentions"], r["items"]] for r in rows])
        if phrases:
            click.echo("keyphrases: " + ", ".join(p["phrase"] for p in phrases))
        return
    rows = desk.entities(type=type_, since=since, until=until, query=query, limit=limit, offset=offset)
    if as_json:
        echo_json(rows)
        return
    _table(["name", "type", "mentions", "items", "last seen"],
           [[r["name"], r["type"], r["mentions"], r["items"], (r["last_seen"] or "")[:16]] for r in rows])


@click.command(name="entity")
@click.argument("name")
@click.option("--related", default=10, show_default=True, help="Most entities named with it to show.")
@output_options
def entity_cmd(name: str, related: int, as_json: bool) -> None:
    """Show one entity: aliases, roles, stories, mentions over time, entities named with it."""
    data = get_desk().entity(name, related=related)
    if as_json:
        echo_json(data)
        return
    click.echo(f"{data['name']}  ({data['type']}, key {data['key']})")
    click.echo(f"  {data['mentions']} mention(s) in {data['items']} item(s), "
               f"first {(data['first_seen'] or '?')[:16]}, last {(data['last_seen'] or '?')[:16]}")
    if len(data["types"]) > 1:
        click.echo("  typed as: " + ", ".join(f"{t} x{n}" for t, n in data["types"].items()))
    click.echo("  aliases: " + ", ".join(f"{a['alias']} x{a['count']}" for a in data["aliases"]))
    if data["roles"]:
        click.echo("roles:")
        for r in data["roles"]:
            shown = ", ".join(r["items"][:5]) + (" ..." if len(r["items"]) > 5 else "")
            click.echo(f"  {r['role']}  ({r['count']} item(s): {shown})")
    if data["stories"]:
        click.echo("stories:")
        for s in data["stories"][:10]:
            click.echo(f"  {s['story_id']}  {s['items']} item(s)  {s['title'] or ''}")
    if data["timeline"]:
        click.echo("mentions over time:")
        for t in data["timeline"][-15:]:
            click.echo(f"  {t['period']}  {t['mentions']} mention(s) in {t['items']} item(s)")
    if data["named_with"]:
        click.echo("named with:")
        for o in data["named_with"]:
            click.echo(f"  {o['name']} ({o['type']})  {o['items']} item(s)")


@click.command(name="mentions")
@click.argument("item_id")
@output_options
def mentions_cmd(item_id: str, as_json: bool) -> None:
    """Show what enrichment found in one item: entities, roles, dates, figures, keyphrases."""
    data = get_desk().item_entities(item_id)
    if as_json:
        echo_json(data)
        return
    click.echo(f"item {data['item_id']}")
    if data["mentions"]:
        click.echo("entities:")
        for m in data["mentions"]:
            role = f"  [{m['role']}]" if m["role"] else ""
            click.echo(f"  {m['field']}:{m['start']}-{m['end']}  {m['surface']} -> {m['key']}{role}")
    if data["dates"]:
        click.echo("dates:")
        for d in data["dates"]:
            click.echo(f"  {d['surface']} -> {d['resolved'] or '?'} ({d['granularity'] or '-'}, "
                       f"against {d['reference']} {(d['reference_time'] or '')[:16]})")
    if data["figures"]:
        click.echo("figures:")
        for f in data["figures"]:
            click.echo(f"  {f['surface']} = {f['value']} {f['unit'] or ''}  of: {f['measure'] or '-'}")
    if data["keyphrases"]:
        click.echo("keyphrases: " + ", ".join(p["phrase"] for p in data["keyphrases"]))


def register(main: click.Group) -> None:
    for cmd in (entities_cmd, entity_cmd, mentions_cmd):
        main.add_command(cmd)
