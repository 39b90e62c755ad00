"""brief, trending, summary and timeline: thin wrappers over the Desk calls of the briefs service."""

from __future__ import annotations

from datetime import timedelta

import click

from newsdesk.cli.common import TIME, duration, echo_json, get_desk, output_options
from newsdesk.errors import InputError


def _duration(value: str) -> timedelta:
    """Returns a duration from '90m', '6h', '2d' or '1w'."""
    return duration(value)


def _cites(sentence) -> str:
    return ", ".join(sentence.sources or sentence.item_ids)


@click.command(name="brief")
@click.option("--since", type=TIME, help="Stories active at or after this time (ISO date or age like 24h).")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True,
              help="Markdown, a self-contained printable HTML page, or JSON.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=1), help="Number of stories.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the briefing to this file instead of standard output.")
def brief_cmd(since, fmt, top, output) -> None:
    """Write a briefing: the top stories ranked by sources, growth and recency, summarised with citations."""
    from newsdesk.stories.brief import render_brief

    text = render_brief(get_desk().brief(since=since, top=top), fmt)
    if output:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as e:
            raise InputError(f"{output}: cannot write ({e.strerror})") from None
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))


@click.command(name="trending")
@click.option("--window", default="6h", show_default=True,
              help="Window compared with the one before it (like 6h, 90m, 2d).")
@click.option("--now", type=TIME, help="End of the last window (default: newest story time in the store).")
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=1), help="Most stories to list.")
@click.option("--min-sources", default=2, show_default=True, type=click.IntRange(min=1),
              help="Fewest new independent sources in the last window.")
@output_options
def trending_cmd(window, now, top, min_sources, as_json) -> None:
    """List stories whose rate of new independent sources is rising."""
    rows = get_desk().trending(window=_duration(window), now=now, top=top, min_sources=min_sources)
    if as_json:
        echo_json([t.to_dict() for t in rows])
        return
    if not rows:
        click.echo("no story is gaining sources faster than in the window before")
        return
    for t in rows:
        click.echo(f"{t.story_id}  {t.figure}  {t.title}")


@click.command(name="summary")
@click.argument("story_id")
@click.option("--since", type=TIME, help="Only what the story added after this time (ISO date or age like 24h).")
@output_options
def summary_cmd(story_id, since, as_json) -> None:
    """Summarise a story with citations; with --since, only what is new."""
    desk = get_desk()
    summary = desk.story_summary(story_id, since=since)
    if as_json:
        data = summary.to_dict()
        data["title"] = desk.story_title(summary.story_id).text
        echo_json(data)
        return
    click.echo(desk.story_title(summary.story_id).text)
    if since is not None:
        click.echo(f"  new since {since.isoformat()}: {len(summary.new_items)} items, "
                   f"new sources: {', '.join(summary.new_sources) or 'none'}")
        if summary.new_entities:
            click.echo("  new entities: " + ", ".join(e["name"] for e in summary.new_entities))
    if not summary.sentences:
        click.echo("  (nothing new)" if since is not None else "  (no summary)")
    for s in summary.sentences:
        click.echo(f"- {s.text} [{_cites(s)}]")


@click.command(name="timeline")
@click.argument("story_id")
@output_options
def timeline_cmd(story_id, as_json) -> None:
    """Show a story's members by time, copies folded, with the new facts each brought."""
    entries = get_desk().story_timeline(story_id)
    if as_json:
        echo_json([e.to_dict() for e in entries])
        return
    for e in entries:
        copies = f" (+{len(e.copies)} cop{'y' if len(e.copies) == 1 else 'ies'})" if e.copies else ""
        click.echo(f"{e.date or '?':16}  {e.source or '-'}: {e.title}{copies}")
        for fact in e.new_facts:
            click.echo(f"{'':18}+ {fact}")


def register(main: click.Group) -> None:
    for cmd in (brief_cmd, trending_cmd, summary_cmd, timeline_cmd):
        main.add_command(cmd)
