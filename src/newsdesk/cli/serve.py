"""serve and search."""

from __future__ import annotations

import click

from newsdesk.cli.common import TIME, echo_json, get_desk, output_options
from newsdesk.model import KINDS
from newsdesk.search import MODES


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--token", envvar="NEWSDESK_TOKEN", default=None,
              help="Token for write routes and sign-in (env NEWSDESK_TOKEN); none: writes refused.")
@click.option("--private-reads", is_flag=True, help="Require the token for read routes too.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes (one per core serves more requests at once).")
def serve(host: str, port: int, token: str | None, private_reads: bool, workers: int) -> None:
    """Serve the HTTP API (/api) and the web reader."""
    import os

    import uvicorn

    from newsdesk.api import create_app

    desk = get_desk()
    app = create_app(desk, token=token, public_reads=False if private_reads else None)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"newsdesk serving {desk.store_path()} at http://{shown}:{port}/ (API under /api)")
    if not app.state.auth.token:
        click.echo("no token configured: write routes are refused (set NEWSDESK_TOKEN)", err=True)
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return
    # Each worker process builds its own app from the environment.
    os.environ["NEWSDESK_DB"] = desk.db
    if token is not None:
        os.environ["NEWSDESK_TOKEN"] = token
    if private_reads:
        os.environ["NEWSDESK_PUBLIC_READS"] = "0"
    _run_workers(host, port, workers)


def _run_workers(host: str, port: int, workers: int) -> None:
    """Runs uvicorn's worker supervisor on a listener made here.

    uvicorn's own listener leaves the socket protocol at 0, so asyncio never turns on
    TCP_NODELAY for accepted connections and every keep-alive response waits ~40 ms on
    the client's delayed ACK (uvicorn issue #3149). A listener made with IPPROTO_TCP
    avoids that.
    """
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("newsdesk.api.app:app_from_env", factory=True, host=host, port=port,
                            workers=workers, log_level="warning")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port} ({e.strerror})") from None
    sock.set_inheritable(True)
    Multiprocess(config, sockets=[sock]).run()


@click.command()
@click.argument("query", required=False)
@click.option("--source", help="Only items from this outlet.")
@click.option("--kind", type=click.Choice(KINDS), help="Only articles or only headlines.")
@click.option("--since", type=TIME, help="Published at or after (ISO date or age like 24h).")
@click.option("--until", type=TIME, help="Published before.")
@click.option("--story", help="Only items of this story.")
@click.option("--entity", help="Only items mentioning this entity.")
@click.option("--language", help="Only items in this language (ISO 639-1 code like de, or unknown).")
@click.option("--mode", type=click.Choice(MODES), default="auto", show_default=True,
              help="text (BM25), semantic, hybrid, or auto (hybrid when embed_backend is set explicitly).")
@click.option("--limit", default=20, show_default=True, help="Most hits to show.")
@click.option("--cursor", help="Continue after a previous page (its next_cursor).")
@click.option("--index-vectors", is_flag=True,
              help="First embed every item without a search vector of the current embed_backend "
                   "(backfills an older store; shows a progress bar on a terminal).")
@click.option("--progress/--no-progress", default=None, help="Progress bar for --index-vectors (default: on a terminal).")
@output_options
def search(query, source, kind, since, until, story, entity, language, mode, limit, cursor, index_vectors,
           progress,
           as_json) -> None:
    """Search items: words, "a phrase", prefix*, a OR b, -without."""
    desk = get_desk()
    if index_vectors:
        click.echo(f"indexed {_index_vectors(desk, progress)} item vectors", err=True)
        if not query:
            return
    if not query:
        raise click.UsageError("give a QUERY (or --index-vectors)")
    page = desk.search(
        query, source=source, kind=kind, since=since, until=until, story=story, entity=entity,
        mode=mode, limit=limit, cursor=cursor, language=language,
    )
    if as_json:
        echo_json(page.to_dict())
        return
    from rich.console import Console
    from rich.markup import escape

    from newsdesk.store.search import MARK_CLOSE, MARK_OPEN

    def styled(marked: str | None, fallback: str = "") -> str:
        text = escape(marked or fallback)
        return text.replace(MARK_OPEN, "[bold yellow]").replace(MARK_CLOSE, "[/bold yellow]")

    console = Console(highlight=False)
    if not page.hits:
        console.print("no items match")
        return
    for hit in page.hits:
        it = hit.item
        when = it.published.strftime("%Y-%m-%d %H:%M") if it.published else ""
        console.print(f"[bold]{styled(hit.title_marked, it.headline)}[/bold]")
        console.print(f"  [dim]{it.id}  {escape(it.source or '')}  {when}[/dim]")
        if hit.text_marked:
            console.print("  " + styled(hit.text_marked))
    if page.next_cursor:
        console.print(f"[dim]more: --cursor {page.next_cursor}[/dim]")
    if page.unindexed:
        console.print(f"[dim]{page.unindexed} items have no vector yet: newsdesk search --index-vectors[/dim]")


def _index_vectors(desk, progress: bool | None) -> int:
    import sys

    show = sys.stderr.isatty() if progress is None else progress
    if not show:
        return desk.index_vectors()
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("[bold]vectors"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("vectors", total=None)
        return desk.index_vectors(progress=lambda done, total: bar.update(task, completed=done, total=total))


def register(main: click.Group) -> None:
    for cmd in (serve, search):
        main.add_command(cmd)
