"""The no-model build strategy: wrap a PyPI package's own functions as MCP tools.

After the environment stage installed the requirement's dependencies, griffe reads the packages
statically from the build venv; candidate functions are ranked against the requirement (token
overlap, plus embedding similarity when an embedder is given), the best ones are tried on the
examples inside the sandbox, and the ones that reproduce them become the tools of a generated
FastMCP server. Without examples the best-ranked functions are kept.
"""

from __future__ import annotations

import ast
import asyncio
import json
import keyword
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import griffe
import numpy as np
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from pydantic import BaseModel, Field

from toolfoundry.builder import coercion
from toolfoundry.builder.environment import FASTMCP_REQUIREMENT, EnvironmentResult
from toolfoundry.builder.models import (
    BuildRequirement,
    Example,
    GeneratedFiles,
    ProgressCallback,
)
from toolfoundry.builder.sandbox import Sandbox
from toolfoundry.builder.validator import outputs_match

Embed = Callable[[list[str]], np.ndarray]

_MAX_DEPTH = 3
_MAX_CANDIDATES = 2000
_SKIP_MODULES = re.compile(r"^(?:_.*|tests?|testing|test_.*|.*_tests?|conftest|__main__|setup)$")
# Words that carry no meaning for matching a function to a request.
_STOP_WORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be by for from given in into is it of on or that the this to with "
        "return returns value values object objects using use via",
    )
)
_SIMPLE_TYPES = {"str", "int", "float", "bool"}
_LIST_TYPES = {"list", "List", "Sequence", "Iterable", "tuple", "Tuple"}
_DICT_TYPES = {"dict", "Dict", "Mapping", "MutableMapping"}
_RESERVED = {"mcp", "FastMCP", "Annotated", "Field", "json", "Any"}


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
            fitting = [c for c in ranked if _fits_examples(c, requirement)]
            shortlist = fitting[: self.probe_candidates]
            if not shortlist:
                raise PackageWrapError(
                    "no function of the best matches takes the examples' inputs ("
                    + ", ".join(_shape(c) for c in ranked[:5])
                    + '); give examples with named arguments, e.g. \'{"text": "…"}=>…\''
                )
            _emit(on_progress, f"trying {len(shortlist)} candidates on the examples in the sandbox")
            probes = await probe(
                shortlist, requirement.examples, env, sandbox, build_dir, timeout=self.probe_timeout
            )
            chosen = _cover_examples(shortlist, probes, len(requirement.examples), self.max_tools)
            if chosen is None:
                raise PackageWrapError(_no_match_reason(probes, requirement))
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


def introspect(package: str, site_packages: Path) -> list[Candidate]:
    """Public functions of an installed distribution, read statically with griffe."""
    logging.getLogger("griffe").setLevel(logging.ERROR)  # griffe warns on every odd docstring
    candidates: dict[str, Candidate] = {}
    for import_name in import_names(package, site_packages):
        try:
            module = griffe.load(
                import_name,
                search_paths=[site_packages],
                allow_inspection=False,
                resolve_aliases=True,
                resolve_external=False,
            )
        except (ImportError, griffe.GriffeError, OSError, SyntaxError):
            continue
        if not isinstance(module, griffe.Module):
            continue
        for path, function, owner in _public_functions(module, 0):
            target = function.path
            current = candidates.get(target)
            if current is None or len(path) < len(current.path):
                candidate = _candidate(path, function, owner=owner)
                if candidate is not None:
                    candidates[target] = candidate
            if len(candidates) >= _MAX_CANDIDATES:
                break
    return list(candidates.values())


def import_names(package: str, site_packages: Path) -> list[str]:
    """Top-level import names of a distribution (`Markdown` → `markdown`, `PyYAML` → `yaml`)."""
    wanted = canonicalize_name(package)
    for info in site_packages.glob("*.dist-info"):
        dist_name = info.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        if canonicalize_name(dist_name) != wanted:
            continue
        top_level = info / "top_level.txt"
        if top_level.exists():
            names = [n.strip() for n in top_level.read_text().splitlines() if n.strip()]
        else:
            names = _names_from_record(info / "RECORD")
        return sorted({n for n in names if n.isidentifier() and not n.startswith("_")})
    return [package.replace("-", "_").lower()]


def _names_from_record(record: Path) -> list[str]:
    names = set()
    if record.exists():
        for line in record.read_text().splitlines():
            first = line.split(",", 1)[0].split("/", 1)
            if first[0].endswith((".dist-info", ".data")) or first[0] == "..":
                continue
            names.add(first[0].removesuffix(".py") if len(first) == 1 else first[0])
    return sorted(names)


def _public_functions(
    module: griffe.Module, depth: int
) -> Iterator[tuple[str, griffe.Function, str | None]]:
    """(import path, function, owning class or None); module-level functions before methods."""
    for name, member in list(module.members.items()):
        if name.startswith("_"):
            continue
        try:
            if member.is_alias and not _public_alias(module, name):
                continue
            kind = member.kind
            if kind is griffe.Kind.FUNCTION:
                target = member.final_target if member.is_alias else member
                if isinstance(target, griffe.Function):
                    yield f"{module.path}.{name}", target, None
            elif kind is griffe.Kind.CLASS and depth == 0 and not _EXCEPTION.search(name):
                # Only the classes the package itself exports: its documented entry points.
                target = member.final_target if member.is_alias else member
                if isinstance(target, griffe.Class) and _no_argument_constructor(target):
                    for method_name, method in _public_methods(target):
                        yield f"{module.path}.{name}.{method_name}", method, name
            elif (
                kind is griffe.Kind.MODULE
                and not member.is_alias
                and depth < _MAX_DEPTH
                and not _SKIP_MODULES.match(name)
                and isinstance(member, griffe.Module)
            ):
                yield from _public_functions(member, depth + 1)
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            continue


_EXCEPTION = re.compile(r"(?:Error|Exception|Warning)$")


def _no_argument_constructor(cls: griffe.Class) -> bool:
    """Whether `cls()` needs no argument (per its `__init__`, inherited ones included)."""
    try:
        init = cls.all_members.get("__init__")
        if init is None:
            return True
        init = init.final_target if init.is_alias else init
    except (griffe.AliasResolutionError, griffe.CyclicAliasError, KeyError):
        return False
    if not isinstance(init, griffe.Function):
        return False
    return all(
        p.default is not None
        or p.name in ("self", "cls")
        or p.kind in (griffe.ParameterKind.var_positional, griffe.ParameterKind.var_keyword)
        for p in init.parameters
    )


def _public_methods(cls: griffe.Class) -> Iterator[tuple[str, griffe.Function]]:
    try:
        members = list(cls.all_members.items())
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return
    for name, member in members:
        if name.startswith("_"):
            continue
        try:
            target = member.final_target if member.is_alias else member
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            continue
        if isinstance(target, griffe.Function) and "property" not in target.labels:
            yield name, target


def _public_alias(module: griffe.Module, name: str) -> bool:
    """A re-exported name counts when `__all__` lists it (or the module has no `__all__`)."""
    exports = module.exports
    return exports is None or name in exports


def _candidate(
    path: str, function: griffe.Function, *, owner: str | None = None
) -> Candidate | None:
    descriptions = _parameter_descriptions(function)
    parameters: list[WrappedParameter] = []
    dropped = False
    bound = owner is not None and "staticmethod" not in function.labels
    for index, parameter in enumerate(function.parameters):
        if bound and index == 0:
            continue  # self (or cls): the instance supplies it
        kind = parameter.kind
        if kind in (griffe.ParameterKind.var_positional, griffe.ParameterKind.var_keyword):
            continue
        if parameter.name in ("self", "cls"):
            return None  # an unbound method listed as a function: not callable on its own
        annotation = _json_type(parameter.annotation)
        required = parameter.default is None
        if required:
            if dropped and kind is griffe.ParameterKind.positional_only:
                return None
            parameters.append(
                WrappedParameter(
                    name=parameter.name,
                    annotation=annotation or "str",
                    required=True,
                    positional=_positional(kind, dropped),
                    description=descriptions.get(parameter.name),
                    declared=annotation is not None,
                )
            )
            continue
        default = _literal_default(str(parameter.default))
        if default is _UNSUPPORTED or (annotation is None and default is None):
            dropped = True
            continue
        if annotation is None:
            annotation = type(default).__name__
        elif default is None and "None" not in annotation:
            annotation = f"{annotation} | None"
        parameters.append(
            WrappedParameter(
                name=parameter.name,
                annotation=annotation,
                required=False,
                default=repr(default),
                positional=_positional(kind, dropped),
                description=descriptions.get(parameter.name),
            )
        )
    docstring = function.docstring.value if function.docstring else ""
    return Candidate(
        path=path,
        module=path.rsplit(".", 2 if owner else 1)[0],
        name=path.rsplit(".", 1)[1],
        owner=owner,
        summary=docstring.strip().split("\n\n", 1)[0].replace("\n", " ")[:300],
        parameters=parameters,
        returns=_json_type(function.returns),
    )


_UNSUPPORTED = object()


def _positional(kind: griffe.ParameterKind | None, dropped: bool) -> bool:
    """Passed by position: positional-only ones always, positional-or-keyword ones while no
    earlier parameter was dropped; keyword-only ones never."""
    if kind is griffe.ParameterKind.positional_only:
        return True
    return kind is griffe.ParameterKind.positional_or_keyword and not dropped


def _literal_default(source: str) -> Any:
    try:
        value = ast.literal_eval(source)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return _UNSUPPORTED
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return _UNSUPPORTED


def _parameter_descriptions(function: griffe.Function) -> dict[str, str]:
    if not function.docstring:
        return {}
    try:
        sections = function.docstring.parse("auto")
    except Exception:  # a malformed docstring only costs the descriptions
        return {}
    found = {}
    for section in sections:
        if section.kind is griffe.DocstringSectionKind.parameters:
            for item in section.value:
                if item.description:
                    found[item.name] = " ".join(item.description.split())[:200]
    return found


def _json_type(annotation: Any) -> str | None:
    """The annotation as a JSON-friendly type expression, or None when it is not one."""
    if annotation is None:
        return None
    try:
        node = ast.parse(str(annotation), mode="eval").body
    except SyntaxError:
        return None
    return _convert(node)


def _convert(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _json_type(node.value)  # a string (forward-reference) annotation
    name = _dotted(node)
    if name is not None:
        leaf = name.rsplit(".", 1)[-1]
        if leaf in _SIMPLE_TYPES:
            return leaf
        if leaf in _LIST_TYPES:
            return "list"
        if leaf in _DICT_TYPES:
            return "dict"
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _convert(node.left), _convert(node.right)
        return f"{left} | {right}" if left and right else None
    if isinstance(node, ast.Subscript):
        base = (_dotted(node.value) or "").rsplit(".", 1)[-1]
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        converted = [_convert(a) for a in args]
        if any(c is None for c in converted):
            return None
        if base == "Optional" and len(converted) == 1:
            return f"{converted[0]} | None"
        if base == "Union":
            return " | ".join(c for c in converted if c)
        if base in _LIST_TYPES and len(converted) == 1:
            return f"list[{converted[0]}]"
        if base in _DICT_TYPES and len(converted) == 2 and converted[0] == "str":
            return f"dict[str, {converted[1]}]"
    return None


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


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
        if requirement.examples and not _fits_examples(candidate, requirement):
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


def _fits_examples(candidate: Candidate, requirement: BuildRequirement) -> bool:
    """Whether every example's input can be passed to the candidate."""
    return all(_bindings(candidate, e.input) for e in requirement.examples)


def _shape(candidate: Candidate) -> str:
    params = ", ".join(p.name + ("" if p.required else "=…") for p in candidate.parameters)
    return f"{candidate.path}({params})"


_MAX_BINDINGS = 4


def _bindings(candidate: Candidate, value: dict[str, Any] | str) -> list[Binding]:
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
            bindings = plans[(c.path, i)] = _bindings(c, e.input)
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
    for name, text in (("probe.py", _PROBE_SCRIPT), ("cases.json", json.dumps(cases))):
        (probe_dir / name).write_text(text, encoding="utf-8")
        (probe_dir / name).chmod(0o644)


# Runs inside the sandbox; imports are by name because the candidates vary per build. A method's
# class is built once, without arguments.
_PROBE_SCRIPT = """\
import importlib
import json
import signal
import sys


def _timeout(signum, frame):
    raise TimeoutError("timed out")


def _target(case, cache):
    # Imports and constructors get their own, longer budget than a call: a first import of a
    # large package on a busy machine is slow, and is paid once.
    key = (case["module"], case["owner"])
    if key not in cache:
        signal.alarm(30)
        try:
            owner = importlib.import_module(case["module"])
            if case["owner"]:
                owner = getattr(owner, case["owner"])()
            cache[key] = owner
        except BaseException as exc:
            what = f"{case['owner']}()" if case["owner"] else f"import {case['module']}"
            cache[key] = RuntimeError(f"{what} failed: {type(exc).__name__}: {exc}")
        finally:
            signal.alarm(0)
    if isinstance(cache[key], BaseException):
        raise cache[key]
    return getattr(cache[key], case["name"])


signal.signal(signal.SIGALRM, _timeout)
cache = {}
for case in json.load(open(sys.argv[1], encoding="utf-8")):
    record = {k: case[k] for k in ("candidate", "example", "binding")}
    try:
        function = _target(case, cache)
        signal.alarm(10)
        value = function(*case["positional"], **case["keywords"])
        signal.alarm(0)
        record["value"] = json.loads(json.dumps(value, default=str))
    except BaseException as exc:
        signal.alarm(0)
        record["error"] = f"{type(exc).__name__}: {exc}"[:300]
    print(json.dumps(record), flush=True)
"""


def _no_match_reason(probes: list[ProbeResult], requirement: BuildRequirement) -> str:
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


def generate_files(
    requirement: BuildRequirement, tools: list[WrappedTool], packages: list[str]
) -> GeneratedFiles:
    """server.py, requirements.txt, test_server.py and README.md for the chosen functions."""
    return GeneratedFiles(
        files={
            "server.py": _server_source(requirement, tools, packages),
            "requirements.txt": "\n".join([FASTMCP_REQUIREMENT, *requirement.dependencies]) + "\n",
            "test_server.py": _test_source(requirement, tools),
            "README.md": _readme(requirement, tools, packages),
        }
    )


def _server_source(
    requirement: BuildRequirement, tools: list[WrappedTool], packages: list[str]
) -> str:
    needs_text = any(t.candidate.returns is None for t in tools)
    needs_field = any(p.description for t in tools for p in t.candidate.parameters)
    lines = [
        f'"""MCP server wrapping {", ".join(f"`{p}`" for p in packages)}.',
        "",
        f"Generated by toolfoundry's package wrapper for: {_docline(requirement.description)}",
        '"""',
        "",
    ]
    if needs_text:
        lines.append("import json")
    if needs_field:
        lines.append("from typing import Annotated")
    lines += ["", "from fastmcp import FastMCP"]
    if needs_field:
        lines.append("from pydantic import Field")
    lines.append("")
    for tool in tools:
        c = tool.candidate
        lines.append(f"from {c.module} import {c.owner or c.name} as _{tool.name}")
    # A method is bound once, on an instance built without arguments.
    lines += [f"_{t.name} = _{t.name}().{t.candidate.name}" for t in tools if t.candidate.owner]
    server_name = f"{'-'.join(canonicalize_name(p) for p in packages)}-tools"
    lines += ["", f"mcp = FastMCP({json.dumps(server_name)})"]
    if needs_text:
        lines += [
            "",
            "",
            "def _as_text(value: object) -> str:",
            '    """Results of undeclared type travel as text: JSON when possible."""',
            "    if isinstance(value, str):",
            "        return value",
            "    try:",
            "        return json.dumps(value, default=str)",
            "    except (TypeError, ValueError):",
            "        return str(value)",
        ]
    for tool in tools:
        lines += ["", "", *_tool_source(tool)]
    lines += ["", "", 'if __name__ == "__main__":', "    mcp.run()", ""]
    return "\n".join(lines)


def _tool_source(tool: WrappedTool) -> list[str]:
    candidate = tool.candidate
    params = []
    for p in sorted(candidate.parameters, key=lambda p: not p.required):
        annotation = (
            f"Annotated[{p.annotation}, Field(description={json.dumps(p.description)})]"
            if p.description
            else p.annotation
        )
        params.append(f"{p.name}: {annotation}" + ("" if p.required else f" = {p.default}"))
    call_args = [p.name for p in candidate.parameters if p.positional] + [
        f"{p.name}={p.name}" for p in candidate.parameters if not p.positional
    ]
    returns = candidate.returns or "str"
    call = f"_{tool.name}({', '.join(call_args)})"
    body = f"return {call}" if candidate.returns else f"return _as_text({call})"
    summary = _docline(candidate.summary) or f"Call {candidate.path}."
    signature = f"def {tool.name}({', '.join(params)}) -> {returns}:"
    if len(signature) > 100:
        signature = (
            f"def {tool.name}(\n" + "".join(f"    {p},\n" for p in params) + f") -> {returns}:"
        )
    return [
        "@mcp.tool",
        signature,
        f'    """{summary}',
        "",
        f"    Wraps `{candidate.path}`.",
        '    """',
        f"    {body}",
    ]


def _test_source(requirement: BuildRequirement, tools: list[WrappedTool]) -> str:
    cases = []
    for tool in tools:
        for index in tool.examples:
            example = requirement.examples[index]
            arguments = tool.arguments.get(index)
            if arguments is None:
                bindings = _bindings(tool.candidate, example.input)
                arguments = bindings[0].arguments if bindings else example.input
            cases.append(f"    ({tool.name!r}, {arguments!r}, {example.expected!r}),")
    names = sorted(t.name for t in tools)
    return "\n".join(
        [
            '"""Tests of the generated server: the tools are listed and reproduce the examples."""',
            "",
            "import asyncio",
            "import json",
            "",
            "import pytest",
            "from fastmcp import Client",
            "from server import mcp",
            "",
            "EXAMPLES = [",
            *cases,
            "]",
            "",
            "",
            "def _normalise(value):",
            "    if isinstance(value, str):",
            "        text = value.strip()",
            "        try:",
            "            parsed = json.loads(text)",
            "        except ValueError:",
            "            return text",
            "        return parsed.strip() if isinstance(parsed, str) else parsed",
            "    return json.loads(json.dumps(value, default=str))",
            "",
            "",
            "async def _tool_names():",
            "    async with Client(mcp) as client:",
            "        return sorted(tool.name for tool in await client.list_tools())",
            "",
            "",
            "async def _call(tool, arguments):",
            "    async with Client(mcp) as client:",
            "        result = await client.call_tool(tool, arguments)",
            "    if result.data is not None:",
            "        return result.data",
            '    return "".join(getattr(block, "text", "") for block in result.content)',
            "",
            "",
            "def test_tools_are_listed():",
            f"    assert asyncio.run(_tool_names()) == {names!r}",
            "",
            "",
            '@pytest.mark.parametrize(("tool", "arguments", "expected"), EXAMPLES)',
            "def test_example(tool, arguments, expected):",
            "    assert _normalise(asyncio.run(_call(tool, arguments))) == _normalise(expected)",
            "",
        ]
    )


def _readme(requirement: BuildRequirement, tools: list[WrappedTool], packages: list[str]) -> str:
    rows = [
        f"| `{t.name}` | `{t.candidate.path}` | {_docline(t.candidate.summary)} |" for t in tools
    ]
    return "\n".join(
        [
            f"# {requirement.description}",
            "",
            f"An MCP server that wraps functions of {', '.join(f'`{p}`' for p in packages)}, "
            "generated by toolfoundry's package wrapper (no language model involved).",
            "",
            "| tool | wraps | description |",
            "| --- | --- | --- |",
            *rows,
            "",
            "Run it over stdio with `python server.py`; test it with `pytest test_server.py`.",
            "",
        ]
    )


def _docline(text: str) -> str:
    """One line of text that is safe inside a generated docstring or Markdown table."""
    cleaned = " ".join(text.split()).replace("\\", "/").replace('"""', "'''").replace("|", "/")
    return cleaned[:200].rstrip('"')


def _emit(on_progress: ProgressCallback | None, line: str) -> None:
    if on_progress is not None:
        on_progress(line)
