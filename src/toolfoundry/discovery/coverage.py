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

from toolfoundry.discovery.tokenize import tokenize

# Cosine range of the bundled e5 embedder on the shared sets: random query/tool pairs sit around
# 0.79-0.81, relevant ones at 0.82-0.86 but so does the nearest irrelevant tool, so dense alone
# claims full coverage only for near-paraphrases (>= 0.90). See docs/benchmarks.md.
DENSE_RANGE = (0.80, 0.90)
# Across languages (a Chinese request, English descriptions) words cannot match and cosines run
# lower: matching pairs 0.82-0.88, unrelated 0.80-0.83 on hand-made pairs (docs/benchmarks.md).
CROSS_LINGUAL_RANGE = (0.79, 0.84)

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


def dense_coverage(cosine: float, *, cross_lingual: bool = False) -> float:
    low, high = CROSS_LINGUAL_RANGE if cross_lingual else DENSE_RANGE
    return float(np.clip((cosine - low) / (high - low), 0.0, 1.0))


def tool_terms(texts: Iterable[str]) -> set[str]:
    return {term for text in texts for term in tokenize(text)}


def combine(lexical: float | None, dense: float | None) -> float:
    """Either signal can show coverage: the same words, or the same meaning in other words."""
    return max(lexical or 0.0, dense or 0.0)
