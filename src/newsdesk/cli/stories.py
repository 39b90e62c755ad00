"""stories, story, why, story merge/move/split/corrections, eval."""

from __future__ import annotations

from typing import Any

import click

from newsdesk.cli.common import TIME, echo_json, get_desk, output_options


def _time(value: Any) -> str:
    return value.isoformat()[:16].replace("T", " ") if value is not None else ""


def _span(hours: float) -> str:
    if hours < 1:
        return f"{hours * 60:.0f}m"
    if hours < 48:
        return f"{hours:.0f}h"
    return f"{hours / 24:.0f}d"


@click.command(name="stories")
@click.option("--since", type=TIME, help="Only stories active at or after (ISO date or age like 24h).")
@click.option("--until", type=TIME, help="Only stories that started before.")
@click.option("--min-size", default=1, show_default=True, help="Smallest story to list (members).")
@click.option("--recent", is_flag=True, help="Newest first instead of ranked by independent sources.")
@click.option("--limit", default=30, show_default=True, help="Most stories to list.")
@click.option("--offset", default=0, help="Stories to pass over first.")
@output_options
def stories_cmd(since, until, min_size, recent, limit, offset, as_json) -> None:
    """List stories, ranked by independent sources, then recency, then size."""
    rows = get_desk().stories(limit=limit, offset=offset, since=since, until=until,
                              min_size=min_size, order="recent" if recent else "rank")
    if as_json:
        echo_json([s.to_dict() for s in rows])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in ("id", "size", "sources", "span", "last", "title"):
        table.add_column(col, overflow="fold" if col == "title" else "ellipsis",
                         justify="right" if col in ("size", "sources", "span") else "left")
    for s in rows:
        table.add_row(s.id, str(s.size), str(s.sources), _span(s.span_hours), _time(s.last_time), s.title)
    Console().print(table)


class _StoryGroup(click.Group):
    """`story ID` shows a story; `story merge|move|split|corrections ...` correct stories."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        elif args and args[0] == "--json" and len(args) > 1 and args[1] not in self.commands:
            args = ["show", *args[1:], "--json"]
        return super().parse_args(ctx, args)


@click.group(name="story", cls=_StoryGroup)
def story_cmd() -> None:
    """Show one story (`newsdesk story ID`), or correct stories (merge, move, split).

    `newsdesk story ID [--json]` prints the story's members by time with copies folded.
    """


@story_cmd.command(name="show", hidden=True)
@click.argument("story_id")
@output_options
def show_story_cmd(story_id: str, as_json: bool) -> None:
    """Show one story: members by time, copies folded, and any title/summary/timeline."""
    _show_story(story_id, as_json)


def _optional_sections(desk: Any, story_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("story_title", "story_summary", "story_timeline", "story_entities"):
        fn = getattr(desk, name, None)
        if fn is None:
            continue
        value = fn(story_id)
        if value is not None:
            out[name.removeprefix("story_")] = value
    return out


def _show_story(story_id: str, as_json: bool) -> None:
    desk = get_desk()
    story = desk.story(story_id)
    members = desk.story_items(story.id)
    extra = _optional_sections(desk, story.id)
    if as_json:
        data = story.to_dict()
        if story_id != story.id:
            data["requested_id"] = story_id
        data["members"] = [m.to_dict() for m in members]
        data.update(extra)
        echo_json(data)
        return
    title = extra.get("title") or story.title
    click.echo(str(getattr(title, "text", title)))
    if story_id != story.id and not story.id.startswith(story_id):
        click.echo(f"  ({story_id} was merged into {story.id})")
    coverage = getattr(desk, "coverage", None)
    outlets = f"{coverage(story.id)['outlets']} outlets, " if coverage is not None else ""
    click.echo(f"  id: {story.id}   members: {story.size} ({story.copies} copies)   "
               f"sources: {outlets}{story.sources} independent   span: {_span(story.span_hours)}")
    click.echo(f"  from {_time(story.first_time)} to {_time(story.last_time)}")
    if "summary" in extra:
        click.echo("")
        click.echo(_text(extra["summary"]))
    if "entities" in extra:
        click.echo("")
        click.echo("entities: " + ", ".join(_text(e) for e in list(extra["entities"])[:15]))
    if "timeline" in extra:
        click.echo("")
        click.echo("timeline:")
        for entry in list(extra["timeline"])[:20]:
            click.echo(f"  {_text(entry)}")
    click.echo("")
    canon = [m for m in members if not m.copy_of or m.copy_of not in {x.item.id for x in members}]
    for m in canon:
        it = m.item
        mark = " [pinned]" if m.pinned else ""
        copies = f"  (+{len(m.copies)} cop{'y' if len(m.copies) == 1 else 'ies'})" if m.copies else ""
        click.echo(f"  {_time(it.published or it.ingested)}  {it.id}  {it.source or '-'}: "
                   f"{it.headline[:100]}{copies}{mark}")


def _text(value: Any) -> str:
    """Returns a printable line for a section value (str, dict or dataclass)."""
    if isinstance(value, str):
        return value
    for key in ("text", "summary", "name", "title", "label"):
        v = getattr(value, key, None) if not isinstance(value, dict) else value.get(key)
        if v:
            when = value.get("date") if isinstance(value, dict) else getattr(value, "date", None)
            return f"{when}: {v}" if when else str(v)
    return str(value)


@story_cmd.command(name="merge")
@click.argument("a")
@click.argument("b")
@click.option("--reason", help="Why (kept with the correction).")
@output_options
def merge_cmd(a: str, b: str, reason: str | None, as_json: bool) -> None:
    """Merge stories A and B; the older id stays, the other redirects to it."""
    story = get_desk().merge_stories(a, b, reason=reason)
    if as_json:
        echo_json(story.to_dict())
        return
    click.echo(f"merged into {story.id} ({story.size} members): {story.title}")


@story_cmd.command(name="move")
@click.argument("item_id")
@click.argument("story_id")
@click.option("--reason", help="Why (kept with the correction).")
@output_options
def move_cmd(item_id: str, story_id: str, reason: str | None, as_json: bool) -> None:
    """Move ITEM (and its copies) to STORY; it will not be pulled back."""
    story = get_desk().move_item(item_id, story_id, reason=reason)
    if as_json:
        echo_json(story.to_dict())
        return
    click.echo(f"moved {item_id} to {story.id} ({story.size} members): {story.title}")


@story_cmd.command(name="split")
@click.argument("story_id")
@click.argument("item_ids", nargs=-1, required=True)
@click.option("--reason", help="Why (kept with the correction).")
@output_options
def split_cmd(story_id: str, item_ids: tuple[str, ...], reason: str | None, as_json: bool) -> None:
    """Split ITEMs (and their copies) out of STORY into a new story that stays apart."""
    story = get_desk().split_story(story_id, list(item_ids), reason=reason)
    if as_json:
        echo_json(story.to_dict())
        return
    click.echo(f"split into new story {story.id} ({story.size} members): {story.title}")


@story_cmd.command(name="corrections")
@click.argument("story_id", required=False)
@click.option("--limit", default=50, show_default=True, help="Most corrections to list.")
@output_options
def corrections_cmd(story_id: str | None, limit: int, as_json: bool) -> None:
    """List editors' corrections, newest first (of one story if given)."""
    rows = get_desk().corrections(story_id, limit=limit)
    if as_json:
        echo_json([c.to_dict() for c in rows])
        return
    for c in rows:
        other = f" {c.other_id}" if c.other_id else ""
        items = f" items {','.join(c.items)}" if c.items else ""
        click.echo(f"{_time(c.at)}  {c.action} {c.story_id}{other}{items}"
                   + (f"  -- {c.reason}" if c.reason else ""))


@click.command(name="why")
@click.argument("item_id")
@output_options
def why_cmd(item_id: str, as_json: bool) -> None:
    """Explain which story an item joined (or why it started one): score, components, runner-up."""
    desk = get_desk()
    d = desk.why(item_id)
    if as_json:
        echo_json(d.to_dict())
        return
    item = desk.item(d.item_id)
    click.echo(f"{item.headline}")
    click.echo(f"  item {d.item_id}")
    if d.action == "copy":
        click.echo(f"  copy of {d.components.get('copy_of')}: joined its story {d.story_id}")
    elif d.action == "joined":
        click.echo(f"  joined story {d.story_id}: score {d.score:.3f} >= threshold {d.threshold:.3f}")
        _components(d.components)
    else:
        best = f"best score {d.runner_score:.3f}" if d.runner_score is not None else "no candidate story"
        click.echo(f"  started story {d.story_id}: {best} < threshold {d.threshold:.3f}")
    if d.runner_up and d.action != "copy":
        label = "runner-up" if d.action == "joined" else "closest story"
        click.echo(f"  {label} {d.runner_up}: score {d.runner_score:.3f}")
        _components(d.runner_components)
    if d.current_story and d.current_story != d.story_id:
        moved = next((c for c in desk.corrections(d.current_story) if d.item_id in c.items), None)
        if moved is None:
            click.echo(f"  now in story {d.current_story} (merged or corrected since)")
        else:
            why = f": {moved.reason}" if moved.reason else ""
            click.echo(f"  now in story {d.current_story}: {moved.action} #{moved.id} "
                       f"at {moved.at:%Y-%m-%d %H:%M}{why}")


def _components(comp: dict[str, Any]) -> None:
    parts = []
    for key, label in (("terms", "term similarity"), ("coherence", "story coherence"),
                       ("best_member", "closest member"), ("too_few_shared", "words shared (too few)"),
                       ("entities", "entity overlap"), ("vector", "vector similarity"),
                       ("gap_days", "time gap (days)"), ("time", "time adjustment")):
        if key in comp:
            parts.append(f"{label} {comp[key]}")
    if parts:
        click.echo("    " + ", ".join(parts))
    if comp.get("shared_terms"):
        click.echo("    shared terms: " + ", ".join(comp["shared_terms"]))
    if comp.get("shared_entities"):
        click.echo("    shared entities: " + ", ".join(comp["shared_entities"]))


@click.command(name="eval")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--orders", type=click.IntRange(0, 20), default=0, show_default=True,
              help="Also score each undated file in this many fixed shuffles, and their mean.")
@output_options
def eval_cmd(files: tuple[str, ...], orders: int, as_json: bool) -> None:
    """Score story clustering on gold JSONL files (B-cubed P/R/F1, ARI, stories, items/s).

    Each file is ingested into a throw-away store; the --db store is not touched. An undated
    file's order is an accident of how it was made, and stories found online depend on it:
    --orders N scores it in N fixed shuffles as well (a dated file arrives in time order).
    """
    from newsdesk.evaluate import evaluate_orders

    results = []
    for path in files:
        runs = evaluate_orders(path, orders)
        results.extend(runs)
        if as_json:
            continue
        for r in runs:
            click.echo(f"{r.file}: {r.documents} docs  B3 P {r.precision:.3f} R {r.recall:.3f} "
                       f"F1 {r.f1:.3f}  ARI {r.ari:.3f}  stories {r.stories_found} (gold {r.stories_gold})  "
                       f"{r.items_per_second:.0f} items/s")
        if len(runs) > 1:
            mean = sum(r.f1 for r in runs) / len(runs)
            click.echo(f"{path}: mean F1 over {len(runs)} orders {mean:.3f} "
                       f"(lowest {min(r.f1 for r in runs):.3f}, highest {max(r.f1 for r in runs):.3f})")
        elif orders:
            click.echo(f"{path}: dated, scored in time order only")
    if as_json:
        echo_json([r.to_dict() for r in results])


@click.command(name="consolidate")
@output_options
def consolidate_cmd(as_json: bool) -> None:
    """Cluster the latest items again (average link) and apply the differences as automatic
    merges and moves (reason "consolidation: ..."); editors' corrections stay."""
    done = get_desk().consolidate()
    if as_json:
        echo_json(done)
        return
    click.echo(f"read {done['items']} items: {done['merged']} stories merged, {done['moved']} items moved, "
               f"{done['new']} new stories")


def register(main: click.Group) -> None:
    for cmd in (stories_cmd, story_cmd, why_cmd, consolidate_cmd, eval_cmd):
        main.add_command(cmd)
