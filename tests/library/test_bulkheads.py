"""Per-tool bulkheads on the real dispatcher: a tool whose slots are full is refused at once
(SaturatedError, recorded), while other tools run; a freed slot is used again."""

from __future__ import annotations

import asyncio
import time

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


def stuck(seconds: float) -> str:
    """Block a worker thread, as a sync tool that hangs does."""
    time.sleep(seconds)
    return "done"


def quick(text: str) -> str:
    """Answer at once from a worker thread."""
    return text.upper()


async def test_hung_sync_tool_leaves_threads_for_the_others(library: ToolLibrary) -> None:
    # More hung calls than the event loop's default pool has threads (cpu + 4): with the
    # per-tool limit of 2 only two of them run; the others are refused, not queued.
    await library.register(stuck, toolkit="hang", timeout=5)
    await library.register(quick, toolkit="hang")
    hung = [asyncio.create_task(library.call("hang.stuck", {"seconds": 1.5})) for _ in range(8)]
    await asyncio.sleep(0.1)
    started = time.perf_counter()
    assert (await library.call("hang.quick", {"text": "ok"})).structured == "OK"
    assert time.perf_counter() - started < 0.5
    outcomes = await asyncio.gather(*hung, return_exceptions=True)
    assert sum(isinstance(o, SaturatedError) for o in outcomes) == 6
