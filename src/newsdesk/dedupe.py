"""Copies (level one): exact and near-duplicate items form a copy group with a canonical item.

Identical content already collapses to one item id when stored; this stage links the
near-duplicates: a wire story republished under a new headline or with a trimmed ending,
the same page fetched twice under two addresses. Articles are compared by MinHash
sketches of their body's word shingles (the bands of MinHash LSH find candidates, looked
up in the store's indexes and in the batch's own LSH; the shingle sets confirm them); bare
headlines and very short texts are too short to sketch and are matched by their normalised text instead. A copy links to the canonical item of
its group (the first one seen); later stages treat it as another source, not as news.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from datasketch import MinHash, MinHashLSH

from newsdesk.errors import NotFound
from newsdesk.model import Item, normalise_for_id
from newsdesk.pipeline import Stage

if TYPE_CHECKING:
    from newsdesk.context import Context

LOGGER = logging.getLogger(__name__)

NUM_PERM = 64
SHINGLE = 4            # words per shingle
MIN_WORDS = 25         # shorter bodies are matched by normalised text instead
LSH_THRESHOLD = 0.5    # candidate recall: Jaccard at which LSH starts finding pairs
MIN_JACCARD = 0.6      # confirmed copy: shingle-set Jaccard ...
MIN_CONTAINMENT = 0.85  # ... or the shorter body mostly inside the longer (trimmed ending)
SCHEME = "affine32"   # datasketch hashing scheme; stored sketches are uint32 values

_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str) -> set[bytes]:
    """Returns the set of lower-cased word shingles of a text."""
    words = _WORD.findall(text.casefold())
    if len(words) < SHINGLE:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i:i + SHINGLE]).encode() for i in range(len(words) - SHINGLE + 1)}


def short_key(item: Item) -> str:
    """Returns the normalised text two short items must share to be copies."""
    return normalise_for_id(item.title or item.text)


def similarity(a: set[bytes], b: set[bytes]) -> tuple[float, float]:
    """Returns (Jaccard, containment of the smaller set) of two shingle sets."""
    if not a or not b:
        return 0.0, 0.0
    inter = len(a & b)
    return inter / len(a | b), inter / min(len(a), len(b))


class CopyStage(Stage):
    """Links each new item to the canonical item of its copy group, if it has one."""

    name = "copies"

    @classmethod
    def create(cls, desk: Context) -> CopyStage:
        return cls()

    def __init__(self) -> None:
        proto = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
        self._perm = proto.permutations

    @staticmethod
    def _new_index() -> MinHashLSH:
        return MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)

    def candidates(self, desk: Context, batch: MinHashLSH, sketch: MinHash) -> list[str]:
        """Returns the canonical items sharing an LSH band with the sketch: stored ones, found
        through the store's band indexes (nothing is loaded at start), and this batch's."""
        values = sketch.hashvalues.astype(np.uint32)
        bands = [(4 * start, 4 * (end - start), values[start:end].tobytes()) for start, end in batch.hashranges]
        found = set(desk.store.copy_candidates_by_bands(bands))
        found.update(batch.query(sketch))
        return sorted(found)

    def sketch(self, shingle_set: set[bytes]) -> MinHash:
        """Returns the MinHash sketch of a shingle set."""
        m = MinHash(num_perm=NUM_PERM, permutations=self._perm, scheme=SCHEME)
        m.update_batch(list(shingle_set))
        return m

    def process(self, desk: Context, items: Sequence[Item]) -> None:
        lsh = self._new_index()  # this batch's new canonical items (not stored yet)
        store = desk.store
        keys: list[tuple[str, str | None, bytes | None]] = []
        links: list[tuple[str, str, float, str]] = []
        batch_short: dict[str, str] = {}
        batch_shingles: dict[str, set[bytes]] = {}
        for item in items:
            body = item.text or ""
            if len(_WORD.findall(body)) < MIN_WORDS:
                key = short_key(item)
                if not key:
                    continue
                canonical = batch_short.get(key) or store.copy_candidates_by_title(key)
                if canonical and canonical != item.id:
                    item.annotations["copy_of"] = canonical
                    links.append((item.id, canonical, 1.0, "title"))
                    continue
                batch_short[key] = item.id
                keys.append((item.id, key, None))
                continue
            sh = shingles(body)
            sketch = item.annotations.pop("pre_sketch", None) or self.sketch(sh)  # from a cluster worker
            best: tuple[float, str] | None = None
            for cand in self.candidates(desk, lsh, sketch):
                cand_sh = batch_shingles.get(cand)
                if cand_sh is None:
                    try:
                        cand_sh = shingles(store.get_item(cand).text or "")
                    except NotFound:  # a vanished candidate is simply no match
                        continue
                jac, cont = similarity(sh, cand_sh)
                if jac >= MIN_JACCARD or cont >= MIN_CONTAINMENT:
                    score = max(jac, cont)
                    if best is None or score > best[0] or (score == best[0] and cand < best[1]):
                        best = (score, cand)
            if best is not None:
                item.annotations["copy_of"] = best[1]
                links.append((item.id, best[1], round(best[0], 4), "minhash"))
                continue
            lsh.insert(item.id, sketch, check_duplication=False)
            batch_shingles[item.id] = sh
            keys.append((item.id, None, sketch.hashvalues.astype(np.uint32).tobytes()))
        store.add_copy_keys(keys)
        store.add_copies(links)
