"""Watches and alerts: once per story, again on material change, webhooks, alert feeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from test_live_server import LiveServer, rss

from newsdesk import Desk, Item
from newsdesk.errors import InputError
from newsdesk.live.webhooks import SIGNATURE_HEADER, sign, verify

BACKENDS = ("sqlite", "postgres")  # store backends these tests run on (conftest)

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
LEDE = ("The harbour council of Lindqvist voted on Tuesday to raise ferry fees by twelve percent "
        "from April, councillor Amara Okafor said. ")


def ferry(source: str, hours: int, *, copy: bool = False) -> Item:
    """Returns an item of the ferry-fee story from one outlet (a wire copy when copy)."""
    if copy:
        return Item(title="Lindqvist council raises ferry fees by 12%", text=LEDE + "Residents objected.",
                    source=source, published=T0 + timedelta(hours=hours), url=f"https://{source}.example/c")
    angle = ANGLES[sum(map(ord, source)) % len(ANGLES)]
    return Item(
        title=f"Ferry fee rise in Lindqvist: {angle[0]}",
        text=(f"Lindqvist's harbour council decided on Tuesday to put ferry fees up twelve percent. "
              f"{angle[1]} Councillor Okafor told {source} the April start would stand."),
        source=source, published=T0 + timedelta(hours=hours), url=f"https://{source.replace(' ', '')}.example/f",
    )


ANGLES = [
    ("commuters count the cost", "Daily commuters from the outer islands said a season ticket now costs more than rent."),
    ("shop owners fear fewer visitors", "Shop owners on the eastern quay expect weekend visitors to stay away."),
    ("students ask for a discount", "The student union asked for a reduced fare for anyone under twenty-five."),
    ("opposition calls for a recount", "The opposition bench says the vote was rushed and wants it taken again."),
    ("ferry crews back the plan", "The ferry crews' association welcomed money for two new engines."),
    ("pensioners plan a protest", "A pensioners' club plans to march to the customs house on Friday."),
]


def festival() -> Item:
    return Item(title="Moon festival draws record crowds to Tarn valley",
                text="Organisers of the Tarn valley moon festival counted eleven thousand visitors on "
                     "Saturday night, a record for the lantern parade.",
                source="Valley News", published=T0 + timedelta(hours=2), url="https://vn.example/4")


@pytest.fixture
def server():
    s = LiveServer()
    yield s
    s.close()


@pytest.fixture
def live(db_path: Path):
    d = Desk(db_path, settings={"allow_private": True, "webhook_backoff": 0.05, "poll_host_delay": 0.0})
    yield d
    d.close()


def test_alert_fires_once_per_story_then_on_new_sources(live):
    watch = live.add_watch("query", "ferry", min_new_sources=2)
    live.ingest([ferry("Quay Post", 0), ferry("Wire Copy", 1, copy=True), ferry("Quay Post Wire", 1, copy=True),
                 ferry("Harbour Times", 1)])
    first = live.check_watches()
    assert len(first) == 1, "one alert for the story, not one per member or copy"
    story = live.item_story(live.items(source="Harbour Times")[0].id)
    assert first[0]["story"] == story.id and first[0]["reason"] == "new"
    assert first[0]["watch"] == watch["name"] and first[0]["sources"] == story.sources

    assert live.check_watches() == []  # nothing new arrived
    live.ingest(festival())
    assert live.check_watches() == []  # new, but not a match
    live.ingest(ferry("Bay Herald", 3))
    assert live.check_watches() == [], "one more source is not yet a material change"
    live.ingest(ferry("North Ledger", 4))
    grown = live.check_watches()
    assert [a["reason"] for a in grown] == ["update"]
    assert grown[0]["story"] == story.id
    assert grown[0]["sources"] - first[0]["sources"] >= 2
    assert [a["id"] for a in live.alerts()] == [grown[0]["id"], first[0]["id"]]


def test_each_matching_story_alerts_separately(live):
    live.add_watch("query", "Lindqvist OR Tarn", name="region")
    live.ingest([ferry("Quay Post", 0), festival(), ferry("Harbour Times", 1)])
    fired = live.check_watches()
    assert len(fired) == 2
    assert len({a["story"] for a in fired}) == 2


def test_entity_and_story_watches(live):
    live.ingest(ferry("Quay Post", 0))
    story = live.item_story(live.items()[0].id)
    by_entity = live.add_watch("entity", "Amara Okafor")
    on_story = live.add_watch("story", story.id, min_new_sources=1)
    live.ingest([ferry("Harbour Times", 1, copy=True), festival()])
    fired = {a["watch"]: a for a in live.check_watches()}
    assert set(fired) == {by_entity["name"], on_story["name"]}
    assert fired[on_story["name"]]["story"] == story.id
    live.ingest(ferry("Bay Herald", 2))
    again = live.check_watches()
    assert [a["watch"] for a in again] == [on_story["name"]]  # the story grew by one source
    assert again[0]["reason"] == "update"


def test_bad_watches_refused(live):
    with pytest.raises(InputError):
        live.add_watch("query", "-ferry")  # the search syntax: only excludes, nothing to look for
    with pytest.raises(InputError):
        live.add_watch("mood", "anything")
    with pytest.raises(InputError):
        live.add_watch("query", "ferry", secret="s3cret")  # a secret without a webhook


def test_webhook_retried_until_accepted_and_signed(server, live):
    hook = server.add("/hook", fail=2, status=204, ctype="text/plain")
    live.add_watch("query", "ferry", webhook=hook, secret="harbour-secret")
    live.ingest(ferry("Quay Post", 0))
    fired = live.check_watches()
    assert len(fired) == 1
    posts = server.hits("/hook", "POST")
    assert len(posts) == 3  # failed twice, accepted the third time
    body = posts[-1].body
    assert verify("harbour-secret", body, posts[-1].headers[SIGNATURE_HEADER.lower()])
    assert posts[-1].headers[SIGNATURE_HEADER.lower()] == sign("harbour-secret", body)
    assert not verify("another-secret", body, posts[-1].headers[SIGNATURE_HEADER.lower()])
    payload = json.loads(body)
    assert payload["alert"] == fired[0]["id"] and payload["story"] == fired[0]["story"]
    assert "ferry" in payload["title"].lower()
    delivery = live.store.list_deliveries(fired[0]["id"])[0]
    assert delivery["status"] == "sent" and delivery["attempts"] == 3


def test_webhook_that_keeps_failing_is_retried_at_next_check(server, db_path):
    settings = {"allow_private": True, "webhook_backoff": 0.01, "webhook_retries": 1}
    with Desk(db_path, stages=[], settings=settings) as desk:
        hook = server.add("/down", fail=3, status=200, ctype="text/plain")
        desk.add_watch("query", "ferry", webhook=hook, secret="x")
        desk.ingest(ferry("Quay Post", 0))
        desk.check_watches()
        d = desk.store.list_deliveries()[0]
        assert d["status"] == "failed" and d["attempts"] == 2 and "500" in d["error"]
        desk.check_watches()  # no new alert, but the failed delivery is tried again
        d = desk.store.list_deliveries()[0]
        assert d["status"] == "sent" and d["attempts"] == 4
        assert len(server.hits("/down", "POST")) == 4


def test_webhook_to_private_address_refused_unless_allowed(db_path):
    with Desk(db_path, stages=[]) as desk, pytest.raises(InputError, match="refused"):
        desk.add_watch("query", "ferry", webhook="http://127.0.0.1:9/hook")


def test_alerts_feed_rss_and_atom(live):
    live.add_watch("query", "ferry OR festival", name="harbour")
    live.ingest([ferry("Quay Post", 0), festival()])
    fired = live.check_watches()
    for fmt in ("rss", "atom"):
        doc = live.alerts_feed(fmt)
        parsed = feedparser.parse(doc.encode())
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert len(parsed.entries) == len(fired) == 2
        assert all("[harbour]" in e.title for e in parsed.entries)
        assert {e.link for e in parsed.entries} == {a["url"] for a in fired}
    with pytest.raises(InputError):
        live.alerts_feed("json")


def test_poll_checks_watches(server, live):
    body = rss("Quay Post", [{"title": "Ferry fees rise in Lindqvist", "guid": "f1",
                              "text": LEDE * 3}])
    live.add_feed(server.add("/q.xml", body=body))
    live.add_watch("query", "ferry")
    report = live.poll()
    assert report.new == 1 and len(report.alerts) == 1


def test_cli_watch_and_alerts(cli, db_path):
    assert cli("watch", "add", "query", "ferry", "--name", "fees").exit_code == 0
    assert cli("watch", "add", "query", "ferry", "--name", "fees").exit_code == 4  # name taken
    listed = json.loads(cli("watch", "list", "--json").output)
    assert [w["name"] for w in listed] == ["fees"] and listed[0]["secret"] is False
    with Desk(db_path) as desk:
        desk.ingest(ferry("Quay Post", 0))
    checked = cli("alerts", "--check")
    assert checked.exit_code == 0 and "1 new alert(s)" in checked.output and "[fees]" in checked.output
    assert "0 new alert(s)" in cli("alerts", "--check").output
    feed = cli("alerts", "--feed", "atom")
    assert "<feed" in feed.output and "[fees]" in feed.output
    assert cli("watch", "remove", "fees").exit_code == 0
    assert json.loads(cli("watch", "list", "--json").output) == []
    assert len(json.loads(cli("alerts", "--json").output)) == 1  # past alerts stay
    assert cli("watch", "remove", "fees").exit_code == 3


def test_story_watch_follows_a_merge(live):
    live.ingest([ferry("Quay Post", 0), festival()])
    fest = live.item_story(live.items(source="Valley News")[0].id)
    fees = live.item_story(live.items(source="Quay Post")[0].id)
    assert fest.id != fees.id
    live.add_watch("story", fest.id, name="festival", min_new_sources=1)
    kept = live.merge_stories(fest.id, fees.id)
    live.ingest(ferry("Harbour Times", 1))
    fired = live.check_watches()
    assert [a["watch"] for a in fired] == ["festival"]
    assert fired[0]["story"] == kept.id


def test_a_down_receiver_is_not_hammered_within_one_check(server, db_path):
    settings = {"allow_private": True, "webhook_backoff": 0.01, "webhook_retries": 1}
    with Desk(db_path, stages=[], settings=settings) as desk:
        hook = server.add("/dead", status=503, ctype="text/plain")
        desk.add_watch("query", "ferry OR festival", webhook=hook)
        desk.ingest([ferry("Quay Post", 0), festival()])
        assert len(desk.check_watches()) == 2
        assert len(server.hits("/dead", "POST")) == 2  # one alert tried twice; the other waits
        states = sorted((d["status"], d["attempts"]) for d in desk.store.list_deliveries())
        assert states == [("failed", 2), ("pending", 0)]
