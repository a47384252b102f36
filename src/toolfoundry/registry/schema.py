"""Derive a tool's schema from a Python function, and validate call arguments against it.

Types come from the signature (pydantic), per-parameter and return descriptions from the docstring
(griffe, Google/NumPy/Sphinx detected automatically). Two validators share one error format:
`SignatureValidator` (function tools: pydantic, coerces to the real types) and `SchemaValidator`
(tools known only by a JSON schema, e.g. MCP tools: jsonschema, Draft 2020-12, no coercion).
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, get_type_hints

import griffe
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model
from pydantic.errors import PydanticSchemaGenerationError, PydanticUserError
from pydantic.json_schema import GenerateJsonSchema

from toolfoundry.core.errors import ArgumentProblem, ArgumentsError, SchemaError

if TYPE_CHECKING:
    import jsonschema.exceptions
from toolfoundry.registry.decorator import tool_options

logger = logging.getLogger(__name__)

WRAPPED_KEY = "x-toolfoundry-wrapped"
"""Marks an output schema whose real value sits under `properties.result`."""


class ArgumentsValidator(Protocol):
    """Validates an arguments dict; returns the kwargs to call the tool with, or raises
    `ArgumentsError`."""

    def __call__(self, arguments: Mapping[str, Any], /) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class FunctionSchema:
    """Everything the catalog stores about a function tool, plus its argument validator."""

    name: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    is_async: bool
    validator: SignatureValidator


# --- derivation -------------------------------------------------------------------------------


def derive_function_schema(
    fn: Callable[..., Any], *, name: str | None = None, description: str | None = None
) -> FunctionSchema:
    """Build the schema and the argument validator of a function tool.

    `name`/`description` override the `@tool` options, which override the function's own name and
    docstring. Raises `SchemaError` for signatures a tool cannot have (`*args`, `**kwargs`,
    positional-only parameters, unresolvable or unsupported types).
    """
    target = _unwrap(fn)
    own_name = getattr(_unwrap_partial(fn), "__name__", type(fn).__name__)
    qualname = getattr(target, "__qualname__", own_name)
    options = tool_options(fn) or tool_options(target)
    try:
        signature = inspect.signature(fn)
        hints = get_type_hints(target, include_extras=True)
    except (NameError, TypeError, ValueError) as exc:
        raise SchemaError(
            f"cannot resolve the signature of {qualname}: {exc}",
            hint="Define the types it uses at module level: string annotations (and all of them "
            "under `from __future__ import annotations`) are resolved in the function's module.",
        ) from None
    doc = _parse_docstring(inspect.getdoc(target))

    model, params, input_schema = _arguments_model(qualname, signature, hints)
    for prop_name, prop in input_schema.get("properties", {}).items():
        # A `Field(description=...)` in the signature is more deliberate than the docstring.
        if prop_name in doc.parameters and "description" not in prop:
            prop["description"] = doc.parameters[prop_name]

    return FunctionSchema(
        name=name or (options and options.name) or own_name,
        description=description or (options and options.description) or doc.description,
        input_schema=input_schema,
        output_schema=_output_schema(qualname, hints.get("return"), doc.returns),
        is_async=_is_async(fn),
        validator=SignatureValidator(model, params),
    )


def _unwrap_partial(fn: Callable[..., Any]) -> Callable[..., Any]:
    while isinstance(fn, partial):
        fn = fn.func
    return fn


def _unwrap(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The object holding the annotations and docstring: the function behind a partial, or the
    `__call__` of a callable instance."""
    fn = _unwrap_partial(fn)
    if not inspect.isroutine(fn) and not inspect.isclass(fn):
        return type(fn).__call__
    return fn


def _is_async(fn: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(_unwrap(fn))


class _SchemaGenerator(GenerateJsonSchema):
    """Pydantic's generator without the titles it derives from field names ("Qty" for `qty`):
    they repeat the name and cost tokens in every prompt. Explicit `Field(title=...)` stays."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _arguments_model(
    qualname: str, signature: inspect.Signature, hints: Mapping[str, Any]
) -> tuple[type[BaseModel], tuple[tuple[str, str], ...], dict[str, Any]]:
    """A pydantic model with one field per parameter, the (field, parameter) name pairs, and the
    model's JSON schema."""
    fields: dict[str, Any] = {}
    params: list[tuple[str, str]] = []
    for index, (param_name, param) in enumerate(signature.parameters.items()):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            star = "*" if param.kind is param.VAR_POSITIONAL else "**"
            raise SchemaError(
                f"{qualname}: parameter '{star}{param_name}' is not supported; "
                "tool arguments are a JSON object with named properties",
                hint="Replace it with a named parameter, e.g. `items: list[str]`.",
            )
        if param.kind is param.POSITIONAL_ONLY:
            raise SchemaError(
                f"{qualname}: parameter '{param_name}' is positional-only; "
                "tools are called with keyword arguments",
                hint="Remove the `/` from the signature.",
            )
        annotation = hints.get(param_name, Any)  # no hint: any JSON value is accepted
        default = ... if param.default is param.empty else param.default
        field_name = param_name
        if param_name.startswith("_") or hasattr(BaseModel, param_name):
            # pydantic reserves these names (private attributes, BaseModel members): validate under
            # a neutral field name and keep the parameter's name as the alias the caller sends.
            field_name = f"p{index}"
            while field_name in signature.parameters:
                field_name += "_"
            default = Field(default, alias=param_name)
        fields[field_name] = (annotation, default)
        params.append((field_name, param_name))
    try:
        model = create_model(
            f"{qualname}.arguments",
            __config__=ConfigDict(extra="forbid", protected_namespaces=()),
            **fields,
        )
        input_schema = model.model_json_schema(schema_generator=_SchemaGenerator)
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError) as exc:
        culprit = next((p for f, p in params if not _has_json_schema(fields[f][0])), None)
        where = f"parameter '{culprit}'" if culprit else "a parameter"
        reason = str(exc).splitlines()[0]  # pydantic appends paragraphs of advice
        raise SchemaError(
            f"{qualname}: {where} has a type that cannot be a JSON tool argument: {reason}",
            hint="Use JSON-compatible types: str, int, float, bool, list, dict, Literal, "
            "pydantic models, dataclasses or TypedDicts.",
        ) from None
    input_schema.pop("title", None)  # the synthetic model's name means nothing to a caller
    return model, tuple(params), input_schema


def _has_json_schema(annotation: Any) -> bool:
    try:
        TypeAdapter(annotation).json_schema()
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError):
        return False
    return True


def _output_schema(
    qualname: str, annotation: Any, returns_description: str
) -> dict[str, Any] | None:
    if annotation in (None, type(None), Any):
        return None
    try:
        schema = TypeAdapter(annotation).json_schema(
            mode="serialization", schema_generator=_SchemaGenerator
        )
    except (PydanticSchemaGenerationError, PydanticUserError) as exc:
        # The tool stays callable; its result is simply not described structurally.
        logger.warning("%s: no output schema for return type %r: %s", qualname, annotation, exc)
        return None
    if not _is_object_schema(schema):
        # MCP requires an object output schema, so a scalar/array result is wrapped as
        # {"result": value}, as fastmcp does; the marker tells consumers to unwrap it.
        defs = schema.pop("$defs", None)
        schema = {
            "type": "object",
            "properties": {"result": schema},
            "required": ["result"],
            WRAPPED_KEY: True,
        }
        if defs:
            schema["$defs"] = defs
    if returns_description:
        schema["description"] = returns_description
    return schema


def _is_object_schema(schema: Mapping[str, Any]) -> bool:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        schema = schema.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
    return schema.get("type") == "object"


# --- docstrings -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Docstring:
    description: str = ""
    parameters: Mapping[str, str] = field(default_factory=dict)
    returns: str = ""


_DOCSTRING_STYLES: tuple[tuple[griffe.DocstringStyle, dict[str, Any]], ...] = (
    # One free-text Returns item: "Returns: The count." is prose, not a `name: description`.
    ("google", {"returns_multiple_items": False, "returns_named_value": False, "warnings": False}),
    ("numpy", {"warnings": False}),
    ("sphinx", {"warnings": False}),
)


def _richness(sections: list[griffe.DocstringSection]) -> tuple[int, int]:
    params = sum(len(s.value) for s in sections if isinstance(s, griffe.DocstringSectionParameters))
    return params, sum(1 for s in sections if not isinstance(s, griffe.DocstringSectionText))


def _parse_docstring(text: str | None) -> _Docstring:
    if not text:
        return _Docstring()
    # Parse with every style and keep the one that found the most parameters (then the most
    # sections): griffe's regex detection picks Google for a NumPy docstring with a `Note:` line.
    docstring = griffe.Docstring(text)
    parsed = [griffe.parse(docstring, style, **options) for style, options in _DOCSTRING_STYLES]
    sections = max(parsed, key=_richness)  # the first of equals: Google, NumPy, Sphinx
    prose: list[str] = []
    parameters: dict[str, str] = {}
    returns: list[str] = []
    for section in sections:
        if isinstance(section, griffe.DocstringSectionText):
            prose.append(section.value)
        elif isinstance(section, griffe.DocstringSectionAdmonition):
            prose.append(f"{section.title}: {section.value.description}")
        elif isinstance(section, griffe.DocstringSectionParameters):
            for param in section.value:
                parameters.setdefault(param.name, param.description)
        elif isinstance(section, griffe.DocstringSectionReturns):
            returns.extend(item.description for item in section.value if item.description)
    return _Docstring("\n\n".join(prose).strip(), parameters, "\n".join(returns))


# --- validation -------------------------------------------------------------------------------


class SignatureValidator:
    """Validates and coerces arguments with the pydantic model derived from a signature: the
    function receives real types (a dict becomes the pydantic model its parameter asks for)."""

    __slots__ = ("_params", "_validate")

    def __init__(self, model: type[BaseModel], params: tuple[tuple[str, str], ...]) -> None:
        # The core validator directly: `model_validate` adds a Python call layer per call.
        self._validate = model.__pydantic_validator__.validate_python
        self._params = params

    def __call__(self, arguments: Mapping[str, Any], /) -> dict[str, Any]:
        try:
            values = self._validate(arguments).__dict__
        except ValidationError as exc:
            allowed = (param for _, param in self._params)
            raise ArgumentsError(_pydantic_problems(exc, arguments, allowed)) from None
        return {param: values[field] for field, param in self._params}


class SchemaValidator:
    """Validates arguments against a JSON schema (Draft 2020-12, formats checked); values are
    returned as given, since the tool's own server does any coercion."""

    __slots__ = ("_validator",)

    def __init__(self, input_schema: Mapping[str, Any]) -> None:
        # Imported here: jsonschema costs 0.2 s at start-up and only MCP tools need it.
        import jsonschema

        try:
            jsonschema.Draft202012Validator.check_schema(input_schema)
        except jsonschema.exceptions.SchemaError as exc:
            where = _format_path(exc.absolute_path)
            raise SchemaError(
                f"invalid input schema at {where}: {exc.message}",
                hint="Input schemas must be valid JSON Schema (Draft 2020-12).",
            ) from None
        self._validator = jsonschema.Draft202012Validator(
            input_schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )

    def __call__(self, arguments: Mapping[str, Any], /) -> dict[str, Any]:
        errors = self._validator.iter_errors(arguments)
        # Keyed by (path, message): each missing property yields its own `required` error, but
        # `_jsonschema_problems` already lists all of them for the first one.
        problems = {(p["path"], p["message"]): p for e in errors for p in _jsonschema_problems(e)}
        if problems:
            raise ArgumentsError(list(problems.values()))
        return dict(arguments)


_SCHEMA_VALIDATORS: dict[str, SchemaValidator] = {}
_SCHEMA_VALIDATORS_BY_ID: dict[int, tuple[Mapping[str, Any], SchemaValidator]] = {}
_CACHE_SIZE = 4096


def compile_schema_validator(input_schema: Mapping[str, Any]) -> SchemaValidator:
    """The (cached) validator for a JSON input schema. Schemas are treated as immutable: a schema
    mutated after its first use keeps its first validator."""
    # Fast path by identity: the cache holds the schema, so its id cannot be reused meanwhile.
    hit = _SCHEMA_VALIDATORS_BY_ID.get(id(input_schema))
    if hit is not None and hit[0] is input_schema:
        return hit[1]
    # Equal schemas loaded as new dicts (e.g. re-read from the store) share one validator.
    key = json.dumps(input_schema, sort_keys=True, default=str)
    validator = _SCHEMA_VALIDATORS.get(key)
    if validator is None:
        validator = SchemaValidator(input_schema)
        _bounded_put(_SCHEMA_VALIDATORS, key, validator)
    _bounded_put(_SCHEMA_VALIDATORS_BY_ID, id(input_schema), (input_schema, validator))
    return validator


def _bounded_put(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= _CACHE_SIZE:
        cache.pop(next(iter(cache), None), None)  # oldest first; tolerant of concurrent eviction
    cache[key] = value


def validate_against_schema(
    input_schema: Mapping[str, Any], arguments: Mapping[str, Any]
) -> dict[str, Any]:
    """Validate `arguments` against a tool's JSON input schema; raises `ArgumentsError`."""
    return compile_schema_validator(input_schema)(arguments)


def validate_arguments(
    target: FunctionSchema | ArgumentsValidator | Mapping[str, Any], arguments: Mapping[str, Any]
) -> dict[str, Any]:
    """Validate `arguments` with a function schema, a validator, or a JSON input schema; returns
    the kwargs to call the tool with, or raises `ArgumentsError`."""
    if isinstance(target, FunctionSchema):
        return target.validator(arguments)
    if isinstance(target, Mapping):
        return validate_against_schema(target, arguments)
    return target(arguments)


# --- error formatting -------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MISSING = "is required"
_NOT_AN_OBJECT = "arguments must be a JSON object"


def _format_path(parts: Iterable[str | int]) -> str:
    """`items[1].qty`; keys that are not identifiers are quoted (`tags["a b"]`); `$` is the root."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            path += f".{part}" if path else part
        else:
            path += f"[{json.dumps(part)}]"
    return path or "$"


def _unknown(parent: tuple[str | int, ...], allowed: Iterable[str]) -> str:
    if parent:
        return "unexpected field"
    expected = ", ".join(allowed)
    return f"unknown argument; expected one of: {expected}" if expected else "takes no arguments"


def _pydantic_problems(
    exc: ValidationError, arguments: Any, allowed: Iterable[str]
) -> list[ArgumentProblem]:
    problems: list[ArgumentProblem] = []
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = _data_path(error["loc"], arguments, missing=error["type"] == "missing")
        if not loc:
            message = _NOT_AN_OBJECT  # pydantic would name the synthetic arguments model
        elif error["type"] == "missing":
            message = _MISSING
        elif error["type"] == "extra_forbidden":
            message = _unknown(loc[:-1], allowed)
        else:
            message = error["msg"]
        problems.append({"path": _format_path(loc), "message": message})
    return problems


def _data_path(loc: tuple[str | int, ...], data: Any, *, missing: bool) -> tuple[str | int, ...]:
    """Drop the union-member tags pydantic puts in `loc` (`('x', 'int')`, `('x', 'Item', 'qty')`)
    by following the path through the submitted data: a segment the data does not have is a tag,
    except the last one of a `missing` error (the missing field itself)."""
    path: list[str | int] = []
    for index, part in enumerate(loc):
        container = isinstance(data, Mapping | list | tuple)
        if _has(data, part):
            data = data[part]
        elif container and not (missing and index == len(loc) - 1):
            continue
        else:
            data = None
        path.append(part)
    return tuple(path)


def _has(data: Any, part: str | int) -> bool:
    if isinstance(data, Mapping):
        return part in data
    return (
        isinstance(data, list | tuple) and isinstance(part, int) and -len(data) <= part < len(data)
    )


def _jsonschema_problems(error: jsonschema.exceptions.ValidationError) -> list[ArgumentProblem]:
    parent = tuple(error.absolute_path)
    instance = error.instance
    if error.validator == "required" and isinstance(instance, Mapping):
        # jsonschema reports a missing property at the object's path; point at the property.
        names = [n for n in error.validator_value if n not in instance]
        return [{"path": _format_path((*parent, n)), "message": _MISSING} for n in names]
    if (
        error.validator == "additionalProperties"
        and error.validator_value is False
        and isinstance(instance, Mapping)
    ):
        declared = error.schema.get("properties", {})
        patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
        extras = [
            k for k in instance if k not in declared and not any(p.search(k) for p in patterns)
        ]
        message = _unknown(parent, declared)
        return [{"path": _format_path((*parent, k)), "message": message} for k in extras]
    return [{"path": _format_path(parent), "message": error.message}]
