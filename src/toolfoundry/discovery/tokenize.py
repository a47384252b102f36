"""Tokenization for tool retrieval, for English and Chinese text.

Latin text is lowercased, identifiers are split (``getWeatherForecast``, ``web_search``,
``math.sqrt``), stopwords dropped and words Snowball-stemmed. Runs of CJK characters become
overlapping character bigrams: no dictionary to load, and a compound such as 天气预报 still
matches 天气 in a description — the standard indexing unit in Chinese IR evaluations.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

__all__ = ["has_cjk", "split_identifier", "tokenize"]

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]+|[A-Za-z0-9]+")
_CJK_RUN = re.compile(rf"[{_CJK}]+")
# Boundaries inside identifiers: fooBar, HTTPServer, v2Api.
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=[0-9])")

_STOPWORD_TEXT = """a about above after again all also am an and any are as at be because been being
    below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into
    is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your
    yours yourself yourselves please let lets like want need would could get e g eg etc"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds any CJK ideograph (a Chinese request, or a Chinese description)."""
    return _CJK_RUN.search(text) is not None


def split_identifier(text: str) -> str:
    """Split snake_case, camelCase, kebab-case and dotted names into space-separated words."""
    text = re.sub(r"[_\-./:]+", " ", text)
    return _CAMEL.sub(" ", text)


def _cjk_grams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def tokenize(text: str) -> list[str]:
    """Return index terms for ``text``: stemmed English words and CJK bigrams."""
    terms: list[str] = []
    for piece in _TOKEN.findall(split_identifier(text)):
        if _CJK_RUN.fullmatch(piece):
            terms.extend(_cjk_grams(piece))
            continue
        word = piece.lower()
        if word in _STOPWORDS or (len(word) == 1 and not word.isdigit()):
            continue
        terms.append(_stem(word))
    return terms
