"""Rendering tools for models: OpenAI, Anthropic, MCP and prompt text, all from stored schemas."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from toolfoundry.core.models import Tool, ToolKind
from toolfoundry.core.names import provider_tool_name, tool_id_from_provider_name
from toolfoundry.registry.describe import provider_name_map, render
from toolfoundry.registry.schema import derive_function_schema


class Item(BaseModel):
    name: str
    qty: int = 1


class Receipt(BaseModel):
    total: int
    items: list[Item]


def count_words(text: str, mode: Literal["fast", "exact"] = "fast") -> int:
    """Count the words in a text.

    Args:
        text: The text to count in.
        mode: How to count.

    Returns:
        The number of words.
    """
    return len(text.split())


def place_order(items: list[Item], urgent: bool = False) -> Receipt:
    """Place an order.

    Args:
        items: What to order.
    """
    return Receipt(total=len(items), items=items)


def ping() -> None:
    """Check that the service answers."""


def make_tool(toolkit: str, fn: Callable[..., Any], *, deprecated: bool = False) -> Tool:
    schema = derive_function_schema(fn)
    return Tool(
        id=f"{toolkit}.{schema.name}",
        name=schema.name,
        description=schema.description,
        toolkit=toolkit,
        kind=ToolKind.FUNCTION,
        input_schema=schema.input_schema,
        output_schema=schema.output_schema,
        version="1.0.0",
        deprecated=deprecated,
    )


COUNT_INPUT = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "description": "The text to count in."},
        "mode": {
            "type": "string",
            "enum": ["fast", "exact"],
            "default": "fast",
            "description": "How to count.",
        },
    },
    "required": ["text"],
    "additionalProperties": False,
}


@pytest.fixture
def count() -> Tool:
    return make_tool("text", count_words)


def test_openai_format(count: Tool):
    assert render(count, "openai") == {
        "type": "function",
        "function": {
            "name": "text__count_words",
            "description": "Count the words in a text.",
            "parameters": COUNT_INPUT,
        },
    }


def test_anthropic_format(count: Tool):
    assert render(count, "anthropic") == {
        "name": "text__count_words",
        "description": "Count the words in a text.",
        "input_schema": COUNT_INPUT,
    }


def test_mcp_format_keeps_the_dotted_id_and_the_output_schema(count: Tool):
    assert render(count, "mcp") == {
        "name": "text.count_words",
        "description": "Count the words in a text.",
        "inputSchema": COUNT_INPUT,
        "outputSchema": {
            "type": "object",
            "properties": {"result": {"type": "integer"}},
            "required": ["result"],
            "x-toolfoundry-wrapped": True,
            "description": "The number of words.",
        },
    }
    assert "outputSchema" not in render(make_tool("ops", ping), "mcp")


def test_text_format_of_one_tool(count: Tool):
    assert render(count, "text") == (
        "text.count_words(text: str, mode: str = 'fast') -> int\n"
        "  Count the words in a text.\n"
        "    text: The text to count in.\n"
        "    mode: How to count. One of: 'fast', 'exact'."
    )


def test_text_format_names_models_and_defines_them(count: Tool):
    order = make_tool("shop", place_order)

    assert render(order, "text") == (
        "shop.place_order(items: list[Item], urgent: bool = False) -> Receipt\n"
        "  Place an order.\n"
        "    items: What to order.\n"
        "    urgent: bool\n"
        "  Item = {name: str, qty: int = 1}\n"
        "  Receipt = {total: int, items: list[Item]}"
    )


def test_text_format_groups_a_set_by_toolkit_in_order_of_appearance(count: Tool):
    tools = [count, make_tool("ops", ping), make_tool("text", ping)]

    assert render(tools, "text") == (
        "## text\n\n"
        "text.count_words(text: str, mode: str = 'fast') -> int\n"
        "  Count the words in a text.\n"
        "    text: The text to count in.\n"
        "    mode: How to count. One of: 'fast', 'exact'.\n\n"
        "text.ping()\n"
        "  Check that the service answers.\n\n"
        "## ops\n\n"
        "ops.ping()\n"
        "  Check that the service answers."
    )


def test_text_renders_json_schemas_that_were_not_derived_here():
    mcp_tool = Tool(
        id="files.read",
        name="read",
        description="Read a file.",
        toolkit="files",
        kind=ToolKind.MCP,
        version="1.0.0",
        input_schema={
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "Where."},
                "encoding": {"type": ["string", "null"]},
                "lines": {"type": "array", "items": {"type": "integer"}},
                "options": {"type": "object", "properties": {"follow": {"type": "boolean"}}},
            },
            "required": ["path"],
        },
    )

    assert render(mcp_tool, "text").splitlines()[0] == (
        "files.read(path: str, encoding: str | None = ..., lines: list[int] = ..., "
        "options: {follow: bool = ...} = ...)"
    )


def test_deprecated_tools_are_marked_in_every_format():
    old = make_tool("text", count_words, deprecated=True)

    assert render(old, "openai")["function"]["description"].startswith("[deprecated] ")
    assert render(old, "anthropic")["description"].startswith("[deprecated] ")
    assert render(old, "mcp")["description"].startswith("[deprecated] ")
    assert "  [deprecated] Count the words" in render(old, "text")


def test_a_list_renders_to_a_list_in_order(count: Tool):
    order = make_tool("shop", place_order)

    rendered = render([order, count], "anthropic")

    assert [t["name"] for t in rendered] == ["shop__place_order", "text__count_words"]


def test_rendering_is_deterministic_and_does_not_share_the_stored_schema(count: Tool):
    first = render([count], "openai")
    first[0]["function"]["parameters"]["properties"].clear()

    assert render([count], "openai") != first
    assert render([count], "text") == render([count], "text")
    assert count.input_schema == COUNT_INPUT


def test_unknown_format_is_rejected(count: Tool):
    with pytest.raises(ValueError, match="unknown format"):
        render(count, "yaml")  # type: ignore[call-overload]


# --- provider names ---------------------------------------------------------------------------

PROVIDER_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@pytest.mark.parametrize("tool_id", ["text.count_words", "web-tools.fetch-url", "a.b"])
def test_provider_names_round_trip(tool_id: str):
    name = provider_tool_name(tool_id)

    assert PROVIDER_NAME.match(name)
    assert tool_id_from_provider_name(name) == tool_id


def test_long_or_odd_ids_still_give_valid_distinct_names():
    long_a, long_b = "kit." + "a" * 70, "kit." + "a" * 69 + "b"
    names = {provider_tool_name(i) for i in (long_a, long_b, "kit.with space")}

    assert len(names) == 3
    assert all(PROVIDER_NAME.match(n) for n in names)


def test_name_map_is_the_exact_inverse_for_a_set(count: Tool):
    long_tool = count.model_copy(update={"id": "kit." + "x" * 80})

    mapping = provider_name_map([count, long_tool])

    assert mapping == {
        "text__count_words": "text.count_words",
        provider_tool_name(long_tool.id): long_tool.id,
    }


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("text.count_words", "text.count words"),  # a space becomes "_"
        ("a.b__c", "a__b.c"),  # both "a__b__c" under the plain mapping
        ("kit_.tool", "kit._tool"),  # both "kit___tool"
    ],
)
def test_ids_the_plain_mapping_would_confuse_get_distinct_names(
    count: Tool, first: str, second: str
):
    tools = [count.model_copy(update={"id": i}) for i in (first, second)]

    mapping = provider_name_map(tools)

    assert sorted(mapping.values()) == sorted([first, second])
    assert all(PROVIDER_NAME.match(n) for n in mapping)
