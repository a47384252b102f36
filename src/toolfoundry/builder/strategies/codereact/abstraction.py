"""Abstraction before storing (after Alita-G): a stored server must serve the next request too.

It takes parameters instead of values copied from the request that triggered it, offers a
standard interface (typed parameters, a return type, docstrings) and has a README. The loop asks
the model to fix what this finds while it has iterations left, and flags it otherwise.
`find_near_duplicates` compares tool interfaces, for the repository to refuse or merge an asset
that duplicates one it has.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from toolfoundry.builder.models import BuildRequirement, GeneratedFiles

FindingKind = Literal[
    "hardcoded_value",
    "untyped_parameter",
    "missing_return_type",
    "missing_docstring",
    "missing_readme",
    "no_tools",
]
# Numbers this small are too common in code to say anything about an example.
_COMMON_NUMBERS = frozenset({-1, 0, 1, 2})
_MIN_STRING = 3
_IMPLICIT_PARAMETERS = frozenset({"self", "cls"})


class AbstractionFinding(BaseModel):
    kind: FindingKind
    message: str
    tool: str | None = None
    line: int | None = None


class AbstractionReport(BaseModel):
    findings: list[AbstractionFinding] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        if not self.findings:
            return "parameterised, typed, documented"
        return "; ".join((f"line {f.line}: " if f.line else "") + f.message for f in self.findings)

    def to_prompt(self) -> str:
        return "\n".join(
            f"- server.py{f':{f.line}' if f.line else ''} [{f.kind}] {f.message}"
            for f in self.findings
        )


class ToolInterface(BaseModel):
    name: str
    parameters: dict[str, str | None]
    """Parameter name → annotation source (None when untyped)."""
    returns: str | None
    doc: str | None
    line: int


def check_abstraction(files: GeneratedFiles, requirement: BuildRequirement) -> AbstractionReport:
    """What keeps `files` from being a reusable asset; an unparsable server yields no findings
    (the syntax check reports it)."""
    report = AbstractionReport()
    if not files.files.get("README.md", "").strip():
        report.findings.append(
            AbstractionFinding(kind="missing_readme", message="README.md is missing or empty")
        )
    try:
        tree = ast.parse(files.server)
    except SyntaxError:
        return report
    tools = list(_tools(tree))
    if not tools:
        report.findings.append(
            AbstractionFinding(kind="no_tools", message="no function is decorated with @mcp.tool")
        )
    for node in tools:
        report.findings += _interface_findings(_interface(node))
    values = _example_values(requirement)
    for node in _constants(tree):
        if _matches(node.value, values):
            report.findings.append(
                AbstractionFinding(
                    kind="hardcoded_value",
                    line=node.lineno,
                    message=f"the literal {node.value!r} comes from the request's examples; "
                    "take it as a parameter or compute it",
                )
            )
    return report


def tool_interfaces(source: str) -> list[ToolInterface]:
    """The tools a FastMCP server source defines (functions decorated with `….tool`)."""
    return [_interface(node) for node in _tools(ast.parse(source))]


def interface_similarity(a: str, b: str) -> float:
    """Jaccard similarity of two servers' interface words: tool names, parameter names and
    types, return types and the first docstring lines (0 when either has no tools)."""
    left, right = _interface_words(a), _interface_words(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def find_near_duplicates(
    files: GeneratedFiles, existing: Mapping[str, str], *, threshold: float = 0.8
) -> list[tuple[str, float]]:
    """Existing servers (id → server.py source) whose interface is at least `threshold` similar
    to `files`', most similar first; unparsable sources are skipped."""
    matches = []
    for asset_id, source in existing.items():
        try:
            similarity = interface_similarity(files.server, source)
        except SyntaxError:
            continue
        if similarity >= threshold:
            matches.append((asset_id, round(similarity, 3)))
    return sorted(matches, key=lambda m: m[1], reverse=True)


def _tools(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
            _is_tool_decorator(d) for d in node.decorator_list
        ):
            yield node


def _is_tool_decorator(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Attribute) and target.attr == "tool"


def _interface(node: ast.FunctionDef | ast.AsyncFunctionDef) -> ToolInterface:
    args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    return ToolInterface(
        name=node.name,
        parameters={
            a.arg: ast.unparse(a.annotation) if a.annotation else None
            for a in args
            if a.arg not in _IMPLICIT_PARAMETERS
        },
        returns=ast.unparse(node.returns) if node.returns else None,
        doc=ast.get_docstring(node),
        line=node.lineno,
    )


def _interface_findings(tool: ToolInterface) -> list[AbstractionFinding]:
    findings = [
        AbstractionFinding(
            kind="untyped_parameter",
            tool=tool.name,
            line=tool.line,
            message=f"parameter {name!r} of tool {tool.name} has no type annotation",
        )
        for name, annotation in tool.parameters.items()
        if annotation is None
    ]
    if tool.returns is None:
        findings.append(
            AbstractionFinding(
                kind="missing_return_type",
                tool=tool.name,
                line=tool.line,
                message=f"tool {tool.name} has no return annotation",
            )
        )
    if not (tool.doc or "").strip():
        findings.append(
            AbstractionFinding(
                kind="missing_docstring",
                tool=tool.name,
                line=tool.line,
                message=f"tool {tool.name} has no docstring",
            )
        )
    return findings


def _constants(tree: ast.Module) -> Iterator[ast.Constant]:
    """Literal values in the server's code: docstrings and the `__main__` block excluded."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    main_blocks = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)
    ]
    skipped = {id(n) for block in main_blocks for n in ast.walk(block)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in docstrings | skipped:
            yield node


def _example_values(requirement: BuildRequirement) -> set[Any]:
    values: set[Any] = set()
    for example in requirement.examples:
        for value in (*_leaves(example.input), *_leaves(example.expected)):
            if isinstance(value, bool):
                continue
            if isinstance(value, str) and len(value.strip()) >= _MIN_STRING:
                values.add(value.strip())
            elif isinstance(value, int | float) and value not in _COMMON_NUMBERS:
                values.add(value)
    return values


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _matches(value: Any, examples: set[Any]) -> bool:
    if isinstance(value, bool) or value is None or isinstance(value, bytes):
        return False
    if isinstance(value, str):
        return value.strip() in examples
    return value in examples


def _interface_words(source: str) -> set[str]:
    words: set[str] = set()
    for tool in tool_interfaces(source):
        texts = [tool.name, tool.returns or "", (tool.doc or "").split("\n", 1)[0]]
        texts += [f"{name} {annotation or ''}" for name, annotation in tool.parameters.items()]
        for text in texts:
            words.update(w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 1)
    return words
