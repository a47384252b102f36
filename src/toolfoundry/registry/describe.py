"""Render catalog tools for a model: OpenAI or Anthropic tools JSON, MCP tool JSON, or prompt text.

Everything is generated from a tool's stored description and schemas, so a prompt never drifts
from what the dispatcher validates. Rendering is deterministic: the same tools in the same order
give the same output, byte for byte.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, overload

from toolfoundry.core.models import Tool
from toolfoundry.registry.presentation import model_description, model_name, model_names
from toolfoundry.registry.schema import WRAPPED_KEY

DescribeFormat = Literal["openai", "anthropic", "mcp", "text"]

# --- provider names ---------------------------------------------------------------------------


def provider_name_map(tools: Iterable[Tool]) -> dict[str, str]:
    """Provider name → tool id for exactly these tools: the exact inverse for a rendered set."""
    return {name: tool.id for name, tool in model_names(tools).items()}


# --- JSON formats -----------------------------------------------------------------------------
# Names and descriptions come from `presentation`, shared with the gateway and the agent.

_description = model_description


def to_openai(tool: Tool) -> dict[str, Any]:
    # No `strict`: strict mode needs every property required and no defaults, which derived
    # schemas with optional parameters do not satisfy; Chat Completions defaults to non-strict.
    return {
        "type": "function",
        "function": {
            "name": model_name(tool.id),
            "description": _description(tool),
            "parameters": copy.deepcopy(tool.input_schema),
        },
    }


def to_anthropic(tool: Tool) -> dict[str, Any]:
    return {
        "name": model_name(tool.id),
        "description": _description(tool),
        "input_schema": copy.deepcopy(tool.input_schema),
    }


def to_mcp(tool: Tool) -> dict[str, Any]:
    # MCP tool names may contain dots (spec 2025-11-25: A-Z a-z 0-9 _ - .), so the id is kept.
    # No `annotations`: the catalog holds no read-only/destructive/idempotent hints to report.
    rendered: dict[str, Any] = {
        "name": tool.id,
        "description": _description(tool),
        "inputSchema": copy.deepcopy(tool.input_schema),
    }
    if tool.output_schema is not None:
        rendered["outputSchema"] = copy.deepcopy(tool.output_schema)
    return rendered


_JSON_RENDERERS = {"openai": to_openai, "anthropic": to_anthropic, "mcp": to_mcp}


@overload
def render(tools: Tool | Sequence[Tool], fmt: Literal["text"]) -> str: ...
@overload
def render(tools: Tool, fmt: Literal["openai", "anthropic", "mcp"]) -> dict[str, Any]: ...
@overload
def render(
    tools: Sequence[Tool], fmt: Literal["openai", "anthropic", "mcp"]
) -> list[dict[str, Any]]: ...
def render(
    tools: Tool | Sequence[Tool], fmt: DescribeFormat
) -> str | dict[str, Any] | list[dict[str, Any]]:
    """Render one tool (a dict, or a text block) or a list (a list, or text grouped by toolkit).
    A list keeps its order, so a ranking from discovery reaches the model unchanged."""
    if fmt == "text":
        return to_text(tools)
    if fmt not in _JSON_RENDERERS:
        raise ValueError(f"unknown format {fmt!r}; expected one of openai, anthropic, mcp, text")
    renderer = _JSON_RENDERERS[fmt]
    if isinstance(tools, Tool):
        return renderer(tools)
    if fmt != "mcp":  # every name a model is shown must lead back to one tool
        model_names(tools)
    return [renderer(tool) for tool in tools]


# --- text -------------------------------------------------------------------------------------


def to_text(tools: Tool | Sequence[Tool]) -> str:
    """Compact prompt text. One tool gives one block:

        text.count(text: str, mode: str = 'fast') -> int
          Count the words in a text.
            text: The text to count in.
            mode: How to count. One of: 'fast', 'exact'.

    A list is grouped under `## toolkit` headings, toolkits in order of first appearance.
    """
    if isinstance(tools, Tool):
        return _text_block(tools)
    groups: dict[str, list[Tool]] = {}
    for tool in tools:
        groups.setdefault(tool.toolkit, []).append(tool)
    sections = [
        f"## {toolkit}\n\n" + "\n\n".join(_text_block(t) for t in members)
        for toolkit, members in groups.items()
    ]
    return "\n\n".join(sections)


def _text_block(tool: Tool) -> str:
    schema = tool.input_schema
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    arguments = ", ".join(
        _field(name, prop, name in required, literals=False) for name, prop in properties.items()
    )
    lines = [f"{tool.id}({arguments}){_returns(tool.output_schema)}"]
    lines += [f"  {line}".rstrip() for line in _description(tool).splitlines()]
    for name, prop in properties.items():
        lines.append(f"    {name}: {_parameter_note(prop)}")
    definitions = {**_output_definitions(tool.output_schema), **schema.get("$defs", {})}
    for name in sorted(definitions):
        lines.append(f"  {name} = {_type(definitions[name], expand=True)}")
    return "\n".join(lines)


def _returns(output_schema: Mapping[str, Any] | None) -> str:
    if output_schema is None:
        return ""
    if output_schema.get(WRAPPED_KEY):
        return f" -> {_type(output_schema['properties']['result'])}"
    return f" -> {_type(output_schema)}"


def _output_definitions(output_schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """The output's `$defs`, plus the output itself when `_returns` names it by its title."""
    if output_schema is None:
        return {}
    definitions = dict(output_schema.get("$defs", {}))
    if "title" in output_schema and "properties" in output_schema:
        definitions[output_schema["title"]] = output_schema
    return definitions


def _parameter_note(prop: Mapping[str, Any]) -> str:
    note = prop.get("description", "").strip().replace("\n", " ")
    values = _enum(prop)
    if values is not None:
        note = f"{note} One of: {', '.join(map(repr, values))}.".strip()
    return note or _type(prop)


def _enum(schema: Mapping[str, Any]) -> list[Any] | None:
    """The allowed values of a parameter, also through `list[...]` and `X | None`."""
    if "enum" in schema:
        return list(schema["enum"])
    for member in [schema.get("items"), *schema.get("anyOf", ()), *schema.get("oneOf", ())]:
        if isinstance(member, Mapping) and (values := _enum(member)) is not None:
            return values
    return None


def _field(name: str, schema: Mapping[str, Any], required: bool, *, literals: bool = True) -> str:
    rendered = f"{name}: {_type(schema, literals=literals)}"
    if "default" in schema:
        return f"{rendered} = {schema['default']!r}"
    return rendered if required else f"{rendered} = ..."


_SCALARS = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "null": "None",
}


def _type(schema: Mapping[str, Any], *, literals: bool = True, expand: bool = False) -> str:
    """A Python-like type for a JSON schema: `list[Item]`, `str | None`, `dict[str, int]`.

    `literals=False` renders enums as their base type (the parameter line lists the values);
    `expand=True` spells out an object's fields instead of naming its model.
    """
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "enum" in schema or "const" in schema:
        values = schema["enum"] if "enum" in schema else [schema["const"]]
        if literals:
            return f"Literal[{', '.join(map(repr, values))}]"
        if "type" not in schema:
            return " | ".join(dict.fromkeys(_python_type(v) for v in values))
    for key in ("anyOf", "oneOf"):
        if key in schema:
            members = (_type(m, literals=literals) for m in schema[key])
            return " | ".join(dict.fromkeys(members))
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(_type({**schema, "type": k}, literals=literals) for k in kind)
    if kind == "array":
        if "prefixItems" in schema:
            return f"tuple[{', '.join(_type(s, literals=literals) for s in schema['prefixItems'])}]"
        items = schema.get("items")
        return f"list[{_type(items, literals=literals)}]" if items else "list"
    if kind == "object" or "properties" in schema:
        return _object_type(schema, expand=expand)
    return _SCALARS.get(str(kind), "any")


def _object_type(schema: Mapping[str, Any], *, expand: bool) -> str:
    properties: Mapping[str, Any] = schema.get("properties", {})
    if properties and (expand or "title" not in schema):
        required = set(schema.get("required", ()))
        fields = ", ".join(_field(n, p, n in required) for n, p in properties.items())
        return f"{{{fields}}}"
    if properties:
        return str(schema["title"])
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping) and extra:
        return f"dict[str, {_type(extra)}]"
    return "dict"


def _python_type(value: Any) -> str:
    return {str: "str", bool: "bool", int: "int", float: "float", type(None): "None"}.get(
        type(value), "any"
    )
