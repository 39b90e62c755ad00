"""Ingest with the per-item stages on dask.distributed workers (the [cluster] extra).

`newsdesk ingest --cluster local:N` (a LocalCluster of N worker processes) or
`--cluster tcp://HOST:8786` (a running scheduler), or the setting `cluster`.

What runs where:
- workers: the per-item work — the copy stage's MinHash sketches, dense vectors of the
  desk's `embed_backend`, and the entity stage's extraction given the entity names the desk knew when the
  batch was sent. Workers never open the store.
  Extraction also reads the names learnt from earlier items. With `cluster_exact` on (the
  default), a batch that holds a name learnt after it was sent (from the batches stored
  meanwhile) is extracted again in the client, so entities and stories equal one process's;
  off, the workers' extraction is kept (faster; a few mentions may differ).
- this process (the client): reading the input, then every decision in arrival order, one
  batch at a time: copies, entity resolution, stories, and storing, exactly as without a
  cluster, using what the workers computed instead of computing it again.

At most `cluster_in_flight` batches (default: twice the workers) are out at once, so memory
stays flat however large the archive. A batch whose worker dies is run again by the
scheduler; since only the client stores, no item is ever stored twice.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from newsdesk import config
from newsdesk.errors import InputError, NewsdeskError, NotInstalled
from newsdesk.model import IngestReport, Item, Skip
from newsdesk.nlp.embed import backend_for
from newsdesk.pipeline import record_batches

if TYPE_CHECKING:
    from newsdesk.context import DeskContext

LOGGER = logging.getLogger(__name__)


class ClusterError(NewsdeskError):
    """The Dask scheduler cannot be reached or the cluster cannot start."""

    status = 503
    exit_code = 7


class _WorkerSettings:
    """What a worker's stages read of the desk: its settings, nothing else (no store)."""

    def __init__(self, settings: dict[str, Any]):
        self.settings = settings

    def setting(self, name: str) -> Any:
        return config.get(name, self.settings.get(name))


_CACHE: dict[str, Any] = {}  # per worker process: models loaded once


def prepare(items: list[Item], settings: dict[str, Any], known: dict[str, str] | None,
            want: dict[str, bool]) -> list[dict[str, Any]]:
    """Returns, for each item, what the per-item stages compute: sketch, enrichment, vector."""
    out: list[dict[str, Any]] = [{} for _ in items]
    ctx = _WorkerSettings(settings)
    if want.get("sketch"):
        from newsdesk.dedupe import _WORD, MIN_WORDS, CopyStage, shingles

        copies = _CACHE.get("copies") or _CACHE.setdefault("copies", CopyStage())
        for slot, item in zip(out, items, strict=True):
            body = item.text or ""
            if len(_WORD.findall(body)) >= MIN_WORDS:
                slot["sketch"] = copies.sketch(shingles(body))
    if want.get("entities"):
        from newsdesk.nlp.base import Enrichment, make_extractor
        from newsdesk.nlp.stage import once_per_text, reading_for

        key = f"extractor:{ctx.setting('spacy_model')}"
        extractor = _CACHE.get(key) or _CACHE.setdefault(key, make_extractor(ctx))  # type: ignore[arg-type]
        read, taken = once_per_text(items, extractor)  # a copy takes the reading of the first with its words
        try:
            found = extractor.extract(read, known)
        except Exception as e:  # noqa: BLE001 - one bad text must not stop the batch
            LOGGER.warning("entity extraction failed on a batch (%s); retrying item by item", e)
            found = []
            for item in read:
                try:
                    found.extend(extractor.extract([item], known))
                except Exception:  # noqa: BLE001
                    found.append(Enrichment(item.id))
        by_id = {e.item_id: e for e in found}
        for item in items:
            if item.id in taken and taken[item.id] in by_id:
                by_id[item.id] = reading_for(by_id[taken[item.id]], item)
        for slot, item in zip(out, items, strict=True):
            slot["enrichment"] = by_id.get(item.id, Enrichment(item.id))
    if want.get("vectors"):
        from newsdesk.nlp.embed import load_embedder

        # The client's backend, named: a worker's own settings or environment never choose it.
        vectors = load_embedder(str(want["vectors"])).encode_items(items)
        for slot, vec in zip(out, vectors, strict=True):
            slot["vector"] = vec
    return out


def connect(address: str, timeout: float = 5.0) -> tuple[Any, Any, int]:
    """Returns (client, local cluster or None, workers) for `local:N` or `tcp://host:port`."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise NotInstalled("ingest on a Dask cluster", "cluster") from None
    address = (address or "").strip()
    if address.startswith("local:") or address == "local":
        try:
            n = int(address.split(":", 1)[1]) if ":" in address else 2
        except ValueError:
            raise InputError(f"cluster {address!r}: use local:N (N workers) or tcp://host:port") from None
        if n < 1:
            raise InputError(f"cluster {address!r}: needs at least one worker")
        try:
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            return Client(cluster), cluster, n
        except Exception as e:  # noqa: BLE001
            raise ClusterError(f"cluster {address}: could not start ({_line(e)})") from None
    if not address.startswith(("tcp://", "tls://")):
        raise InputError(f"cluster {address!r}: use local:N (N workers) or tcp://host:port")
    try:
        client = Client(address, timeout=f"{timeout}s")
    except Exception as e:  # noqa: BLE001 - OSError, TimeoutError: the scheduler is not there
        raise ClusterError(f"cluster {address}: scheduler not reachable ({_line(e)})") from None
    n = max(1, len(client.scheduler_info().get("workers", {})))
    return client, None, n


def _learnt_since(now: dict[str, str], sent: set[str], batch: list[Item]) -> bool:
    """Returns whether names the entity stage learnt since `sent` could change this batch's
    extraction: a new name written in one of its texts, or a word of one in a headline (the
    headline's casing is restored with the words of known names)."""
    if len(now) == len(sent):
        return False
    new = [name for name in now.keys() - sent if name.strip()]
    if not new:
        return False
    bodies = "\n".join(it.text or "" for it in batch)
    titles = {w.casefold() for it in batch for w in _TOKEN.findall(it.title or "")}
    for name in new:
        if name in bodies or any(it.title and name in it.title for it in batch):
            return True
        if any(w.rstrip("’'s").casefold() in titles for w in name.split()):
            return True
    return False


_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def _line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:200]


def ingest_on_cluster(
    desk: DeskContext,
    records: Iterable[Item | Skip],
    report: IngestReport,
    *,
    address: str,
    store_batch: Callable[[list[Item], IngestReport], None],
    progress: Callable[[int], None] | None = None,
    batch_size: int = 500,
) -> IngestReport:
    """Stores the records in arrival order, the per-item stages computed on the cluster."""
    client, cluster, workers = connect(address)
    try:
        in_flight = max(1, int(desk.setting("cluster_in_flight") or 2 * workers))
        stages = {s.name: s for s in desk.stages}
        want = {"sketch": "copies" in stages, "entities": "enrich" in stages,
                "vectors": backend_for(desk.settings) if getattr(stages.get("stories"), "embedder", None) else ""}
        settings = {s.name: desk.setting(s.name) for s in config.SETTINGS}
        pending: deque[tuple[list[Item], Any, set[str]]] = deque()
        counts = {"batches": 0, "redone": 0}
        exact = bool(desk.setting("cluster_exact"))

        def known() -> dict[str, str] | None:
            if stages.get("enrich") is None:
                return None
            return dict(desk.store.known_entity_names())

        def finish_one() -> None:
            batch, future, sent_names = pending.popleft()
            try:
                results = future.result()
            except Exception as e:  # noqa: BLE001 - a batch the cluster could not compute
                raise ClusterError(f"cluster {address}: a batch failed on the workers ({_line(e)})") from None
            if want["entities"] and exact and _learnt_since(
                    desk.store.known_entity_names(), sent_names, batch):
                # Batches stored since this one was sent taught the desk names this batch
                # holds: extract it here with them, as one process would.
                for pre in results:
                    pre.pop("enrichment", None)
                counts["redone"] += 1
            for item, pre in zip(batch, results, strict=True):
                item.annotations.update({f"pre_{k}": v for k, v in pre.items()})
            store_batch(batch, report)
            if progress:
                progress(len(batch))

        def send(batch: list[Item]) -> None:
            names = known()
            future = client.submit(prepare, batch, settings, names, want, pure=False, retries=2)
            pending.append((batch, future, set(names or ())))
            counts["batches"] += 1
            while len(pending) >= in_flight:
                finish_one()

        for batch in record_batches(records, report, batch_size, progress):
            send(batch)
        while pending:
            finish_one()
        LOGGER.info("cluster %s: %d batches on %d workers; %d had their entities extracted again here",
                    address, counts["batches"], workers, counts["redone"])
        desk.cluster_counts = counts
        return report
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
