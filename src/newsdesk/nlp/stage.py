"""The enrich stage: entities, roles, dates, figures and keyphrases for each new item.

It runs after copies and before stories, and leaves each item's most salient canonical
entity keys in `item.annotations["entities"]` (e.g. "PERSON:volodymyr zelenskiy"; all of them
in `item.annotations["entities_all"]`) and its keyphrases in `item.annotations["keyphrases"]`
for the story stage. Without spaCy or its model the stage
says so once (a log warning, and `desk.stats()["entity_stage"]`) and does not run.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from newsdesk.model import Item
from newsdesk.nlp.base import Enrichment, EntityExtractor, make_extractor
from newsdesk.nlp.dates import reference_of
from newsdesk.pipeline import Stage

if TYPE_CHECKING:
    from newsdesk.context import Context

LOGGER = logging.getLogger(__name__)
_WARNED: set[str] = set()  # messages already logged by this process: say each one once


def _warn_once(message: str) -> None:
    if message not in _WARNED:
        _WARNED.add(message)
        LOGGER.warning("%s; items are stored without entities", message)


# Entities handed to clustering per item: the most salient, leaving out nationality
# adjectives (NORP: "Russian", "American") and, once the desk holds enough items, names so
# common that unrelated stories share them (in more than RARE_SHARE of the items so far).
# Measured on the shared sets (benchmarks/entities.py cluster --more): handing over every
# entity cost 2-5 F1 points on allsides and ecbplus (stories sharing "United States" merged);
# with the 1% filter clustering F1 is the same as without entities on average.
SALIENT_MAX = 10
RARE_SHARE = 0.01
RARE_MIN_ITEMS = 200
_NOT_SIGNAL = ("NORP:",)


def salient(
    keys: list[str], spread: dict[str, int] | None = None, total: int = 0, limit: int | None = None
) -> list[str]:
    """Returns the keys clustering should compare: salient first, no NORP, no very common names."""
    limit = SALIENT_MAX if limit is None else limit
    picked = [k for k in keys if not k.startswith(_NOT_SIGNAL)]
    if spread and total >= RARE_MIN_ITEMS:
        picked = [k for k in picked if spread.get(k, 0) <= RARE_SHARE * total]
    return picked[:limit] if limit else picked


def reading_key(item: Item) -> tuple[Any, ...]:
    """Returns what an item's reading depends on: its words, kind and language, and the day its
    dates are resolved against (which time that is: published, else ingested)."""
    ref_name, ref_time = reference_of(item.published, item.ingested)
    return (item.title or "", item.text or "", item.kind, item.language, ref_name,
            ref_time.date() if ref_time is not None else None)


def once_per_text(items: Sequence[Item], extractor: Any = None) -> tuple[list[Item], dict[str, str]]:
    """Returns the items to read (the first of each reading key, in order) and, for each other
    item, the id of the item whose reading it takes.

    Syndicated wire copies repeat a report word for word under other outlets' names; the
    model read each of them again (1,179 copies of 400 allsides-stream ledes took 7.8 of the
    entity stage's 12.6 s). An item in a language no pipeline of the extractor reads costs
    nothing to read and is counted as such (`entity_languages`), so each one is still handed over.
    """
    language_of = getattr(extractor, "language_of", None)
    first: dict[tuple[Any, ...], str] = {}
    read: list[Item] = []
    taken: dict[str, str] = {}
    for it in items:
        key = reading_key(it)
        # Only a repeat asks which pipeline reads it (for an item of unknown language that is
        # a language guess per sentence, which the extractor makes again when it reads).
        if key in first and (language_of is None or language_of(it) is not None):
            taken[it.id] = first[key]
        else:
            first.setdefault(key, it.id)
            read.append(it)
    return read, taken


def reading_for(enrichment: Enrichment, item: Item) -> Enrichment:
    """Returns another item's reading as this item's: its id, and its own reference time on
    its dates (the same day: the dates resolve alike)."""
    out = copy.deepcopy(enrichment)
    out.item_id = item.id
    ref_name, ref_time = reference_of(item.published, item.ingested)
    for d in out.dates:
        d.reference = ref_name
        d.reference_time = ref_time.isoformat() if ref_time is not None else None
    return out


class EnrichStage(Stage):
    """Finds entities and the rest in new items and stores them."""

    name = "enrich"

    def __init__(self, extractor: EntityExtractor):
        self.extractor = extractor
        self._prepared: dict[str, Enrichment] = {}  # item id -> what `prepare` found
        self._ahead: Any = None  # the next batch, being read by the workers (see `look_ahead`)

    @classmethod
    def create(cls, desk: Context) -> EnrichStage | None:
        """Returns the stage, or None when enrichment is off or its model is missing."""
        if not desk.setting("enrich"):
            desk.store.set_enrich_state("status", "off (setting enrich is false)")
            return None
        extractor = make_extractor(desk)
        if not extractor.available:
            message = str(getattr(extractor, "error", "entity extraction is not available"))
            _warn_once(message)
            desk.store.set_enrich_state("status", f"disabled: {message}")
            return None
        desk.store.set_enrich_state(
            "status", f"on ({extractor.name}: {getattr(extractor, 'model', '')})".replace(": )", ")")
        )
        languages = getattr(extractor, "languages", None)
        if languages:
            desk.store.set_enrich_state("languages", ", ".join(languages))
        return cls(extractor)

    def prepare(self, desk: Context, items: Sequence[Item]) -> None:
        """Reads items about to be stored, before the write transaction (the slow part).

        The names the store knows are read afresh for every batch, so what a batch finds
        depends only on the store and the batch: an ingest resumed after a crash finds what
        an uninterrupted one did.
        """
        pre = {it.id: it.annotations["pre_enrichment"] for it in items
               if it.annotations.get("pre_enrichment") is not None}  # computed on cluster workers
        rest = [it for it in items if it.id not in pre]
        self._prepared = {**pre, **(self._find(desk, rest) if rest else {})}

    def _find(self, desk: Context, items: Sequence[Item]) -> dict[str, Enrichment]:
        """Returns each item's reading; an item with the words of one before it in the batch
        (a copy) takes that one's (see `once_per_text`)."""
        known = desk.store.known_entity_names()
        ahead, self._ahead = self._ahead, None
        read, taken = once_per_text(items, self.extractor)
        found: dict[str, Enrichment] = {}
        if ahead is not None:
            try:
                found = self.extractor.collect(ahead, read, known)  # type: ignore[attr-defined]
            except Exception as e:  # noqa: BLE001 - what was read ahead is only a head start
                LOGGER.warning("entities read ahead were lost (%s); reading the batch again", e)
        rest = [it for it in read if it.id not in found]
        if rest:
            found.update((e.item_id, e) for e in self._extract(rest, known))
        by_id = {it.id: it for it in items}
        for item_id, first in taken.items():
            found[item_id] = reading_for(found[first], by_id[item_id])
        return found

    def look_ahead(self, desk: Context, items: Sequence[Item]) -> None:
        """Hands the next batch's new items to the entity workers, if they are running, while
        this batch's later stages (the stories) run here.

        Called in the batch's transaction once its entities are stored, so the names the
        workers are given are those the next batch's `prepare` will read from the store; if
        they differ by then (another writer), or an item's text changed, what was read is
        dropped and read again.
        """
        submit = getattr(self.extractor, "submit", None)
        items = once_per_text([it for it in items if it.annotations.get("pre_enrichment") is None],
                              self.extractor)[0]
        if submit is None or not items:
            return
        self._ahead = submit(items, desk.store.known_entity_names)  # read only if the workers take it

    def process(self, desk: Context, items: Sequence[Item]) -> None:
        """Enriches the items, stores the results and annotates the items for later stages."""
        for it in items:  # computed on cluster workers
            pre = it.annotations.pop("pre_enrichment", None)
            if pre is not None and it.id not in self._prepared:
                self._prepared[it.id] = pre
        pending = [it for it in items if it.id not in self._prepared]
        if pending:
            self._prepared.update(self._find(desk, pending))
        enrichments = [self._prepared[it.id] for it in items]
        self._prepared.clear()
        take_without = getattr(self.extractor, "take_without", None)
        if take_without is not None:
            desk.store.count_without_entities(take_without())
        spread: dict[str, int] = {}
        keys = desk.store.save_enrichments(enrichments, {it.id: it for it in items}, spread)
        notes = {e.item_id: f"stored without entities: {e.skipped}" for e in enrichments if e.skipped}
        if notes:
            desk.store.add_item_notes("entities", notes)
        total = desk.store.enriched_item_count()
        by_id = {e.item_id: e for e in enrichments}
        for item in items:
            all_keys = keys.get(item.id, [])
            item.annotations["entities_all"] = all_keys
            item.annotations["entity_spread"] = {k: spread.get(k, 0) for k in all_keys}
            item.annotations["entity_total"] = total
            item.annotations["entities"] = salient(all_keys, spread, total)
            enr = by_id.get(item.id)
            item.annotations["keyphrases"] = [p for p, _ in enr.keyphrases] if enr else []

    def _extract(self, items: list[Item], known: dict[str, str]) -> list[Enrichment]:
        try:
            return self.extractor.extract(items, known)
        except Exception as e:  # noqa: BLE001 - one bad text must not stop the batch
            LOGGER.warning("entity stage failed on a batch (%s); retrying item by item", e)
        out = []
        for item in items:
            try:
                out.extend(self.extractor.extract([item], known))
            except Exception as e:  # noqa: BLE001
                LOGGER.warning("entity stage skipped item %s: %s", item.id, e)
                out.append(Enrichment(item.id, skipped=f"the entity stage failed ({type(e).__name__})"))
        return out

    def close(self) -> None:
        if self._ahead is not None:
            self._ahead.drop()
            self._ahead = None
        self.extractor.close()
