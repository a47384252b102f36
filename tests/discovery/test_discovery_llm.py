"""The LLM reasoning path of discovery with pydantic-ai's FunctionModel standing in for the
model: what our code does with its answers (parsing, id checks with retry, fallback)."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from toolfoundry import Settings, ToolLibrary
from toolfoundry.core.models import Tool, ToolKind
from toolfoundry.discovery.llm_reasoner import parse_answer


def answering(*answers: str, seen: list[str] | None = None) -> FunctionModel:
    """A model that returns `answers` in turn as plain text, recording the prompts it saw."""
    queue = list(answers)

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if seen is not None:
            seen.append(
                json.dumps(
                    [m.model_dump() if hasattr(m, "model_dump") else str(m) for m in messages],
                    default=str,
                    ensure_ascii=False,
                )
            )
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return ModelResponse(parts=[TextPart(answer)])

    return FunctionModel(respond)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"load_starters": True, "discovery_llm_timeout": 2.0})


async def open_with(settings: Settings, model: FunctionModel) -> ToolLibrary:
    library = ToolLibrary(settings, llm=model)
    await library.start()
    await library.discovery.wait_ready()  # type: ignore[union-attr]
    return library


def number_of(prompt: str, tool_id: str) -> str:
    """The number the prompt gave `tool_id` (`3. text.slugify: ...`)."""
    match = re.search(rf"(\d+)\. {re.escape(tool_id)}:", prompt)
    assert match, (tool_id, prompt)
    return match.group(1)


async def test_model_reorders_within_the_shortlist_with_a_compact_prompt(
    settings: Settings,
) -> None:
    seen: list[str] = []
    query = "summarize the columns of a table"

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(str(messages))
        # The model prefers the describe tool, named by its number, with chatter around it.
        return ModelResponse(
            parts=[TextPart(f"Sure!\n{number_of(str(messages), 'tabular.describe_table')}\n")]
        )

    library = await open_with(settings, FunctionModel(respond))
    try:
        plain = await library.discover(query, mode="retrieval")
        result = await library.discover(query)
    finally:
        await library.aclose()
    assert result.mode == "llm" and result.fallback_reason is None
    assert result.tools[0].id == "tabular.describe_table"
    assert result.tools[0].input_schema["type"] == "object"  # filled in from the catalog
    # Retrieval's order fills in after the model's pick: nothing it found is lost.
    rest = [t.id for t in plain.tools + plain.tool_filtering.backup_options]
    assert [t.id for t in result.tools[1:]] == [t for t in rest if t != "tabular.describe_table"][
        : len(result.tools) - 1
    ]
    assert result.tokens is not None and result.tokens["input"] > 0
    prompt = seen[0]
    assert "input_schema" not in prompt and "properties" not in prompt  # no schemas sent
    assert len(prompt) < 3000


def test_parse_answer_reads_numbers_ids_and_gaps() -> None:
    shortlist = [
        Tool(
            id=f"kit.{n}",
            name=n,
            description=f"{n} things",
            toolkit="kit",
            kind=ToolKind.FUNCTION,
            input_schema={"type": "object"},
            version="1",
        )
        for n in ("read_table", "sort_rows", "plot")
    ]
    pick = parse_answer("2\n- 1. read_table\n`kit.plot`\n7\nGAP: send an e-mail.", shortlist)
    assert pick.order == [1, 0, 2]  # 7 is out of range; repeats are dropped
    assert pick.gaps == ["send an e-mail"]
    assert parse_answer("缺少：画图", shortlist).gaps == ["画图"]
    assert parse_answer("I cannot help with that.", shortlist).order == []


async def test_unparseable_answer_keeps_the_retrieval_order(settings: Settings) -> None:
    library = await open_with(settings, answering("I think you should use a converter."))
    try:
        plain = await library.discover("convert 100 fahrenheit to celsius", mode="retrieval")
        result = await library.discover("convert 100 fahrenheit to celsius")
    finally:
        await library.aclose()
    assert result.mode == "llm"
    assert [t.id for t in result.tools] == [t.id for t in plain.tools]


async def test_model_gaps_are_reported(settings: Settings) -> None:
    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        number = number_of(str(messages), "tabular.read_table")
        return ModelResponse(parts=[TextPart(f"{number}\nGAP: draw a bar chart")])

    library = await open_with(settings, FunctionModel(respond))
    try:
        result = await library.discover("read sales.csv, then draw a bar chart")
    finally:
        await library.aclose()
    assert result.mode == "llm" and [g.description for g in result.gaps] == ["draw a bar chart"]
    assert {"bar", "chart"} <= set(result.gaps[0].search_keywords)
    assert [s.tool for s in result.tool_filtering.execution_plan.steps] == ["tabular.read_table"]
    assert result.coverage == 0.5


async def test_slow_model_falls_back_to_retrieval(settings: Settings) -> None:
    async def slow(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        await asyncio.sleep(10)
        raise AssertionError("unreachable")

    library = await open_with(settings, FunctionModel(slow))
    try:
        result = await library.discover("convert 100 fahrenheit to celsius")
    finally:
        await library.aclose()
    assert result.mode == "retrieval"
    assert result.fallback_reason == "model did not answer within 2 s"
    assert result.tools[0].id == "convert.convert_units"
    assert result.latency_ms < 4000


async def test_failing_model_falls_back_and_retrieval_mode_skips_it(settings: Settings) -> None:
    def broken(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise RuntimeError("upstream 500")

    library = await open_with(settings, FunctionModel(broken))
    try:
        result = await library.discover("convert 100 fahrenheit to celsius")
        plain = await library.discover("convert 100 fahrenheit to celsius", mode="retrieval")
    finally:
        await library.aclose()
    assert result.mode == "retrieval" and "upstream 500" in (result.fallback_reason or "")
    assert plain.mode == "retrieval" and plain.fallback_reason is None


async def test_only_the_first_pick_overrides_retrieval(settings: Settings) -> None:
    """A small model's long list (its first choice, then filler) must not push tools retrieval
    ranked high out of the top: only the first pick moves ahead of retrieval's order."""
    query = "summarize the columns of a table"

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        prompt = str(messages)
        numbers = re.findall(r"(\d+)\. [\w.]+:", prompt)
        first = number_of(prompt, "tabular.describe_table")
        filler = [n for n in reversed(numbers) if n != first][:4]  # retrieval's worst last
        return ModelResponse(parts=[TextPart("\n".join([first, *filler]))])

    library = await open_with(settings, FunctionModel(respond))
    try:
        plain = await library.discover(query, mode="retrieval")
        result = await library.discover(query)
    finally:
        await library.aclose()
    assert result.mode == "llm" and result.fallback_reason is None
    assert result.tools[0].id == "tabular.describe_table"
    rest = [t.id for t in plain.tools + plain.tool_filtering.backup_options]
    expected = [t for t in rest if t != "tabular.describe_table"][: len(result.tools) - 1]
    assert [t.id for t in result.tools[1:]] == expected
