"""Example requests a model writes for a tool (Re-Invoke / Tool2Vec style): users' words for
what the tool does, so retrieval can match a request against requests, not only against the
author's description. Made for small models: one short prompt per tool, a few plain lines
back, read leniently; the examples are stored apart from the author's, marked as generated."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from pydantic_ai import Agent
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings

from toolfoundry.discovery.documents import ToolDocument
from toolfoundry.llm import load_prompt

__all__ = ["DEFAULT_COUNT", "WrittenExamples", "parse_examples", "tool_prompt", "write_examples"]

DEFAULT_COUNT = 3
_MAX_OUTPUT_TOKENS = 160  # three one-line requests
_DESCRIPTION_CHARS = 300
_MIN_WORDS = 3
_MAX_CHARS = 200
# Leading list markers a model adds anyway: "1.", "2)", "-", "*", "•", "Request 1:".
_MARKER = re.compile(r"^\s*(?:(?:[-*•]+|\(?\d{1,2}[.):]|request\s*\d*\s*[:.-])\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class WrittenExamples:
    examples: list[str]
    input_tokens: int
    output_tokens: int
    raw: str


def tool_prompt(doc: ToolDocument) -> str:
    """The tool as the model sees it: name, the description's start and parameter lines."""
    description = " ".join(doc.description.split())[:_DESCRIPTION_CHARS]
    lines = [f"{doc.name_text()}: {description}".strip()]
    lines += [f"- {p}" for p in doc.parameter_texts()[:6]]
    return "\n".join(lines)


def _words(text: str) -> int:
    # CJK text has no spaces: count its characters as words (two per word, roughly).
    cjk = sum(1 for ch in text if "\u3400" <= ch <= "\ufaff")
    return len(text.split()) + cjk // 2


_META = re.compile(r"\b(?:the|this) tool\b|\bparameters?\b|\bthe AI\b", re.IGNORECASE)
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "`": "`"}


def _unquote(line: str) -> str:
    """Drop quotes around the whole line, keep quotes inside it ("slug of 'A B'")."""
    if len(line) > 1 and _QUOTES.get(line[0]) == line[-1]:
        return line[1:-1].strip()
    return line


def parse_examples(text: str, count: int, tool_name: str = "") -> list[str]:
    """The requests in a small model's answer: a JSON list of strings or one per line, list
    markers and quotes stripped; too short or too long lines, echoes of the tool's name and
    repeats dropped; at most ``count``."""
    text = text.strip()
    candidates: list[str] = []
    fenced = re.sub(r"^```\w*\s*|\s*```$", "", text)
    try:
        parsed = json.loads(fenced)
    except ValueError:
        parsed = None
    if isinstance(parsed, list):
        candidates = [str(item) for item in parsed if isinstance(item, str | int | float)]
    else:
        candidates = [line for line in fenced.splitlines() if not line.strip().startswith("```")]
    seen: set[str] = set()
    examples: list[str] = []
    for raw in candidates:
        line = _unquote(_MARKER.sub("", raw).strip())
        key = " ".join(line.lower().split())
        if (
            not line
            or key in seen
            or _words(line) < _MIN_WORDS
            or len(line) > _MAX_CHARS
            or line.endswith(":")  # a heading ("Here are three requests:")
            or (tool_name and key == tool_name.lower())
            or _META.search(line)  # a question about the tool, not a request to it
        ):
            continue
        seen.add(key)
        examples.append(line)
        if len(examples) == count:
            break
    return examples


async def write_examples(
    model: Model, doc: ToolDocument, *, count: int = DEFAULT_COUNT
) -> WrittenExamples:
    """Ask ``model`` for ``count`` requests ``doc`` serves. May return fewer (even none) when
    the answer holds fewer usable lines; model errors propagate to the caller."""
    agent: Agent[None, str] = Agent(
        model, system_prompt=load_prompt("examples").replace("{count}", str(count))
    )
    run = await agent.run(
        tool_prompt(doc),
        model_settings=ModelSettings(max_tokens=_MAX_OUTPUT_TOKENS, temperature=0.3),
    )
    usage = run.usage
    return WrittenExamples(
        examples=parse_examples(run.output, count, doc.name),
        input_tokens=usage.input_tokens or 0,
        output_tokens=usage.output_tokens or 0,
        raw=run.output,
    )
