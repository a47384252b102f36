"""Try candidates on the examples inside the sandbox: bindings (how to call a candidate on an
example's input) and one sandboxed run of `probe_script.py` over every case."""

from __future__ import annotations

import asyncio
import json
from importlib.resources import files as package_files
from pathlib import Path
from typing import Any

from toolfoundry.builder import coercion
from toolfoundry.builder.models import BuildRequirement, Example
from toolfoundry.builder.stages.environment import EnvironmentResult
from toolfoundry.builder.stages.sandbox import Sandbox
from toolfoundry.builder.stages.validator import outputs_match
from toolfoundry.builder.strategies.wrap.models import (
    Binding,
    Candidate,
    ProbeResult,
    WrappedParameter,
)

_PACKAGE = __name__.rpartition(".")[0]
"""Where `probe_script.py` ships (package data next to this module)."""

_MAX_BINDINGS = 4


def bindings_for(candidate: Candidate, value: dict[str, Any] | str) -> list[Binding]:
    """The ways worth trying to call `candidate` on an example's input, most likely first: a
    text goes to the one required (or first) parameter in each type it may stand for; named
    arguments go by name, or — when no name matches — in order."""
    parameters = candidate.parameters
    required = [p for p in parameters if p.required]
    if isinstance(value, str):
        if len(required) > 1 or not parameters:
            return []
        target = required[0] if required else parameters[0]
        options = coercion.variants(value, target.annotation if target.declared else None)
        return [
            _binding(
                parameters,
                {target.name: v},
                types={} if target.declared else {target.name: annotation},
            )
            for v, annotation in options[:_MAX_BINDINGS]
        ]
    names = {p.name: p for p in parameters}
    if set(value) <= set(names) and {p.name for p in required} <= set(value):
        arguments = {n: _typed_value(names[n], v) for n, v in value.items()}
        return [_binding(parameters, arguments, types=_value_types(parameters, arguments))]
    if not set(value) & set(names) and len(required) <= len(value) <= len(parameters):
        ordered = zip(parameters, value.values(), strict=False)
        arguments = {p.name: _typed_value(p, v) for p, v in ordered}
        return [_binding(parameters, arguments, types=_value_types(parameters, arguments))]
    return []


_VALUE_TYPES = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}


def _value_types(parameters: list[WrappedParameter], arguments: dict[str, Any]) -> dict[str, str]:
    """Annotations for undeclared parameters from the JSON values passed (a list → `list`)."""
    return {
        p.name: _VALUE_TYPES[type(arguments[p.name])]
        for p in parameters
        if not p.declared and p.name in arguments and type(arguments[p.name]) in _VALUE_TYPES
    }


def _typed_value(parameter: WrappedParameter, value: Any) -> Any:
    """A text value for a parameter that declares another type, converted when it can be."""
    if isinstance(value, str) and parameter.declared:
        options = coercion.variants(value, parameter.annotation)
        if options:
            return options[0][0]
    return value


def _binding(
    parameters: list[WrappedParameter],
    arguments: dict[str, Any],
    *,
    types: dict[str, str] | None = None,
) -> Binding:
    """Positional parameters go by position while they are all given (in signature order),
    everything else by keyword."""
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    by_position = True
    for parameter in parameters:
        if parameter.name not in arguments:
            by_position = False
            continue
        if parameter.positional and by_position:
            positional.append(arguments[parameter.name])
        else:
            by_position = False
            keywords[parameter.name] = arguments[parameter.name]
    return Binding(arguments=arguments, positional=positional, keywords=keywords, types=types or {})


async def probe(
    candidates: list[Candidate],
    examples: list[Example],
    env: EnvironmentResult,
    sandbox: Sandbox,
    build_dir: Path,
    *,
    timeout: float = 60.0,  # noqa: ASYNC109 - a timed-out probe is a result, not an error
) -> list[ProbeResult]:
    """Call each candidate on each example, in every binding worth trying, in the sandbox (one
    process for all of them); one result per candidate and example: the first binding that
    reproduced it, else the first binding's failure."""
    plans: dict[tuple[str, int], list[Binding]] = {}
    cases = []
    for c in candidates:
        for i, e in enumerate(examples):
            bindings = plans[(c.path, i)] = bindings_for(c, e.input)
            cases += [
                {
                    "candidate": c.path,
                    "module": c.module,
                    "owner": c.owner,
                    "name": c.name,
                    "example": i,
                    "binding": b,
                    "positional": binding.positional,
                    "keywords": binding.keywords,
                }
                for b, binding in enumerate(bindings)
            ]
    if not cases:
        return []
    probe_dir = build_dir / "probe"
    await asyncio.to_thread(_write_probe, probe_dir, cases)
    spec = env.sandbox_spec(probe_dir, build_dir / "work")
    argv = [str(env.python), str(probe_dir / "probe.py"), str(probe_dir / "cases.json")]
    run = await sandbox.run(argv, spec, timeout=timeout)
    outcomes: dict[tuple[str, int, int], dict[str, Any]] = {}
    for line in run.stdout.splitlines():
        try:
            record = json.loads(line)
            outcomes[(record["candidate"], record["example"], record["binding"])] = record
        except (ValueError, KeyError, TypeError):
            continue
    results = []
    for (path, index), bindings in plans.items():
        expected = examples[index].expected
        tried: list[ProbeResult] = []
        for b, binding in enumerate(bindings):
            record = outcomes.get((path, index, b))
            if record is None:
                error = "probe timed out" if run.timed_out else f"no result: {run.stderr[-300:]}"
                tried.append(
                    ProbeResult(
                        candidate=path, example=index, passed=False, error=error, binding=binding
                    )
                )
                continue
            actual = record.get("value")
            tried.append(
                ProbeResult(
                    candidate=path,
                    example=index,
                    passed="error" not in record and outputs_match(expected, actual),
                    actual=actual,
                    error=record.get("error"),
                    binding=binding,
                )
            )
        results.append(next((t for t in tried if t.passed), tried[0]))
    return results


def _write_probe(probe_dir: Path, cases: list[dict[str, Any]]) -> None:
    probe_dir.mkdir(parents=True, exist_ok=True)
    probe_dir.chmod(0o755)  # readable by the sandbox's user
    # The script is a real module of this package (package data), copied as is.
    script = package_files(_PACKAGE).joinpath("probe_script.py").read_text(encoding="utf-8")
    for name, text in (("probe.py", script), ("cases.json", json.dumps(cases))):
        (probe_dir / name).write_text(text, encoding="utf-8")
        (probe_dir / name).chmod(0o644)


def no_match_reason(probes: list[ProbeResult], requirement: BuildRequirement) -> str:
    """Why nothing fits, per candidate: its closest result on each example."""
    lines = []
    for result in probes[:12]:
        example = requirement.examples[result.example]
        arguments = result.binding.arguments if result.binding else example.input
        got = f"raised {result.error}" if result.error else f"returned {result.actual!r:.80}"
        lines.append(
            f"{result.candidate}(**{arguments!r:.60}) {got} (expected {example.expected!r:.60})"
        )
    return "no function reproduces the examples: " + "; ".join(lines)
