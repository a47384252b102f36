"""One view of a tool for every model-facing door: the names `describe` emits are the names the
gateway lists and the agent offers, each leads back to its tool through `call` (REST in
tests/api/test_model_names_api.py), and a deprecated tool is marked the same way everywhere."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from fastmcp import Client
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from toolfoundry import Settings, ToolLibrary
from toolfoundry.gateway import build_gateway

MODEL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

# Ids a plain "." → "__" mapping would confuse, an over-long one, and ordinary ones.
TOOLS = [
    ("arith", "add_numbers"),
    ("a", "b__c"),
    ("a__b", "c"),
    ("kit_", "tool"),
    ("web-tools", "fetch-url"),
    ("measurements_" + "m" * 40, "convert_between_units_" + "u" * 30),
]
IDS = [f"{kit}.{name}" for kit, name in TOOLS]


def add_numbers(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


@pytest.fixture
async def library(settings: Settings) -> AsyncIterator[ToolLibrary]:
    async with ToolLibrary.open(settings) as lib:
        for kit, name in TOOLS:
            await lib.register(add_numbers, toolkit=kit, name=name, version="1.0.0")
        await lib.set_state("arith.add_numbers", deprecated=True)
        yield lib


@pytest.mark.parametrize("fmt", ["openai", "anthropic"])
async def test_every_name_describe_emits_is_callable(library: ToolLibrary, fmt: str) -> None:
    rendered = await library.describe(IDS, fmt)
    names = [r["function"]["name"] if fmt == "openai" else r["name"] for r in rendered]

    assert len(set(names)) == len(IDS)  # no two tools share a name
    assert all(MODEL_NAME.match(n) for n in names)
    for tool_id, name in zip(IDS, names, strict=True):
        result = await library.call(name, {"a": 2, "b": 3})
        assert (result.tool, result.structured) == (tool_id, 5)
        pinned = await library.call(f"{name}@1.0.0", {"a": 1, "b": 1})
        assert (pinned.tool, pinned.version) == (tool_id, "1.0.0")
        assert (await library.get_tool(name)).id == tool_id  # reads accept it too


async def test_the_gateway_lists_what_describe_shows(library: ToolLibrary) -> None:
    described = {
        r["function"]["name"]: r["function"]["description"]
        for r in await library.describe(IDS, "openai")
    }
    async with Client(build_gateway(library, safe_names=True, meta_only=False)) as client:
        listed = {t.name: t.description for t in await client.list_tools()}
        assert {n: listed[n] for n in described} == described
        assert listed[next(iter(described))].startswith("[deprecated] ")
        for name in described:
            result = await client.call_tool(name, {"a": 20, "b": 22})
            assert result.structured_content == {"result": 42}


async def test_the_agent_offers_the_tools_as_describe_shows_them(library: ToolLibrary) -> None:
    seen: list[AgentInfo] = []

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(info)
        answer = {"answer": "nothing to do", "completed": False}
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, answer)])

    result = await library.run_agent(
        "add two whole numbers", model=FunctionModel(respond), top_k=len(IDS)
    )

    offered = {t.name: t for t in seen[0].function_tools}
    assert offered and len(offered) == len(result.tools_offered)
    described = await library.describe(result.tools_offered, "openai")
    for shown in described:
        tool = offered[shown["function"]["name"]]
        assert tool.description == shown["function"]["description"]
        assert tool.parameters_json_schema == shown["function"]["parameters"]
