"""Query analysis without a model: split a request into its parts and read off what it needs.

Deliberately simple and predictable; the LLM reasoner replaces it when a model is configured.
"""

from __future__ import annotations

import re

from toolfoundry.discovery.tokenize import tokenize

# Words that chain steps of one request ("read X, then chart it"), English and Chinese.
_STEP_BREAK = re.compile(
    r"\s*(?:;|；|。|\band then\b|\bthen\b|\bafter that\b|\bafterwards\b|\bfinally\b|\bnext\b"
    r"|然后|接着|之后|最后|并且|再)\s*",
    re.IGNORECASE,
)
# Chinese 和/以及 join nouns far more often than steps ("平均值、中位数和标准差"): not split on.
_AND = re.compile(r"\s*(?:,\s*and\b|\band\b|,|，)\s*", re.IGNORECASE)
_MIN_PART_TERMS = 2  # a part of fewer content terms is a modifier, not a separate step

_FORMATS = (
    "csv", "tsv", "json", "jsonl", "yaml", "yml", "xml", "excel", "xlsx", "xls", "pdf", "html",
    "markdown", "md", "txt", "text", "image", "png", "jpg", "jpeg", "gif", "audio", "mp3", "wav",
    "video", "mp4", "sql", "parquet", "table", "chart", "email", "url", "docx", "pptx", "zip",
)  # fmt: skip


# Literal values a request passes to a tool: they are arguments, not capabilities to cover.
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|「[^」]*」|'[^'\s][^']*'(?!\w)")
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_FILE = re.compile(r"(?<![\w/])[\w./-]*?([\w-]+)\.([A-Za-z][A-Za-z0-9]{1,4})\b(?!\.\w)")
# Inline data: cells joined by commas, tabs or pipes with no space ("name,age", "Ann,31").
_CELLS = re.compile(r"(?<!\S)[^\s,|]+(?:[,|\t]+[^\s,|]+)+(?!\S)")
_NUMBERS = re.compile(r"(?<![\w.])[-+]?\d[\d.,:/%]*(?:\s*[,，、;；]\s*[-+]?\d[\d.,:/%]*)*")


def argument_terms(text: str) -> set[str]:
    """The terms of the data a request carries (quoted strings, inline cells): a word the
    request itself supplies as data ("the average age" of "name,age\nAnn,31") names a column
    or a value to work on, not a capability to look for."""
    spans = _QUOTED.findall(text) + _CELLS.findall(text)
    return {term for span in spans for term in tokenize(span)}


def strip_arguments(text: str) -> str:
    """``text`` without the literal values it passes on: quoted strings, URLs, e-mail addresses,
    inline data ("name,age\nAnn,31") and numbers (lists of them too) are dropped, a file name
    keeps only its format ("sales.xlsx" → "xlsx"). What remains names the capabilities the
    request needs."""
    text = _QUOTED.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _EMAIL.sub(" ", text)
    text = _FILE.sub(
        lambda m: f" {m.group(2)} " if m.group(2).lower() in _FORMATS else m.group(0), text
    )
    text = _CELLS.sub(" ", text)
    text = _NUMBERS.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip(" ：:,，")


def split_subtasks(query: str) -> list[str]:
    """The parts of a request, in order, without the literal values it passes on. Splits on
    step words always, and on "and"/commas only when every piece is substantial, so "read and
    summarise a CSV" stays one part."""
    parts: list[str] = []
    query = strip_arguments(query) or query
    for step in _STEP_BREAK.split(query):
        step = step.strip(" ,.，、")
        if not step:
            continue
        pieces = [p.strip(" ,.，、") for p in _AND.split(step) if p.strip(" ,.，、")]
        if len(pieces) > 1 and all(len(tokenize(p)) >= _MIN_PART_TERMS for p in pieces):
            parts.extend(pieces)
        elif len(tokenize(step)) >= 1 or not parts:
            parts.append(step)
        else:
            parts[-1] = f"{parts[-1]} {step}"
    return parts or [query.strip()]


def complexity(subtasks: list[str]) -> str:
    return "simple" if len(subtasks) == 1 else "moderate" if len(subtasks) == 2 else "complex"


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+#.-]*[A-Za-z0-9+#]|[A-Za-z]|[\u3400-\u9fff]+")


def keywords(text: str, only_stems: set[str] | None = None) -> list[str]:
    """The text's content words as written (for search engines and people, unlike stems),
    optionally only those whose stems are in `only_stems`."""
    words = []
    for word in _WORD.findall(text):
        stems = set(tokenize(word))
        if stems and (only_stems is None or stems & only_stems):
            words.append(word.lower())
    return list(dict.fromkeys(words))


def technical_needs(query: str, limit: int = 8) -> list[str]:
    """The request's distinct content terms, in order of appearance."""
    return list(dict.fromkeys(tokenize(query)))[:limit]


def io_requirements(query: str) -> dict[str, str]:
    """Data formats the request names: the first as input, the last (if another) as output."""
    words = re.findall(r"[A-Za-z]+", query.lower())
    found = [w for w in words if w in _FORMATS]
    if not found:
        return {}
    io = {"input": found[0]}
    if len(found) > 1 and found[-1] != found[0]:
        io["output"] = found[-1]
    return io
