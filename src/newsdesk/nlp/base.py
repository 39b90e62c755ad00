"""What enrichment finds in an item, and the small interface every extractor implements.

An extractor turns items into `Enrichment`s: entity mentions (with roles), dates resolved
against the item's time, key figures and keyphrases. The spaCy extractor is the real one;
`NoExtractor` finds nothing (enrichment switched off) and `NotInstalledExtractor` stands in
when spaCy or its model is missing and says which extra to install. `EXTRACTORS` is the
registry the stage chooses from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from newsdesk.errors import NotInstalled
from newsdesk.model import Item

if TYPE_CHECKING:
    from newsdesk.config import Settings

LOGGER = logging.getLogger(__name__)

# Entity types kept as named entities (spaCy's OntoNotes labels).
NAMED_TYPES = ("PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "EVENT", "PRODUCT", "LAW", "WORK_OF_ART")
PLACE_TYPES = ("GPE", "LOC", "FAC")
# Friendly names accepted wherever a type is asked for.
TYPE_ALIASES = {
    "person": ("PERSON",), "people": ("PERSON",), "org": ("ORG",), "organisation": ("ORG",),
    "organization": ("ORG",), "place": PLACE_TYPES, "places": PLACE_TYPES, "gpe": ("GPE",),
    "loc": ("LOC",), "fac": ("FAC",), "norp": ("NORP",), "group": ("NORP",), "event": ("EVENT",),
    "product": ("PRODUCT",), "law": ("LAW",), "work": ("WORK_OF_ART",), "work_of_art": ("WORK_OF_ART",),
}


def expand_type(name: str | None) -> tuple[str, ...] | None:
    """Returns the entity labels a type name stands for (None for all); unknown names raise."""
    from newsdesk.errors import InputError

    if not name:
        return None
    key = name.strip().lower()
    if key in TYPE_ALIASES:
        return TYPE_ALIASES[key]
    if key.upper() in NAMED_TYPES:
        return (key.upper(),)
    raise InputError(f"{name!r}: not an entity type (use one of person, org, place, event, norp, product, law, work)")


@dataclass
class Mention:
    """One naming of an entity in an item: where, as what, and the role the text gives."""

    text: str
    label: str
    start: int
    end: int
    field: str = "text"  # "title" or "text": which string the offsets index
    role: str | None = None
    name: str | None = None  # canonical name within the item (surname resolved to full name)


@dataclass
class DateMention:
    """A date named in an item, resolved against the item's reference time."""

    text: str
    start: int
    end: int
    field: str = "text"
    resolved: str | None = None  # ISO date (start of the period), None when unresolvable
    granularity: str | None = None  # day, week, month, year
    reference: str = "none"  # which time it was resolved against: published, ingested, none
    reference_time: str | None = None


@dataclass
class Figure:
    """A key figure: the number as written, its value and unit, and what it measures."""

    text: str
    start: int
    end: int
    field: str = "text"
    value: float | None = None
    unit: str | None = None
    measure: str | None = None


@dataclass
class Enrichment:
    """All that enrichment found in one item."""

    item_id: str
    mentions: list[Mention] = field(default_factory=list)
    dates: list[DateMention] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    keyphrases: list[tuple[str, float]] = field(default_factory=list)
    skipped: str | None = None  # why the item was stored without enrichment (e.g. over budget)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class EntityExtractor:
    """Turns items into enrichments. Subclasses implement `extract`."""

    name = "base"
    available = True

    def extract(self, items: Sequence[Item], known: dict[str, str] | None = None) -> list[Enrichment]:
        """Returns one Enrichment per item, in order; `known` maps entity names already seen to their type."""
        raise NotImplementedError

    def close(self) -> None:
        """Releases models and worker processes."""


class NoExtractor(EntityExtractor):
    """Finds nothing: enrichment switched off."""

    name = "none"

    def extract(self, items: Sequence[Item], known: dict[str, str] | None = None) -> list[Enrichment]:
        """Returns an empty Enrichment for every item."""
        return [Enrichment(item.id) for item in items]


class NotInstalledExtractor(EntityExtractor):
    """Stands in for an extractor whose package or model is missing; says what to install."""

    name = "not-installed"
    available = False

    def __init__(self, what: str, extra: str = "nlp"):
        self.error = NotInstalled(what, extra)

    def extract(self, items: Sequence[Item], known: dict[str, str] | None = None) -> list[Enrichment]:
        """Raises NotInstalled naming the extra."""
        raise self.error


def _spacy(desk: Settings) -> EntityExtractor:
    from newsdesk.nlp.entities import SpacyExtractor, missing

    model = str(desk.setting("spacy_model"))
    problem = missing(model)
    if problem:
        return NotInstalledExtractor(problem)
    from newsdesk.nlp.languages import LanguageRouter, parse_models

    english = SpacyExtractor(
        model,
        workers=int(desk.setting("enrich_workers")),
        max_words=int(desk.setting("enrich_max_words")),
        parse=str(desk.setting("enrich_parse")),
        budget=float(desk.setting("enrich_item_seconds")),
    )
    # Each item is read by its own language's pipeline; the English one reads only English.
    others = parse_models(str(desk.setting("spacy_models") or ""))
    others.pop("en", None)
    return LanguageRouter(english, others, max_words=int(desk.setting("enrich_max_words")))


def _none(desk: Settings) -> EntityExtractor:
    return NoExtractor()


# name -> factory(desk): the extractors a desk can be configured with.
EXTRACTORS: dict[str, Callable[[Settings], EntityExtractor]] = {"spacy": _spacy, "none": _none}


def make_extractor(desk: Settings) -> EntityExtractor:
    """Returns the extractor this desk's settings ask for (a stand-in when it is missing)."""
    name = "spacy" if desk.setting("enrich") else "none"
    return EXTRACTORS[name](desk)
