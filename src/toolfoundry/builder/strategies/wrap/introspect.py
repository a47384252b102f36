"""Find the public functions of an installed package statically (griffe), typed for JSON."""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import griffe
from packaging.utils import canonicalize_name

from toolfoundry.builder.strategies.wrap.models import Candidate, WrappedParameter

_MAX_DEPTH = 3


_MAX_CANDIDATES = 2000


_SKIP_MODULES = re.compile(r"^(?:_.*|tests?|testing|test_.*|.*_tests?|conftest|__main__|setup)$")


_SIMPLE_TYPES = {"str", "int", "float", "bool"}


_LIST_TYPES = {"list", "List", "Sequence", "Iterable", "tuple", "Tuple"}


_DICT_TYPES = {"dict", "Dict", "Mapping", "MutableMapping"}


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
