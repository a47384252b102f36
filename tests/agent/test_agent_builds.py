"""The whole loop with one scripted model: a request no tool covers → a capability gap → a
CodeReAct build (failing first, healed second) → the new sandboxed MCP tool is offered to the
agent, which calls it and answers; every step is one trajectory."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from openai_stub import OpenAIStub, StubRequest, ToolCall

from toolfoundry import Settings, ToolLibrary
from toolfoundry.builder.stages.sandbox import sandbox_available
from toolfoundry.trajectory import StepType

sys.path.insert(0, str(Path(__file__).parents[1] / "builder"))
from test_llm_loop import add_script

pytestmark = pytest.mark.skipif(
    not sandbox_available().available, reason=sandbox_available().reason or "no sandbox"
)


def model(request: StubRequest) -> str | dict | ToolCall:
    """The builder's requests go to the build script; the agent calls the tool it is offered."""
    agent_tools = [t for t in request.tools if not t.startswith("final_result")]
    if not agent_tools:
        return add_script(request)
    returned = [m for m in request.messages if m.get("role") == "tool"]
    if returned:
        value = json.loads(returned[-1]["content"])
        total = value["result"] if isinstance(value, dict) else value
        return {"answer": f"2 + 3 = {total}", "completed": True}
    return ToolCall(agent_tools[0], {"a": 2, "b": 3})


@pytest.mark.slow
async def test_the_agent_builds_what_is_missing_then_uses_it(tmp_path: Path) -> None:
    with OpenAIStub(script=model) as stub:
        settings = Settings(
            data_dir=tmp_path,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}",
            load_starters=False,
            llm_model="openai:stub",
            llm_base_url=stub.url,
            gap_build_budget=300,
        )
        async with ToolLibrary.open(settings) as library:
            result = await library.run_agent(
                "add two integers", build_missing=True, discover_mode="retrieval"
            )
            assert result.success is True and result.answer == "2 + 3 = 5"
            assert [g.status for g in result.gaps] == ["built"]
            assert result.tools_used == result.gaps[0].tools[:1]
            assert result.discovery.gaps == []  # discovery after the build covers the request

            run = await library.trajectories.get(result.trajectory_id)
            kinds = [s.step_type for s in run.steps or []]
            assert kinds.count(StepType.CAPABILITY_BUILD) == 1
            assert kinds.index(StepType.CAPABILITY_BUILD) < kinds.index(StepType.TOOL_EXECUTION)
            assert kinds[-2:] == [StepType.TOOL_EXECUTION, StepType.LLM_REASONING]
            build_step = next(s for s in run.steps or [] if s.step_type == "capability_build")
            assert build_step.output_data["status"] == "built" and build_step.success
            build = await library.builds.get(result.gaps[0].build_id or "")
            assert [i.outcome for i in build.result.iterations] == ["failed", "passed"]  # type: ignore[union-attr]
