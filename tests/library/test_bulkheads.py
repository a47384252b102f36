"""Per-tool bulkheads on the real dispatcher: a tool whose slots are full is refused at once
(SaturatedError, recorded), while other tools run; a freed slot is used again."""

from __future__ import annotations

import asyncio

import pytest

from toolfoundry import Settings, ToolLibrary
from toolfoundry.core.errors import SaturatedError


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_concurrent_per_tool": 2, "bulkhead_wait": 0})


async def test_a_full_tool_is_refused_and_others_run(library: ToolLibrary) -> None:
    await library.register_module("sample_tools")
    slow = [asyncio.create_task(library.call("samples.sleepy", {"seconds": 0.15})) for _ in "ab"]
    await asyncio.sleep(0.02)
    with pytest.raises(SaturatedError) as caught:
        await library.call("samples.sleepy", {"seconds": 0.01})
    problem = caught.value.to_problem()
    assert problem["status"] == 503 and problem["limit"] == 2
    assert "samples.sleepy" in problem["detail"]
    assert (await library.call("samples.add", {"a": 1})).structured == 3
    assert all(not r.is_error for r in await asyncio.gather(*slow))
    assert not (await library.call("samples.sleepy", {"seconds": 0.01})).is_error
