"""The enrich stage: entities, roles, dates, figures and keyphrases for each new item.

It runs after copies and before stories, and leaves each item's most salient canonical
entity keys in `item.annotations["entities"]` (e.g. "PERSON:volodymyr zelenskiy"; all of them
in `item.annotations["entities_all"]`) and its keyphrases in `item.annotations["keyphrases"]`
for the story stage. Without spaCy or its model the stage
says so once (a log warning, and `desk.stats()["entity_stage"]`) and does not run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from newsdesk.model import Item
from newsdesk.nlp.base import Enrichment, EntityExtractor, make_extractor
from newsdesk.pipeline import Stage

if TYPE_CHECKING:
    from newsdesk.desk import Desk

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


class EnrichStage(Stage):
    """Finds entities and the rest in new items and stores them."""

    name = "enrich"

    def __init__(self, extractor: EntityExtractor):
        self.extractor = extractor
        self._known: dict[str, str] | None = None
        self._total = 0  # items with entities so far, to tell common names from telling ones

    @classmethod
    def create(cls, desk: Desk) -> EnrichStage | None:
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
        return cls(extractor)

    def process(self, desk: Desk, items: Sequence[Item]) -> None:
        """Enriches the items, stores the results and annotates the items for later stages."""
        if self._known is None:
            self._known = desk.store.known_entity_names()
            self._total = desk.store.enriched_item_count()
        pre = [it.annotations.pop("pre_enrichment", None) for it in items]  # from cluster workers
        enrichments = pre if all(e is not None for e in pre) else self._extract(list(items))
        spread: dict[str, int] = {}
        keys = desk.store.save_enrichments(enrichments, {it.id: it for it in items}, spread)
        self._total += sum(1 for e in enrichments if e.mentions)
        by_id = {e.item_id: e for e in enrichments}
        for item in items:
            all_keys = keys.get(item.id, [])
            item.annotations["entities_all"] = all_keys
            item.annotations["entity_spread"] = {k: spread.get(k, 0) for k in all_keys}
            item.annotations["entity_total"] = self._total
            item.annotations["entities"] = salient(all_keys, spread, self._total)
            enr = by_id.get(item.id)
            item.annotations["keyphrases"] = [p for p, _ in enr.keyphrases] if enr else []
            if enr:
                for m in enr.mentions:
                    if m.name and m.field == "text":
                        self._known.setdefault(m.name, m.label)

    def _extract(self, items: list[Item]) -> list[Enrichment]:
        try:
            return self.extractor.extract(items, self._known)
        except Exception as e:  # noqa: BLE001 - one bad text must not stop the batch
            LOGGER.warning("entity stage failed on a batch (%s); retrying item by item", e)
        out = []
        for item in items:
            try:
                out.extend(self.extractor.extract([item], self._known))
            except Exception as e:  # noqa: BLE001
                LOGGER.warning("entity stage skipped item %s: %s", item.id, e)
                out.append(Enrichment(item.id))
        return out

    def close(self) -> None:
        self.extractor.close()
