"""Requirement analysis: a capability gap or a build request becomes a specification.

With a model, the specification is its validated structured answer; without one, a deterministic
reading of the requirement. Either way the rest of the loop sees the same `Specification`.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement
from pydantic import BaseModel, Field
from pydantic_ai import Agent
from pydantic_ai.exceptions import AgentRunError
from pydantic_ai.models import Model

from toolfoundry.builder.models import BuildRequirement
from toolfoundry.discovery.results import CapabilityGap
from toolfoundry.llm import load_prompt

log = logging.getLogger(__name__)

Complexity = Literal["simple", "moderate", "complex"]
Priority = Literal["high", "medium", "low"]

_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "it",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "with",
    ]
)


class FunctionSpec(BaseModel):
    """One tool the server should offer."""

    name: str = Field(pattern=r"^[a-z_][a-z0-9_]*$", description="snake_case tool name")
    description: str
    inputs: dict[str, str] = Field(
        default_factory=dict, description="parameter name → type and meaning"
    )
    output: str = Field(default="str", description="type and meaning of the result")


class Specification(BaseModel):
    """What the generated server must do, and how success is judged."""

    capability: str
    functions: list[FunctionSpec] = Field(min_length=1)
    dependencies: list[str] = Field(
        default_factory=list,
        description="PyPI package names the server likely needs; empty for the standard library",
    )
    success_criteria: list[str] = Field(default_factory=list)
    search_keywords: list[str] = Field(default_factory=list)
    priority: Priority = "medium"
    complexity: Complexity = "simple"
    mode: Literal["llm", "fallback"] = "llm"
    """Who wrote it: the model, or the deterministic fallback."""

    def to_prompt(self) -> str:
        lines = [f"Capability: {self.capability}", f"Complexity: {self.complexity}", "Functions:"]
        for f in self.functions:
            inputs = ", ".join(f"{k}: {v}" for k, v in f.inputs.items()) or "no inputs"
            lines.append(f"- {f.name}({inputs}) -> {f.output}: {f.description}")
        if self.dependencies:
            lines.append(f"Candidate dependencies: {', '.join(self.dependencies)}")
        if self.success_criteria:
            lines.append("Success criteria:")
            lines += [f"- {c}" for c in self.success_criteria]
        return "\n".join(lines)


def requirement_from_gap(gap: CapabilityGap) -> BuildRequirement:
    """The build request a discovery gap stands for (no dependencies or examples are known)."""
    return BuildRequirement(
        description=gap.description,
        technical_specs=list(gap.technical_requirements),
        constraints=[gap.context] if gap.context.strip() else [],
    )


async def analyse(
    source: CapabilityGap | BuildRequirement,
    model: Model | None,
    *,
    retries: int = 2,
) -> Specification:
    """The specification of `source`; the fallback when there is no model or its answer cannot
    be validated (logged, so the build goes on)."""
    requirement = source if isinstance(source, BuildRequirement) else requirement_from_gap(source)
    fallback = fallback_specification(requirement, gap=_gap(source))
    if model is None:
        return fallback
    agent: Agent[None, Specification] = Agent(
        model,
        output_type=Specification,
        system_prompt=load_prompt("requirements"),
        retries=retries,
    )
    try:
        spec = (await agent.run(_prompt(requirement, _gap(source)))).output
    except AgentRunError as exc:
        log.warning("requirement analysis by the model failed (%s); using the fallback", exc)
        return fallback
    # The request's own facts win over the model's reading of them.
    return spec.model_copy(
        update={
            "mode": "llm",
            "dependencies": _merge(requirement.dependencies, spec.dependencies),
            "search_keywords": _merge(spec.search_keywords, fallback.search_keywords)[:12],
            "priority": fallback.priority if isinstance(source, CapabilityGap) else spec.priority,
        }
    )


def fallback_specification(
    requirement: BuildRequirement, *, gap: CapabilityGap | None = None
) -> Specification:
    """A specification read from the requirement alone: one function named after it."""
    words = _words(requirement.description)
    name = "_".join(words[:4]) or "run"
    if not re.match(r"[a-z_]", name):
        name = f"tool_{name}"
    inputs = _example_inputs(requirement) or {"text": "str: the input"}
    criteria = [f"{e.input!r} → {e.expected!r}" for e in requirement.examples]
    criteria += [f"meets: {c}" for c in requirement.constraints]
    keywords = list(gap.search_keywords) if gap else []
    keywords += words
    dependencies = [_package_name(d) for d in requirement.dependencies]
    size = len(requirement.technical_specs) + len(requirement.dependencies)
    return Specification(
        capability=requirement.description,
        functions=[
            FunctionSpec(
                name=name,
                description=requirement.description,
                inputs=inputs,
                output=_output_type(requirement),
            )
        ],
        dependencies=[d for d in dependencies if d],
        success_criteria=criteria or [f"does: {requirement.description}"],
        search_keywords=_merge(keywords, [])[:12],
        priority=gap.priority if gap else "medium",
        complexity="simple" if size <= 1 else "moderate" if size <= 4 else "complex",
        mode="fallback",
    )


def _prompt(requirement: BuildRequirement, gap: CapabilityGap | None) -> str:
    body = {
        "description": requirement.description,
        "technical_specs": requirement.technical_specs,
        "dependencies": requirement.dependencies,
        "examples": [e.model_dump(mode="json") for e in requirement.examples],
        "constraints": requirement.constraints,
        "network_at_run_time": requirement.network,
    }
    if gap is not None:
        body["gap"] = gap.model_dump(mode="json")
    return "Build request (JSON):\n" + json.dumps(body, ensure_ascii=False, indent=2)


def _gap(source: CapabilityGap | BuildRequirement) -> CapabilityGap | None:
    return source if isinstance(source, CapabilityGap) else None


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP_WORDS]


def _merge(first: list[str], second: list[str]) -> list[str]:
    """Both lists in order, without blanks and case-insensitive repeats."""
    seen: dict[str, str] = {}
    for item in [*first, *second]:
        if item.strip():
            seen.setdefault(item.lower(), item)
    return list(seen.values())


def _package_name(dependency: str) -> str:
    try:
        return Requirement(dependency).name
    except InvalidRequirement:
        return ""


def _example_inputs(requirement: BuildRequirement) -> dict[str, str]:
    for example in requirement.examples:
        if isinstance(example.input, dict):
            return {k: type(v).__name__ for k, v in example.input.items()}
        return {"text": "str: the input"}
    return {}


def _output_type(requirement: BuildRequirement) -> str:
    for example in requirement.examples:
        return type(example.expected).__name__
    return "str"
