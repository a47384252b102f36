"""The agent end to end on the starter catalog, with pydantic-ai's FunctionModel as the model:
what our code does with its answers (tool calls through the dispatcher, argument errors sent
back, limits, failures) and the trajectory it leaves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic_ai.exceptions import UnexpectedModelBehavior
from pydantic_ai.messages import (
    ModelMessage,
    ModelResponse,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

from toolfoundry import Settings, ToolLibrary
from toolfoundry.api.app import create_app
from toolfoundry.core.errors import BackendUnavailableError, InvalidInputError
from toolfoundry.trajectory import StepType

QUERY = "describe the numbers 3, 9 and 27: their mean and median"
TOOL = "stats__descriptive_statistics"


def last_parts(messages: list[ModelMessage]) -> list:
    return list(messages[-1].parts)


def statistician(info_seen: list[AgentInfo] | None = None) -> FunctionModel:
    """Calls the statistics tool with a wrong argument first; only when the refusal naming the
    argument comes back does it call correctly; then answers from the tool's result."""

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if info_seen is not None:
            info_seen.append(info)
        parts = last_parts(messages)
        # pydantic-ai 2 sends a tool's ModelRetry back as a return with outcome "retried".
        returns = [p for p in parts if isinstance(p, ToolReturnPart)]
        retry = [p for p in returns if p.outcome == "retried"]
        returned = [p for p in returns if p.outcome == "success"]
        if returned:
            stats = returned[0].content
            answer = f"mean {stats['mean']:g}, median {stats['median']:g}"
            return ModelResponse(
                parts=[
                    ToolCallPart(info.output_tools[0].name, {"answer": answer, "completed": True})
                ]
            )
        if retry and "values" in str(retry[0].content):
            return ModelResponse(parts=[ToolCallPart(TOOL, {"values": [3, 9, 27]})])
        # A wrong argument name: no coercion can fix it, the dispatcher's refusal names it.
        return ModelResponse(parts=[ToolCallPart(TOOL, {"numbers": [3, 9, 27]})])

    return FunctionModel(respond)


@pytest.fixture
def starters(settings: Settings) -> Settings:
    return settings.model_copy(update={"load_starters": True})


@pytest.fixture
async def library(starters: Settings):  # type: ignore[no-untyped-def]
    async with ToolLibrary.open(starters) as lib:
        yield lib


async def test_the_agent_completes_a_request_and_records_the_run(library: ToolLibrary) -> None:
    seen: list[AgentInfo] = []
    result = await library.run_agent(QUERY, model=statistician(seen), scenario="analysis")

    assert result.success is True and result.answer == "mean 13, median 9"
    assert result.tools_used == ["stats.descriptive_statistics"] and result.tool_calls == 2
    assert result.tools_offered[0] == "stats.descriptive_statistics"
    # The model saw the discovered tools under API-safe names, with their derived schemas.
    offered = {t.name: t for t in seen[0].function_tools}
    assert TOOL in offered and offered[TOOL].parameters_json_schema["required"] == ["values"]
    assert len(offered) == len(result.tools_offered)

    run = await library.trajectories.get(result.trajectory_id)
    assert run.status == "succeeded" and run.identified_scenario == "analysis"
    assert run.final_result == {"answer": "mean 13, median 9"}
    steps = [(s.step_type, s.tool_id, s.success) for s in run.steps or []]
    assert steps == [
        (StepType.SCENARIO_IDENTIFICATION, None, True),
        (StepType.TOOLKIT_SELECTION, None, True),
        (StepType.TOOL_SELECTION, None, True),
        (StepType.TOOL_EXECUTION, "stats.descriptive_statistics", False),
        (StepType.TOOL_EXECUTION, "stats.descriptive_statistics", True),
        (StepType.LLM_REASONING, None, True),
    ]
    assert (run.steps or [])[3].error_type == "ArgumentsError"
    assert (run.steps or [])[-1].llm_interaction["requests"] == 3  # type: ignore[index]
    # What the run taught is there at once.
    insights = await library.tool_insights("stats.descriptive_statistics")
    assert insights.example_requests == [QUERY] and insights.runs == 1


async def test_without_a_model_nothing_runs_and_nothing_is_recorded(library: ToolLibrary) -> None:
    with pytest.raises(InvalidInputError, match="needs a model"):
        await library.run_agent(QUERY)
    assert await library.trajectories.list() == []


async def test_a_model_that_never_stops_is_cut_off(library: ToolLibrary) -> None:
    def loop(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        # Always another call (identical calls would be answered from the first result).
        return ModelResponse(parts=[ToolCallPart(TOOL, {"values": [1, len(messages)]})])

    result = await library.run_agent(QUERY, model=FunctionModel(loop), max_tool_calls=3)
    assert result.success is False and result.answer.startswith("stopped:")
    assert result.tool_calls == 3
    run = await library.trajectories.get(result.trajectory_id)
    assert run.status == "failed"
    assert [s.step_type for s in run.steps or []].count(StepType.TOOL_EXECUTION) == 3


async def test_a_failing_model_is_a_503_and_a_failed_run(library: ToolLibrary) -> None:
    def broken(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise UnexpectedModelBehavior("the model answered garbage")

    with pytest.raises(BackendUnavailableError, match="answered garbage"):
        await library.run_agent(QUERY, model=FunctionModel(broken))
    (run,) = await library.trajectories.list()
    assert run.status == "failed" and "BackendUnavailableError" in (run.final_result or {})["error"]


@pytest.fixture
def client(starters: Settings, auth_headers: dict[str, str]) -> Iterator[TestClient]:
    library = ToolLibrary(starters, llm=statistician())
    with TestClient(create_app(library=library), headers=auth_headers) as test_client:
        yield test_client
        # The app does not close a library it was given; close it on the app's event loop.
        test_client.portal.call(library.aclose)  # type: ignore[union-attr]


def test_rest(client: TestClient) -> None:
    response = client.post("/api/v1/agent/run", json={"query": QUERY, "discover_mode": "retrieval"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["answer"] == "mean 13, median 9"
    run = client.get(f"/api/v1/trajectories/{body['trajectory_id']}").json()
    assert run["total_steps"] == 6
    bad = client.post("/api/v1/agent/run", json={"query": "", "top_k": 0})
    assert bad.status_code == 422
    assert {e["path"] for e in bad.json()["errors"]} == {"query", "top_k"}
