"""The newsdesk command line: thin wrappers over Desk calls.

Every command turns a NewsdeskError into one line on stderr and the error's exit code.
Area modules each define `register(main)` and are listed in `_AREAS`.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from newsdesk.cli.common import DeskContext
from newsdesk.errors import NewsdeskError
from newsdesk.store import DB_ERRORS, store_error


class _Main(click.Group):
    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except NewsdeskError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(e.exit_code)
        except DB_ERRORS as e:  # a store failure outside a transaction: locked, full, read-only
            err = store_error(e, ctx.obj.db if isinstance(ctx.obj, DeskContext) else "store")
            click.echo(f"error: {err}", err=True)
            ctx.exit(err.exit_code)
        except OverflowError:  # a number or time past what the store or Python can hold
            click.echo("error: a value given is out of range", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            sys.stderr.close()
            ctx.exit(0)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="NEWSDESK_DB", default="newsdesk.db", show_default=True,
              help="SQLite store file (env NEWSDESK_DB).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="newsdesk")
@click.pass_context
def main(ctx: click.Context, db: str, verbose: int) -> None:
    """newsdesk: turn a stream of news into stories."""
    level = logging.ERROR - 10 * min(verbose, 2) if verbose else logging.ERROR
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = DeskContext(db)
    ctx.call_on_close(ctx.obj.close)


_AREAS = ["items", "stories", "entities", "brief", "serve", "live", "outlets"]

for _area in _AREAS:
    try:
        _module = importlib.import_module(f"newsdesk.cli.{_area}")
    except ImportError as _e:  # an area whose module is missing is simply not offered
        if _e.name != f"newsdesk.cli.{_area}":
            raise
        continue
    _module.register(main)
