"""What stages and services are given instead of the Desk: the store, the settings, the stages.

`Context` is the interface (a Protocol): stages take one in `Stage.process(ctx, items)` and
services receive one in their constructor. `DeskContext` is the one a `Desk` builds; nothing
below `newsdesk.desk` imports the Desk itself (tests/test_layers.py checks it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from newsdesk import config

if TYPE_CHECKING:
    from newsdesk.nlp.embed import Embedder
    from newsdesk.pipeline import Stage
    from newsdesk.store.protocol import Store


class Context(Protocol):
    """The store, the validated settings, the stages and the ingest timings of one desk."""

    store: Store
    settings: dict[str, Any]  # given to the desk; `setting()` adds env and defaults
    db: str  # the store's address as given

    def setting(self, name: str) -> Any: ...

    @property
    def stages(self) -> list[Stage]: ...

    def drop_stages(self) -> None: ...

    def add_time(self, part: str, seconds: float) -> None: ...

    def embedder(self) -> Embedder | None: ...


class DeskContext:
    """The context of one desk: its store, its settings, its stages (loaded on first use)."""

    def __init__(self, store: Store, db: str, settings: dict[str, Any],
                 stage_names: list[str] | None = None):
        self.store = store
        self.db = db
        self.settings = settings
        self.stage_names = stage_names
        self._stages: list[Stage] | None = None
        # Where ingest time went, seconds by part: "store", "load" (stages and their models),
        # one entry per stage, and parts a stage reports itself (the story stage's "vectors").
        self.timings: dict[str, float] = {}
        self.cluster_counts: dict[str, int] = {}  # batches sent to a Dask cluster, and redone

    def setting(self, name: str) -> Any:
        """Returns a setting: given to the desk, else env, else default."""
        return config.get(name, self.settings.get(name))

    @property
    def stages(self) -> list[Stage]:
        if self._stages is None:
            from newsdesk.pipeline import load_stages

            self._stages = load_stages(self, self.stage_names)
        return self._stages

    def drop_stages(self) -> None:
        """Closes the stages and forgets them: the next use builds them again from the store."""
        for stage in self._stages or []:
            closer = getattr(stage, "close", None)
            if closer:
                closer()
        self._stages = None

    def add_time(self, part: str, seconds: float) -> None:
        """Counts seconds of ingest time against a part (see `timings`)."""
        self.timings[part] = self.timings.get(part, 0.0) + seconds

    def embedder(self) -> Embedder | None:
        """Returns the embedder of this desk's `embed_backend` (None for 'none'); NotInstalled
        when its model is missing."""
        from newsdesk.nlp.embed import backend_for, load_embedder

        return load_embedder(backend_for(self.settings))
