"""The agent against a small model's habits, with pydantic-ai's FunctionModel as the model: the
answer as plain text or fenced JSON, numbers and lists written as text, arguments wrapped in an
`arguments` object, and the same call repeated after its result."""

from __future__ import annotations

import pytest
from pydantic_ai.messages import (
    ModelMessage,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

from toolfoundry import Settings, ToolLibrary
from toolfoundry.trajectory import StepType

QUERY = "describe the numbers 3, 9 and 27: their mean and median"
TOOL = "stats__descriptive_statistics"


@pytest.fixture
async def library(settings: Settings):  # type: ignore[no-untyped-def]
    async with ToolLibrary.open(settings.model_copy(update={"load_starters": True})) as lib:
        yield lib


def returned(messages: list[ModelMessage]) -> list[ToolReturnPart]:
    return [
        p for p in messages[-1].parts if isinstance(p, ToolReturnPart) and p.outcome == "success"
    ]


@pytest.mark.parametrize(
    ("arguments", "answer"),
    [
        ({"values": "3, 9, 27"}, "The mean is 13 and the median is 9."),
        ({"arguments": {"values": ["3", "9", "27"]}}, "The mean is 13 and the median is 9."),
        (
            {"values": "[3, 9, 27]"},
            '```json\n{"answer": "The mean is 13 and the median is 9.", "completed": true}\n```',
        ),
    ],
    ids=["comma-text", "wrapped-strings", "fenced-json-answer"],
)
async def test_text_arguments_and_text_answers_are_understood(
    library: ToolLibrary, arguments: dict[str, object], answer: str
) -> None:
    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        results = returned(messages)
        if results:
            assert results[0].content["mean"] == 13  # the tool really ran on the numbers
            return ModelResponse(parts=[TextPart(answer)])
        return ModelResponse(parts=[ToolCallPart(TOOL, arguments)])

    result = await library.run_agent(QUERY, model=FunctionModel(respond))
    assert result.success is True
    assert result.answer == "The mean is 13 and the median is 9."
    assert (result.tool_calls, result.invalid_tool_calls) == (1, 0)
    run = await library.trajectories.get(result.trajectory_id)
    executions = [s for s in run.steps or [] if s.step_type == StepType.TOOL_EXECUTION]
    assert [s.success for s in executions] == [True]
    assert executions[0].input_data["arguments"]["values"] == [3, 9, 27]


async def test_a_repeated_call_is_answered_from_its_result_and_the_tools_withdrawn(
    library: ToolLibrary,
) -> None:
    offered: list[list[str]] = []

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        offered.append([t.name for t in info.function_tools])
        if not info.function_tools:
            return ModelResponse(parts=[TextPart("mean 13, median 9")])
        # The small model's habit: the same call again after its result.
        return ModelResponse(parts=[ToolCallPart(TOOL, {"values": [3, 9, 27]})])

    result = await library.run_agent(QUERY, model=FunctionModel(respond))
    assert result.success is True and result.answer == "mean 13, median 9"
    assert (result.tool_calls, result.repeated_tool_calls) == (2, 1)
    assert TOOL in offered[0] and TOOL in offered[1] and offered[2] == []
    run = await library.trajectories.get(result.trajectory_id)
    kinds = [s.step_type for s in run.steps or []]
    assert kinds.count(StepType.TOOL_EXECUTION) == 1  # the repeat did not run the tool again


async def test_a_text_answer_without_any_tool_result_is_not_complete(
    library: ToolLibrary,
) -> None:
    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart("The mean is probably 13.")])

    result = await library.run_agent(QUERY, model=FunctionModel(respond))
    assert result.success is False and result.answer == "The mean is probably 13."
    run = await library.trajectories.get(result.trajectory_id)
    assert run.status == "failed"


@pytest.mark.parametrize(
    "call_text",
    [
        '```json\n{"name": "stats.descriptive_statistics",\n'
        ' "arguments": {"values": [3, 9, 27]}}\n```',
        '<tool_call>\n{"name": "stats__descriptive_statistics", "arguments": '
        '"{\\"values\\": \\"3, 9, 27\\"}"}\n</tool_call>',
        # Seen on the local model: prose around the call, before or after it.
        "To answer this we use the statistics tool:\n```json\n"
        '{"name": "stats.descriptive_statistics", "arguments": {"values": [3, 9, 27]}}\n```\n'
        "This computes the mean and the median.",
        'Calling {"name": "stats.descriptive_statistics", "arguments": {"values": [3, 9, 27]}} '
        "now.",
    ],
    ids=["fenced-json-tool-id", "qwen-tags-string-arguments", "fenced-in-prose", "bare-in-prose"],
)
async def test_a_tool_call_written_as_text_is_run_and_its_result_shown(
    library: ToolLibrary, call_text: str
) -> None:
    # The local 1.5B model's habit: the call as JSON text instead of a tool call.
    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        feedback = str(messages[-1])  # pydantic-ai hands text-output feedback back as a prompt
        if "returned:" in feedback:
            assert '"mean": 13' in feedback  # the tool really ran on the numbers
            return ModelResponse(parts=[TextPart("The mean is 13 and the median is 9.")])
        return ModelResponse(parts=[TextPart(call_text)])

    result = await library.run_agent(QUERY, model=FunctionModel(respond))
    assert result.success is True
    assert result.answer == "The mean is 13 and the median is 9."
    assert (result.tool_calls, result.invalid_tool_calls) == (1, 0)
    assert result.tools_used == ["stats.descriptive_statistics"]


async def test_a_text_call_repeated_after_its_result_answers_with_that_result(
    library: ToolLibrary,
) -> None:
    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(
            parts=[
                TextPart(
                    '{"name": "stats.descriptive_statistics", "arguments": {"values": [3, 9, 27]}}'
                )
            ]
        )

    result = await library.run_agent(QUERY, model=FunctionModel(respond))
    assert (result.tool_calls, result.repeated_tool_calls) == (2, 1)
    assert result.success is True
    assert '"mean": 13' in result.answer


async def test_text_naming_no_offered_tool_stays_the_answer(library: ToolLibrary) -> None:
    text = '{"name": "no.such_tool", "arguments": {}}'

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart(text)])

    result = await library.run_agent(QUERY, model=FunctionModel(respond))
    assert (result.answer, result.tool_calls, result.success) == (text, 0, False)


@pytest.mark.parametrize("status", ["completed: true", "Done.", '{"answer": "completed: true"}'])
async def test_an_answer_that_is_only_a_status_line_becomes_the_tool_result(
    library: ToolLibrary, status: str
) -> None:
    # Seen on the local model: after the result it echoed the instructions' words.
    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if returned(messages):
            return ModelResponse(parts=[TextPart(status)])
        return ModelResponse(parts=[ToolCallPart(TOOL, {"values": [3, 9, 27]})])

    result = await library.run_agent(QUERY, model=FunctionModel(respond))
    assert result.success is True
    assert '"mean": 13' in result.answer and '"median": 9' in result.answer


async def test_prose_instead_of_a_call_gets_one_reminder_to_call(library: ToolLibrary) -> None:
    # Seen on the local model: "To calculate it, use the stats function with the values…".
    prompts: list[str] = []

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        prompts.append(str(messages[-1]))
        if returned(messages):
            return ModelResponse(parts=[TextPart("The mean is 13 and the median is 9.")])
        if any("No tool has been called" in p for p in prompts):
            return ModelResponse(parts=[ToolCallPart(TOOL, {"values": [3, 9, 27]})])
        return ModelResponse(parts=[TextPart("Use the statistics tool on 3, 9 and 27.")])

    result = await library.run_agent(QUERY, model=FunctionModel(respond))
    assert result.success is True and result.tool_calls == 1
    assert result.answer == "The mean is 13 and the median is 9."


async def test_a_model_that_never_calls_is_reminded_only_once(library: ToolLibrary) -> None:
    answers: list[str] = []

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        answers.append("I think the mean is 13.")
        return ModelResponse(parts=[TextPart(answers[-1])])

    result = await library.run_agent(QUERY, model=FunctionModel(respond))
    assert len(answers) == 2  # the answer, the reminder, the same answer again: it stands
    assert result.answer == "I think the mean is 13."
    assert result.success is False and result.tool_calls == 0
