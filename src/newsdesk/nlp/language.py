"""Language identification with py3langid (ships its model), loaded once on first use."""

from __future__ import annotations

import logging
import threading
from typing import Any

LOGGER = logging.getLogger(__name__)

MIN_CHARS = 20  # below this a guess is noise; leave the language unknown
SAMPLE_CHARS = 2000  # the start of a text is enough and keeps detection fast

_LOCK = threading.Lock()
_MODEL: Any = None
_FAILED = False


def _model() -> Any:
    global _MODEL, _FAILED
    if _MODEL is None and not _FAILED:
        with _LOCK:
            if _MODEL is None and not _FAILED:
                try:
                    from py3langid.langid import MODEL_FILE, LanguageIdentifier

                    _MODEL = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                except Exception as e:  # noqa: BLE001 - a missing model only costs the guess
                    LOGGER.warning("language detection unavailable: %s", e)
                    _FAILED = True
    return _MODEL


def detect_language(text: str | None, *, min_confidence: float = 0.5) -> str | None:
    """Returns the ISO 639-1 code of the text's language, or None when too short or unsure."""
    if not text:
        return None
    sample = text.strip()[:SAMPLE_CHARS]
    if sum(c.isalpha() for c in sample) < MIN_CHARS:
        return None
    model = _model()
    if model is None:
        return None
    lang, confidence = model.classify(sample)
    return str(lang) if confidence >= min_confidence else None
