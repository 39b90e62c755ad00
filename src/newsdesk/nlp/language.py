"""Language identification with py3langid (ships its model), loaded once on first use."""

from __future__ import annotations

import logging
import re
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


# -- the language an item is stored with ----------------------------------------------------

UNKNOWN = "unknown"
# A declared language is overridden only by a clear verdict on enough text.
OVERRIDE_MIN_LETTERS = 100
OVERRIDE_MIN_CONFIDENCE = 0.95
# Below this share of its letters no one language owns a text: it is mixed.
MIXED_SHARE = 0.6
# Scripts that need no model: kana is Japanese, hangul Korean; a few of their letters suffice.
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
CJK_MIN_CHARS = 4
_ANY_CJK = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]")
_NOT_LETTER = re.compile(r"[\W\d_]+")
# A declared language is checked on the start of the text: enough to catch a wrong one.
VERIFY_CHARS = 600
# A text whose words are this often the declared language's stop words is in that language
# (English news: 0.3 and more of the stopwords-iso list; German text declared English: 0.04).
DECLARED_STOP_SHARE = 0.3
_WORDS = re.compile(r"[^\W\d_]+")
_SEGMENT = re.compile(r"(?<=[.!?。！？])\s*|\n+")
_CODE = re.compile(r"^[a-z]{2,3}$")


def normalise_code(code: str | None) -> str | None:
    """Returns the primary subtag of a declared language ("pt-BR" -> "pt"), or None when unusable."""
    if not code:
        return None
    primary = str(code).strip().replace("_", "-").split("-")[0].lower()
    return primary if _CODE.match(primary) else None


def _stop_share(text: str, language: str) -> float:
    """Returns the share of a text's words that are stop words of `language` (0 without a list)."""
    from newsdesk.nlp.words import stop_words

    stops = stop_words(language)
    found = _WORDS.findall(text.casefold())
    return sum(w in stops for w in found) / len(found) if stops and found else 0.0


def _letters(text: str) -> int:
    """Returns the number of letters in a text."""
    return len(_NOT_LETTER.sub("", text))


def _script_language(sample: str) -> str | None:
    """Returns ja, ko or zh when the text is written mostly in that script, else None."""
    if not _ANY_CJK.search(sample):
        return None
    kana = len(_KANA.findall(sample))
    hangul = len(_HANGUL.findall(sample))
    han = len(_HAN.findall(sample))
    letters = _letters(sample) or 1
    if hangul >= CJK_MIN_CHARS and hangul / letters >= MIXED_SHARE:
        return "ko"
    if kana >= 2 and (kana + han) >= CJK_MIN_CHARS and (kana + han) / letters >= MIXED_SHARE:
        return "ja"
    if han >= CJK_MIN_CHARS and han / letters >= MIXED_SHARE:
        return "zh"
    return None


def segment_votes(sample: str) -> dict[str, int]:
    """Returns letters per confidently detected language, sentence by sentence."""
    model = _model()
    votes: dict[str, int] = {}
    if model is None:
        return votes
    for seg in _SEGMENT.split(sample):
        letters = _letters(seg)
        if letters < MIN_CHARS:
            continue
        lang, confidence = model.classify(seg)
        if confidence >= 0.8:
            votes[str(lang)] = votes.get(str(lang), 0) + letters
    return votes


def item_language(declared: str | None, text: str | None) -> tuple[str, str | None]:
    """Returns (language to store, reason) for an item: declared, else detected, else unknown.

    A declared language stands unless enough of the text is clearly in another one (a feed
    that says "en" over German articles); then the detected language is stored and the
    reason names the declared one. A text that mixes languages with no clear majority, or
    too short to tell, is "unknown" unless its source declared a language.
    """
    code = normalise_code(declared)
    sample = (text or "").strip()[:SAMPLE_CHARS]
    script = _script_language(sample)
    if code:
        if script and script != code and (script != "zh" or code not in ("ja", "ko")):
            return script, f"declared {code!r}, written in {script!r}"
        head = sample[:VERIFY_CHARS]
        if _letters(head) < OVERRIDE_MIN_LETTERS or _stop_share(head, code) >= DECLARED_STOP_SHARE:
            return code, None  # too short to overrule, or plainly written in the declared language
        model = _model()
        if model is None:
            return code, None
        lang, confidence = model.classify(sample[:VERIFY_CHARS])
        if lang == code or confidence < OVERRIDE_MIN_CONFIDENCE:
            return code, None
        votes = segment_votes(sample)
        total = sum(votes.values())
        if total and votes.get(str(lang), 0) / total >= MIXED_SHARE and votes.get(code, 0) / total < 1 - MIXED_SHARE:
            return str(lang), f"declared {code!r}, detected {lang!r}"
        return code, None
    if script:
        return script, None
    letters = _letters(sample)
    model = _model()
    if letters < MIN_CHARS or model is None:
        return UNKNOWN, None
    found, confidence = model.classify(sample)
    if confidence < 0.5:
        return UNKNOWN, None
    if confidence >= OVERRIDE_MIN_CONFIDENCE:
        return str(found), None  # a clear verdict: no sentence-by-sentence check
    votes = segment_votes(sample)
    total = sum(votes.values())
    if total and len(votes) > 1 and max(votes.values()) / total < MIXED_SHARE:
        return UNKNOWN, "mixed languages"
    return str(found), None
