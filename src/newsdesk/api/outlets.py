"""The JSON API of outlets, coverage and blindspots: thin wrappers over Desk calls."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from newsdesk.api.auth import read_access
from newsdesk.api.common import clamp_limit, get_desk, jsonable, library
from newsdesk.cli.common import parse_time

read = APIRouter(prefix="/api", dependencies=[Depends(read_access)])


@read.get("/outlets", summary="Outlets with items, stories, first/last seen, domains and attributes")
def list_outlets(request: Request) -> dict[str, Any]:
    """Returns every outlet, most items first, and the inputs that name no outlet."""
    desk = get_desk(request)
    return {"outlets": jsonable(library(desk, "outlets", "outlets")()), "inputs": jsonable(desk.outlet_inputs())}


@read.get("/stories/{story_id}/coverage", summary="Who covers a story, by outlet attribute")
def story_coverage(
    request: Request,
    story_id: str,
    by: str | None = Query(None, description="Outlet attribute to group by (lean, country, owner...)."),
) -> dict[str, Any]:
    """Returns a story's outlets by attribute value, its first report and time to 2, 5 and 10 sources."""
    return jsonable(library(get_desk(request), "coverage", "coverage")(story_id, by=by or None))


@read.get("/blindspots", summary="Stories one value of an outlet attribute barely covers")
def blindspots(
    request: Request,
    by: str = Query(..., description="Outlet attribute to compare (lean, country...)."),
    since: str | None = Query(None, description="Active at or after (ISO time or age like 24h)."),
    min_sources: int | None = Query(None, description="Fewest independent sources (setting blindspot_min_sources)."),
    limit: int | None = Query(None, description="Most stories (at most 200)."),
) -> dict[str, Any]:
    """Returns stories where one value holds at most the blindspot share of the sources."""
    fn = library(get_desk(request), "blindspots", "blindspots")
    rows = fn(by, since=parse_time(since), min_sources=min_sources, limit=clamp_limit(limit))
    return {"blindspots": jsonable(rows)}
