"""Rank candidate functions against the requirement: token overlap, plus embeddings if given."""

from __future__ import annotations

import re

import numpy as np

from toolfoundry.builder.models import BuildRequirement
from toolfoundry.builder.strategies.wrap.models import Candidate, Embed
from toolfoundry.builder.strategies.wrap.probe import bindings_for

# Words that carry no meaning for matching a function to a request.
_STOP_WORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be by for from given in into is it of on or that the this to with "
        "return returns value values object objects using use via",
    )
)


def rank(
    candidates: list[Candidate], requirement: BuildRequirement, *, embed: Embed | None = None
) -> list[Candidate]:
    """Score candidates against the requirement; best first."""
    query = " ".join([requirement.description, *requirement.technical_specs])
    query_tokens = _tokens(query)
    scored = []
    for candidate in candidates:
        name_tokens = _tokens(f"{candidate.name} {candidate.owner or ''} {candidate.module}")
        doc_tokens = _tokens(candidate.search_text())
        overlap = sum(
            2.0 if token in name_tokens else 1.0 if token in doc_tokens else 0.0
            for token in query_tokens
        )
        lexical = overlap / (2.0 * len(query_tokens)) if query_tokens else 0.0
        # Prefer the shallow, documented, callable-with-the-examples functions.
        lexical -= 0.03 * (candidate.path.count(".") - 1)
        if candidate.path.count(".") == 1:
            lexical += 0.1  # a top-level convenience function is the package's front door
        if not candidate.summary:
            lexical -= 0.05
        if requirement.examples and not fits_examples(candidate, requirement):
            lexical -= 0.3
        scored.append(candidate.model_copy(update={"score": round(lexical, 4)}))
    if embed is not None and scored:
        vectors = np.asarray(embed([query, *(c.search_text() for c in scored)]), dtype=float)
        norms = np.linalg.norm(vectors, axis=1)
        norms[norms == 0] = 1.0
        similarity = (vectors[1:] @ vectors[0]) / (norms[1:] * norms[0])
        scored = [
            c.model_copy(update={"score": round(0.5 * c.score + 0.5 * float(s), 4)})
            for c, s in zip(scored, similarity, strict=True)
        ]
    scored.sort(key=lambda c: (-c.score, len(c.path)))
    return scored


def _tokens(text: str) -> set[str]:
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    tokens = set()
    for word in re.findall(r"[A-Za-z]+", words):  # num2words → num, words
        token = word.lower()
        if token in _STOP_WORDS or len(token) < 2:
            continue
        if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
            token = token[:-1]
        tokens.add(token)
    return tokens


def fits_examples(candidate: Candidate, requirement: BuildRequirement) -> bool:
    """Whether every example's input can be passed to the candidate."""
    return all(bindings_for(candidate, e.input) for e in requirement.examples)


def shape(candidate: Candidate) -> str:
    params = ", ".join(p.name + ("" if p.required else "=…") for p in candidate.parameters)
    return f"{candidate.path}({params})"
