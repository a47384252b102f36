"""The package wrapper's records: candidate functions, how to call them, probe outcomes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from toolfoundry.builder.models import GeneratedFiles

Embed = Callable[[list[str]], np.ndarray]


class PackageWrapError(RuntimeError):
    """No function of the package fits the requirement (or reproduces its examples)."""


class WrappedParameter(BaseModel):
    name: str
    annotation: str
    """A JSON-friendly Python type expression (`str`, `list[int]`, `str | None`)."""
    required: bool
    default: str | None = None
    """The default as Python source, for optional parameters."""
    positional: bool
    """Passed positionally (positional-only, or before any dropped parameter)."""
    description: str | None = None
    declared: bool = True
    """Whether the source annotates it; an undeclared one is typed by the probe that worked."""


class Candidate(BaseModel):
    """A public function of an installed package that could become a tool."""

    path: str
    """Where it is imported from, shortest public path first (`markdown.markdown`)."""
    module: str
    name: str
    owner: str | None = None
    """For a method: the class of `module` it is called on, built without arguments."""
    summary: str = ""
    parameters: list[WrappedParameter] = Field(default_factory=list)
    returns: str | None = None
    """A JSON-friendly return annotation, None when unknown or not JSON-friendly."""
    score: float = 0.0

    def search_text(self) -> str:
        return f"{self.name} {self.path} {self.summary} {' '.join(p.name for p in self.parameters)}"

    def typed(self, types: dict[str, str]) -> Candidate:
        """A copy whose parameters declare the annotations the probes found working."""
        parameters = [
            p.model_copy(update={"annotation": types[p.name], "declared": True})
            if p.name in types and not p.declared
            else p
            for p in self.parameters
        ]
        return self.model_copy(update={"parameters": parameters})


class Binding(BaseModel):
    """One way of calling a candidate on an example's input."""

    arguments: dict[str, Any]
    """By parameter name: what the generated tool is called with."""
    positional: list[Any] = Field(default_factory=list)
    keywords: dict[str, Any] = Field(default_factory=dict)
    types: dict[str, str] = Field(default_factory=dict)
    """Annotations for undeclared parameters, from the values passed."""


class ProbeResult(BaseModel):
    candidate: str
    example: int
    passed: bool
    actual: Any = None
    error: str | None = None
    binding: Binding | None = None
    """The binding that reproduced the example (or the first tried, when none did)."""


class WrappedTool(BaseModel):
    name: str
    candidate: Candidate
    examples: list[int] = Field(default_factory=list)
    """Indexes of the requirement's examples this tool reproduces."""
    arguments: dict[int, dict[str, Any]] = Field(default_factory=dict)
    """The tool's arguments for each of those examples (typed as the function wants them)."""


class WrapResult(BaseModel):
    files: GeneratedFiles
    packages: list[str]
    tools: list[WrappedTool]
    ranked: list[Candidate]
    """The best-ranked candidates, for the build report."""
    probes: list[ProbeResult] = Field(default_factory=list)
