"""A tool refused by policy (a file outside the roots) goes back to the model as the tool's
error, so the run continues and ends with an answer instead of failing."""

from __future__ import annotations

import pytest
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from toolfoundry import Settings, ToolLibrary

TOOL = "tabular__read_table"


def reader(seen: list[object]) -> FunctionModel:
    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        returns = [p for p in messages[-1].parts if isinstance(p, ToolReturnPart)]
        if returns:
            seen.append(returns[0].content)
            return ModelResponse(
                parts=[
                    ToolCallPart(
                        info.output_tools[0].name, {"answer": "not allowed", "completed": False}
                    )
                ]
            )
        return ModelResponse(
            parts=[ToolCallPart(TOOL, {"path": "/etc/shadow", "format": "csv", "delimiter": ":"})]
        )

    return FunctionModel(respond)


@pytest.fixture
async def library(settings: Settings):  # type: ignore[no-untyped-def]
    starters = settings.model_copy(update={"load_starters": True, "embedder": "none"})
    async with ToolLibrary.open(starters) as lib:
        yield lib


async def test_a_refused_path_reaches_the_model_as_an_error(library: ToolLibrary) -> None:
    seen: list[object] = []
    result = await library.run_agent(
        "read the rows of the csv file /etc/shadow", model=reader(seen), top_k=10
    )
    assert "tabular.read_table" in result.tools_offered
    assert result.answer == "not allowed"
    assert len(seen) == 1 and isinstance(seen[0], dict)
    error = seen[0]["error"]
    assert "/etc/shadow" in error and "TOOLFOUNDRY_FILES_ROOT" in error
    assert "root:" not in error
