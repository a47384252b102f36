"""The old-interface adapter and the blocking wrapper, over a real catalog."""

from __future__ import annotations

import sample_tools

from toolfoundry import Settings, ToolLibrary
from toolfoundry.compat import CompatibilityAdapter
from toolfoundry.sync import open_library


async def test_compat_capabilities_and_execute(library: ToolLibrary) -> None:
    await library.create_toolkit("samples", "sample tools", category="math")
    await library.register_module(sample_tools)
    await library.set_state("samples.divide", enabled=False)
    adapter = CompatibilityAdapter(library)

    by_category = await adapter.get_capabilities("math")
    assert "add" in by_category and "divide" not in by_category
    assert await adapter.get_capabilities("samples") == by_category
    assert await adapter.get_capabilities("nothing") == []

    ok = await adapter.execute_tool("samples", "add", {"a": 1, "b": 1})
    assert ok["success"] is True and ok["result"] == 2 and ok["tool"] == "samples.add@1.0.0"
    full_id = await adapter.execute_tool("samples.add", "", {"a": 2})
    assert full_id["result"] == 4
    bad = await adapter.execute_tool("samples", "add", {"a": "x"})
    assert bad["success"] is False and "a:" in bad["error"]
    unknown = await adapter.execute_tool("samples", "nope", {})
    assert unknown["success"] is False and "No tool named" in unknown["error"]


def test_sync_library(settings: Settings) -> None:
    with open_library(settings) as library:
        library.register_module("sample_tools")
        assert library.call("samples.add", {"a": 1}).structured == 3
        assert [t.id for t in library.list_tools(q="case")] == ["samples.change_case"]
        assert library.catalog_version > 0


def test_sync_trajectory(settings: Settings) -> None:
    with open_library(settings) as library:
        library.register_module("sample_tools")
        with library.trajectory("add one", scenario="arithmetic") as run:
            assert run.call("samples.add", {"a": 1}).structured == 3
            run.step("llm_reasoning", output_data={"answer": 3})
            run.succeed({"answer": 3})
        stored = library.trajectories.get(run.id)
        assert stored.final_success is True and stored.identified_scenario == "arithmetic"
        assert [s.step_type for s in stored.steps] == ["tool_execution", "llm_reasoning"]
        assert [t.trajectory_id for t in library.trajectories.list()] == [run.id]
