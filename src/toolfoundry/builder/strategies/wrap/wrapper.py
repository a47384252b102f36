"""The no-model build strategy: wrap a PyPI package's own functions as MCP tools.

After the environment stage installed the requirement's dependencies, griffe reads the packages
statically from the build venv; candidate functions are ranked against the requirement (token
overlap, plus embedding similarity when an embedder is given), the best ones are tried on the
examples inside the sandbox, and the ones that reproduce them become the tools of a generated
FastMCP server. Without examples the best-ranked functions are kept.
"""

from __future__ import annotations

import asyncio
import keyword
import re
from pathlib import Path

from packaging.requirements import Requirement

from toolfoundry.builder.models import BuildRequirement, ProgressCallback
from toolfoundry.builder.stages.environment import EnvironmentResult
from toolfoundry.builder.stages.sandbox import Sandbox
from toolfoundry.builder.strategies.wrap.introspect import introspect
from toolfoundry.builder.strategies.wrap.models import (
    Candidate,
    Embed,
    PackageWrapError,
    ProbeResult,
    WrappedTool,
    WrapResult,
)
from toolfoundry.builder.strategies.wrap.probe import no_match_reason, probe
from toolfoundry.builder.strategies.wrap.rank import fits_examples, rank, shape
from toolfoundry.builder.strategies.wrap.render import generate_files

_RESERVED = {"mcp", "FastMCP", "Annotated", "Field", "json", "Any"}


class PackageWrapper:
    """Builds a FastMCP server that wraps functions of the requirement's dependencies."""

    def __init__(
        self,
        *,
        embed: Embed | None = None,
        max_tools: int = 3,
        probe_candidates: int = 8,
        probe_timeout: float = 120.0,
    ) -> None:
        self.embed = embed
        self.max_tools = max_tools
        self.probe_candidates = probe_candidates
        self.probe_timeout = probe_timeout

    async def build(
        self,
        requirement: BuildRequirement,
        env: EnvironmentResult,
        sandbox: Sandbox,
        build_dir: Path,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> WrapResult:
        """Introspect, rank, try the examples in the sandbox and generate the server's files."""
        packages = [Requirement(d).name for d in requirement.dependencies]
        if not packages:
            raise PackageWrapError("the package wrapper needs a dependency naming a PyPI package")
        candidates: list[Candidate] = []
        for package in packages:
            found = await asyncio.to_thread(introspect, package, env.site_packages)
            _emit(on_progress, f"{package}: {len(found)} public functions")
            candidates += found
        ranked = rank(candidates, requirement, embed=self.embed)
        if not ranked or ranked[0].score <= 0:
            raise PackageWrapError(
                f"no public function of {', '.join(packages)} matches the requirement"
            )
        _emit(
            on_progress,
            "best matches: " + ", ".join(f"{c.path} ({c.score:.2f})" for c in ranked[:5]),
        )
        probes: list[ProbeResult] = []
        if requirement.examples:
            fitting = [c for c in ranked if fits_examples(c, requirement)]
            shortlist = fitting[: self.probe_candidates]
            if not shortlist:
                raise PackageWrapError(
                    "no function of the best matches takes the examples' inputs ("
                    + ", ".join(shape(c) for c in ranked[:5])
                    + '); give examples with named arguments, e.g. \'{"text": "…"}=>…\''
                )
            _emit(on_progress, f"trying {len(shortlist)} candidates on the examples in the sandbox")
            probes = await probe(
                shortlist, requirement.examples, env, sandbox, build_dir, timeout=self.probe_timeout
            )
            chosen = _cover_examples(shortlist, probes, len(requirement.examples), self.max_tools)
            if chosen is None:
                raise PackageWrapError(no_match_reason(probes, requirement))
        else:
            top = ranked[0].score
            chosen = [(c, []) for c in ranked[: self.max_tools] if c.score >= 0.75 * top]
        tools = _name_tools(chosen, probes)
        _emit(
            on_progress, "wrapping " + ", ".join(f"{t.candidate.path} as {t.name}" for t in tools)
        )
        files = generate_files(requirement, tools, packages)
        return WrapResult(
            files=files, packages=packages, tools=tools, ranked=ranked[:10], probes=probes
        )


def _cover_examples(
    candidates: list[Candidate], probes: list[ProbeResult], n_examples: int, max_tools: int
) -> list[tuple[Candidate, list[int]]] | None:
    """Greedy cover: fewest, best-ranked candidates that together reproduce every example."""
    passed: dict[str, set[int]] = {}
    for result in probes:
        if result.passed:
            passed.setdefault(result.candidate, set()).add(result.example)
    uncovered = set(range(n_examples))
    chosen: list[tuple[Candidate, list[int]]] = []
    order = sorted(candidates, key=lambda c: (-len(passed.get(c.path, ())), -c.score))
    for candidate in order:
        gain = passed.get(candidate.path, set()) & uncovered
        if gain and len(chosen) < max_tools:
            chosen.append((candidate, sorted(passed[candidate.path])))
            uncovered -= gain
    return chosen if chosen and not uncovered else None


def _name_tools(
    chosen: list[tuple[Candidate, list[int]]], probes: list[ProbeResult] | None = None
) -> list[WrappedTool]:
    """Tool names, and each tool typed by the bindings that reproduced its examples."""
    worked = {(p.candidate, p.example): p.binding for p in probes or [] if p.passed and p.binding}
    tools: list[WrappedTool] = []
    used: set[str] = set()
    for candidate, examples in chosen:
        base = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", candidate.name).lower()[:60]
        if keyword.iskeyword(base) or base in _RESERVED:
            base = f"{base}_tool"
        name, n = base, 2
        while name in used:
            name, n = f"{base}_{n}", n + 1
        used.add(name)
        bindings = {
            i: worked[(candidate.path, i)] for i in examples if (candidate.path, i) in worked
        }
        types: dict[str, str] = {}
        for binding in bindings.values():
            for parameter, annotation in binding.types.items():
                types.setdefault(parameter, annotation)
        tools.append(
            WrappedTool(
                name=name,
                candidate=candidate.typed(types),
                examples=examples,
                arguments={i: b.arguments for i, b in bindings.items()},
            )
        )
    return tools


def _emit(on_progress: ProgressCallback | None, line: str) -> None:
    if on_progress is not None:
        on_progress(line)
