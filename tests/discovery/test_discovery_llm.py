"""The LLM reasoning path of discovery with pydantic-ai's FunctionModel standing in for the
model: what our code does with its answers (parsing, id checks with retry, fallback)."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from toolfoundry import Settings, ToolLibrary

ANALYSIS = {
    "core_intent": "convert a temperature",
    "task_characteristics": ["unit conversion"],
    "complexity_level": "simple",
    "input_output_requirements": {"input": "fahrenheit", "output": "celsius"},
    "technical_needs": ["temperature conversion"],
    "scenario_classification": "unit-conversion",
    "confidence_score": 0.9,
    "reasoning": "one conversion",
    "subtasks": ["convert 100 F to C"],
}


def selection(tool_ids: list[str], gaps: list[dict] | None = None) -> dict:
    return {
        "analysis": ANALYSIS,
        "toolkits": ["convert"],
        "selection_reasoning": "units live in convert",
        "combination_strategy": "single toolkit",
        "tools": [{"id": t, "purpose": "convert the value", "subtasks": [0]} for t in tool_ids],
        "backups": [],
        "reasoning": "the unit converter does it",
        "gaps": gaps or [],
    }


def answering(*answers: dict, seen: list[str] | None = None) -> FunctionModel:
    """A model that returns `answers` in turn as its structured output."""
    queue = list(answers)

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if seen is not None:
            seen.append(
                json.dumps(
                    [m.model_dump() if hasattr(m, "model_dump") else str(m) for m in messages],
                    default=str,
                )
            )
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return ModelResponse(parts=[ToolCallPart(tool_name=info.output_tools[0].name, args=answer)])

    return FunctionModel(respond)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"load_starters": True, "discovery_llm_timeout": 2.0})


async def open_with(settings: Settings, model: FunctionModel) -> ToolLibrary:
    library = ToolLibrary(settings, llm=model)
    await library.start()
    await library.discovery.wait_ready()  # type: ignore[union-attr]
    return library


async def test_model_answer_becomes_the_result(settings: Settings) -> None:
    library = await open_with(settings, answering(selection(["convert.convert_units"])))
    try:
        result = await library.discover("convert 100 fahrenheit to celsius")
    finally:
        await library.aclose()
    assert result.mode == "llm" and result.fallback_reason is None
    assert [t.id for t in result.tools] == ["convert.convert_units"]
    assert result.tools[0].input_schema["type"] == "object"  # filled in from the catalog
    assert result.analysis.scenario_classification == "unit-conversion"
    assert result.tool_filtering.execution_plan.steps[0].purpose == "convert the value"
    assert result.coverage == 1.0 and result.gaps == []


async def test_invented_tool_ids_are_sent_back(settings: Settings) -> None:
    seen: list[str] = []
    model = answering(
        selection(["convert.fahrenheit_magic"]), selection(["convert.convert_units"]), seen=seen
    )
    library = await open_with(settings, model)
    try:
        result = await library.discover("convert 100 fahrenheit to celsius")
    finally:
        await library.aclose()
    assert [t.id for t in result.tools] == ["convert.convert_units"]
    assert "not in the shortlist: convert.fahrenheit_magic" in seen[-1]


async def test_model_gaps_are_reported(settings: Settings) -> None:
    gap = {
        "description": "draw a chart",
        "technical_requirements": ["plotting"],
        "priority": "high",
        "context": "read then chart",
        "search_keywords": ["chart", "plot"],
    }
    answer = selection(["tabular.read_table"], gaps=[gap])
    answer["analysis"] = {**ANALYSIS, "subtasks": ["read a table", "draw a chart"]}
    library = await open_with(settings, answering(answer))
    try:
        result = await library.discover("read sales.csv, then draw a chart")
    finally:
        await library.aclose()
    assert result.mode == "llm" and [g.description for g in result.gaps] == ["draw a chart"]
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
