"""Incremental BM25 over an inverted index.

Documents come and go one at a time as the catalog changes, so the index keeps per-term postings
(row → term frequency) and rebuilds a term's numpy arrays only when a document holding that term
changed. Statistics (N, document frequency, average length) are read live, so scores always reflect
the current catalog without a full rebuild.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np

__all__ = ["BM25Index"]


class BM25Index:
    """Okapi BM25 (Lucene's idf) over rows of a growing table; rows are reused after removal."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._rows: dict[str, int] = {}
        self._free: list[int] = []
        self._terms: list[Counter[str] | None] = []
        self._lengths = np.zeros(0, dtype=np.float32)
        self._total_length = 0.0
        self._postings: dict[str, dict[int, int]] = {}
        # term → (rows, tfs) arrays, dropped whenever a posting of that term changes.
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: str) -> bool:
        return key in self._rows

    @property
    def capacity(self) -> int:
        """Number of rows a score vector has (live and free)."""
        return len(self._terms)

    def row(self, key: str) -> int:
        return self._rows[key]

    def add(self, key: str, terms: Iterable[str]) -> int:
        """Index ``terms`` under ``key`` (replacing any previous entry) and return its row."""
        if key in self._rows:
            self.remove(key)
        counts = Counter(terms)
        if self._free:
            row = self._free.pop()
            self._terms[row] = counts
        else:
            row = len(self._terms)
            self._terms.append(counts)
            if row >= len(self._lengths):
                grown = np.zeros(max(64, 2 * len(self._lengths)), dtype=np.float32)
                grown[: len(self._lengths)] = self._lengths
                self._lengths = grown
        length = float(sum(counts.values()))
        self._lengths[row] = length
        self._total_length += length
        for term, tf in counts.items():
            self._postings.setdefault(term, {})[row] = tf
            self._arrays.pop(term, None)
        self._rows[key] = row
        return row

    def remove(self, key: str) -> int | None:
        """Drop ``key``; returns the row it held, or None when it was not indexed."""
        row = self._rows.pop(key, None)
        if row is None:
            return None
        counts = self._terms[row] or Counter()
        for term in counts:
            postings = self._postings[term]
            del postings[row]
            if not postings:
                del self._postings[term]
            self._arrays.pop(term, None)
        self._total_length -= float(self._lengths[row])
        self._lengths[row] = 0.0
        self._terms[row] = None
        self._free.append(row)
        return row

    def terms(self, key: str) -> Counter[str]:
        return self._terms[self._rows[key]] or Counter()

    def _term_arrays(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        cached = self._arrays.get(term)
        if cached is None:
            postings = self._postings.get(term)
            if not postings:
                return None
            rows = np.fromiter(postings.keys(), dtype=np.int64, count=len(postings))
            tfs = np.fromiter(postings.values(), dtype=np.float32, count=len(postings))
            cached = self._arrays[term] = (rows, tfs)
        return cached

    def scores(self, query_terms: Iterable[str]) -> np.ndarray:
        """BM25 score of every row (free rows score 0) for the bag of ``query_terms``."""
        out = np.zeros(self.capacity, dtype=np.float32)
        n = len(self._rows)
        if n == 0:
            return out
        avg_length = self._total_length / n or 1.0
        norm = self.k1 * (1.0 - self.b + self.b * self._lengths[: self.capacity] / avg_length)
        for term, qtf in Counter(query_terms).items():
            arrays = self._term_arrays(term)
            if arrays is None:
                continue
            rows, tfs = arrays
            df = len(rows)
            idf = np.log1p((n - df + 0.5) / (df + 0.5))
            out[rows] += qtf * idf * tfs * (self.k1 + 1.0) / (tfs + norm[rows])
        return out
