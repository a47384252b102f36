"""Trajectories on a real catalog: runs recorded step by step, bad input refused, and what
finished runs teach flowing back into effectiveness, descriptions and discovery."""

from __future__ import annotations

import asyncio

import pytest
import sample_tools

from toolfoundry import Settings, ToolLibrary
from toolfoundry.core.errors import (
    ArgumentsError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from toolfoundry.trajectory import StepInput, StepType, TrajectoryFinish, TrajectoryStart


@pytest.fixture
async def library(library: ToolLibrary) -> ToolLibrary:
    await library.register_module(sample_tools)
    return library


async def test_a_run_records_its_steps_in_order(library: ToolLibrary) -> None:
    async with library.trajectory("add two and three", scenario="arithmetic") as run:
        await run.step("task_decomposition", output_data={"tasks": ["add"]})
        result = await run.call("samples.add", {"a": 2, "b": 3})
        with pytest.raises(ArgumentsError):
            await run.call("samples.add", {"a": "two"})
        run.succeed({"answer": result.structured})

    stored = await library.trajectories.get(run.id)
    assert stored.status == "succeeded" and stored.final_success is True
    assert stored.final_result == {"answer": 5} and stored.identified_scenario == "arithmetic"
    assert stored.total_steps == 3 and stored.total_execution_time is not None
    steps = stored.steps or []
    assert [(s.step_index, s.step_type, s.tool_id, s.success) for s in steps] == [
        (1, StepType.TASK_DECOMPOSITION, None, True),
        (2, StepType.TOOL_EXECUTION, "samples.add", True),
        (3, StepType.TOOL_EXECUTION, "samples.add", False),
    ]
    assert steps[1].input_data == {"arguments": {"a": 2, "b": 3}, "version": "1.0.0"}
    assert steps[2].error_type == "ArgumentsError" and "a:" in steps[2].output_data["error"]
    # The failing call is in the call log too: one source of truth for usage.
    assert (await library.get_tool("samples.add")).usage_count == 2


async def test_an_exception_fails_the_run_and_still_propagates(library: ToolLibrary) -> None:
    with pytest.raises(RuntimeError, match="agent crashed"):
        async with library.trajectory("divide one by zero") as run:
            await run.call("samples.divide", {"a": 1, "b": 0})
            raise RuntimeError("agent crashed")
    stored = await library.trajectories.get(run.id)
    assert stored.status == "failed"
    assert stored.final_result == {"error": "RuntimeError: agent crashed"}
    assert stored.steps and stored.steps[0].error_type == "ZeroDivisionError"


async def test_bad_input_is_refused_and_nothing_is_written(library: ToolLibrary) -> None:
    trajectories = library.trajectories
    with pytest.raises(NotFoundError, match="no trajectory 'tr_nope'"):
        await trajectories.add_step("tr_nope", StepInput(step_type=StepType.TOOL_SELECTION))
    with pytest.raises(NotFoundError):
        await trajectories.finish("tr_nope", TrajectoryFinish(success=True))
    run = (await trajectories.start(TrajectoryStart(query="add numbers"))).trajectory_id
    with pytest.raises(InvalidInputError, match="needs tool_id"):
        await trajectories.add_step(run, StepInput(step_type=StepType.TOOL_EXECUTION))
    with pytest.raises(InvalidInputError, match="query is empty"):
        await trajectories.start(TrajectoryStart(query="   "))
    await trajectories.finish(run, TrajectoryFinish(success=False))
    with pytest.raises(ConflictError, match="already finished"):
        await trajectories.add_step(run, StepInput(step_type=StepType.TOOL_SELECTION))
    with pytest.raises(ConflictError):
        await trajectories.finish(run, TrajectoryFinish(success=True))
    stored = await trajectories.get(run)
    assert stored.total_steps == 0 and stored.steps == [] and stored.status == "failed"
    assert await trajectories.store.count() == 1
    async with library.trajectory("typos") as typo:
        with pytest.raises(InvalidInputError, match="step_type: Input should be") as caught:
            await typo.step("thinking")
        assert "task_decomposition" in (caught.value.hint or "")
        with pytest.raises(InvalidInputError, match="ouput_data: Extra inputs"):
            await typo.step("llm_reasoning", ouput_data={})
    assert (await trajectories.get(typo.id)).total_steps == 0


async def test_concurrent_steps_lose_nothing(library: ToolLibrary) -> None:
    run = await library.trajectories.start(TrajectoryStart(query="many parallel calls"))
    run_id = run.trajectory_id
    await asyncio.gather(
        *(library.trajectories.call(run_id, "samples.add", {"a": i}) for i in range(40))
    )
    stored = await library.trajectories.get(run_id)
    assert [s.step_index for s in stored.steps or []] == list(range(1, 41))
    assert sorted(s.input_data["arguments"]["a"] for s in stored.steps or []) == list(range(40))


async def test_run_outcomes_move_effectiveness(library: ToolLibrary) -> None:
    """Two tools whose calls all succeed: the one used in failed runs ends up less effective."""
    for i in range(6):
        async with library.trajectory(f"shout the text {i}") as run:
            await run.call("samples.change_case", {"text": "hi"})
            run.fail()
        async with library.trajectory(f"add the numbers {i}") as run:
            await run.call("samples.add", {"a": i})
    shouted = await library.get_tool("samples.change_case")
    added = await library.get_tool("samples.add")
    assert shouted.success_rate == added.success_rate == 1.0
    assert added.effectiveness_score > shouted.effectiveness_score + 0.2


async def test_insights_and_learned_descriptions(library: ToolLibrary) -> None:
    for i in range(4):
        async with library.trajectory(f"split the bill {i}", scenario="finance") as run:
            await run.call("samples.add", {"a": i, "b": 1})
            await run.call("samples.divide", {"a": 1, "b": 0 if i % 2 else 4})
    insights = await library.tool_insights("samples.divide")
    assert insights.calls == 4 and insights.call_success_rate == 0.5
    assert insights.runs == 4 and insights.run_success_rate == 1.0
    assert [(s.scenario_type, s.usage_count, s.run_count) for s in insights.scenarios] == [
        ("finance", 4, 4)
    ]
    error = insights.common_errors[0]
    assert (error.type, error.count, error.share) == ("ZeroDivisionError", 2, 0.5)
    assert insights.example_requests[0] == "split the bill 2"  # newest successful use first
    assert [c.tool_id for c in insights.used_with] == ["samples.add"]
    assert any(
        n.startswith("Watch out: 50% of calls failed with ZeroDivisionError")
        for n in insights.notes
    )
    assert "Worked well in: finance." in insights.notes

    described = await library.describe("samples.divide", "openai", learned=True)
    text = described["function"]["description"]
    assert "From usage:" in text and "ZeroDivisionError" in text
    plain = await library.describe("samples.divide", "openai")
    assert "From usage" not in plain["function"]["description"]
    fresh = await library.tool_insights("samples.total_quantity")
    assert fresh.calls == 0 and fresh.notes == []
    with pytest.raises(NotFoundError):
        await library.tool_insights("samples.nope")


async def test_combinations(library: ToolLibrary) -> None:
    for i in range(3):
        async with library.trajectory(f"order total {i}", scenario="orders") as run:
            await run.call("samples.total_quantity", {"items": [{"name": "x"}]})
            await run.call("samples.add", {"a": i})
            await run.call("samples.add", {"a": i})
            if i == 2:
                run.fail()
    async with library.trajectory("just add") as run:
        await run.call("samples.add", {"a": 1})
    found = await library.trajectories.combinations()
    assert len(found) == 1
    combo = found[0]
    assert combo.tools == ["samples.total_quantity", "samples.add"]
    assert (combo.scenario, combo.runs) == ("orders", 3)
    assert combo.success_rate == pytest.approx(2 / 3)
    assert await library.trajectories.combinations(scenario="other") == []


async def test_listing_filters(library: ToolLibrary) -> None:
    async with library.trajectory("add", scenario="a") as run:
        await run.call("samples.add", {"a": 1})
    async with library.trajectory("shout", scenario="b") as other:
        await other.call("samples.change_case", {"text": "x"})
        other.fail()
    assert [t.trajectory_id for t in await library.trajectories.list()] == [other.id, run.id]
    assert [t.trajectory_id for t in await library.trajectories.list(success=True)] == [run.id]
    assert [t.trajectory_id for t in await library.trajectories.list(scenario="b")] == [other.id]
    assert [t.trajectory_id for t in await library.trajectories.list(tool_id="samples.add")] == [
        run.id
    ]
    assert (await library.trajectories.list(limit=1))[0].steps is None


@pytest.fixture
def starters(settings: Settings) -> Settings:
    return settings.model_copy(update={"load_starters": True})


async def test_finished_runs_teach_discovery_and_survive_a_restart(starters: Settings) -> None:
    """A request worded unlike any description: after successful runs served it with a tool,
    that tool ranks first for similar requests, also after a restart."""
    query = "how spread out are my numbers"
    expected = "stats.descriptive_statistics"
    async with ToolLibrary.open(starters) as library:
        before = [t.id for t in (await library.discover(query, mode="retrieval")).tools]
        assert before[0] != expected  # the premise: retrieval alone does not get it right
        for numbers in ([3, 9, 27], [1, 2], [5, 5, 6]):
            async with library.trajectory(f"how spread out are these numbers: {numbers}") as run:
                await run.call(expected, {"values": numbers})
        after = await library.discover(query, mode="retrieval")
        assert after.tools[0].id == expected
        version = library.catalog_version
        # A failed run teaches nothing to discovery's index words.
        async with library.trajectory("how spread out are my dates") as run:
            await run.call("datetime.parse_datetime", {"text": "yesterday"})
            run.fail()
        assert library.catalog_version > version  # cached results were invalidated
    async with ToolLibrary.open(starters) as restarted:
        again = await restarted.discover(query, mode="retrieval")
        assert again.tools[0].id == expected
        doc = restarted.discovery.index.get("datetime.parse_datetime")  # type: ignore[union-attr]
        assert doc is not None and doc.served_requests == []


async def test_prune_keeps_running_runs_and_learned_metrics(library: ToolLibrary) -> None:
    for i in range(2):
        async with library.trajectory(f"add numbers {i}") as run:
            await run.call("samples.add", {"a": i})
    running = await library.trajectories.start(TrajectoryStart(query="still going"))
    await library.trajectories.call(running.trajectory_id, "samples.add", {"a": 9})
    assert await library.trajectories.prune(older_than_days=30) == 0
    assert await library.trajectories.prune(older_than_days=0) == 2
    assert [t.trajectory_id for t in await library.trajectories.list()] == [running.trajectory_id]
    insights = await library.tool_insights("samples.add")
    assert insights.runs == 2 and insights.example_requests == []  # metrics stay, words go
    assert len((await library.trajectories.get(running.trajectory_id)).steps or []) == 1
