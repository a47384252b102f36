"""The two automatic fallbacks: discovery past its latency budget answers from its cache or the
static tools; build_missing switches itself off while recent builds fail too often."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models.function import AgentInfo, FunctionModel

from toolfoundry import Settings, ToolLibrary
from toolfoundry.builder.stages.sandbox import sandbox_available
from toolfoundry.discovery.results import CapabilityGap

QUERY = "convert 100 fahrenheit to celsius"


def _sample(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


async def _slow_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """The one part a test may replace: a model endpoint that answers late, then fails."""
    await asyncio.sleep(0.8)
    raise RuntimeError("upstream timed out")


@pytest.fixture
async def slow_library(settings: Settings) -> AsyncIterator[ToolLibrary]:
    """The starter catalog, a slow model, and a latency budget shorter than the model takes."""
    tight = settings.model_copy(
        update={"load_starters": True, "discovery_latency_budget": 0.3, "discovery_llm_timeout": 5}
    )
    lib = ToolLibrary(tight, llm=FunctionModel(_slow_model))
    await lib.start()
    await lib.discovery.wait_ready()  # type: ignore[union-attr]
    try:
        yield lib
    finally:
        await lib.aclose()


async def _cached(library: ToolLibrary) -> None:
    """Wait until the discovery that ran past the budget has finished and filled the cache."""
    for _ in range(600):
        if not library.discovery_guard._background:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the discovery past the budget never finished")


async def test_discovery_past_its_budget_answers_with_static_then_cached_tools(
    slow_library: ToolLibrary,
) -> None:
    before = _sample("toolfoundry_discovery_fallbacks_total", {"reason": "static"})
    first = await slow_library.discover(QUERY, top_k=3, mode="llm")
    assert first.fallback_reason and "static tools" in first.fallback_reason
    assert first.latency_ms == 300
    enabled = {t.id for t in await slow_library.list_tools(enabled=True)}
    assert len(first.tools) == 3 and {t.id for t in first.tools} <= enabled
    assert first.gaps == []  # nothing was analysed, so no gap is claimed
    assert _sample("toolfoundry_discovery_fallbacks_total", {"reason": "static"}) == before + 1
    assert slow_library.discovery_guard.summary.startswith("degraded: 1 answers")

    # The slow discovery went on (the model failed; retrieval answered) and its answer is kept.
    await _cached(slow_library)
    # A catalog change makes the index answer anew, past the budget again: the earlier real
    # answer comes back, marked as such, rather than the static tools.
    await slow_library.set_state("stats.histogram", enabled=False)
    second = await slow_library.discover(QUERY, top_k=3, mode="llm")
    assert second.fallback_reason and "earlier answer" in second.fallback_reason
    assert second.tools[0].id == "convert.convert_units"
    await _cached(slow_library)

    slow_library.discovery_guard.budget = 60.0
    await slow_library.set_state("stats.histogram", enabled=True)
    fresh = await slow_library.discover(QUERY, top_k=3, mode="llm")
    assert fresh.fallback_reason and "latency budget" not in fresh.fallback_reason
    assert [t.id for t in second.tools] == [t.id for t in fresh.tools]


async def test_static_answer_uses_the_configured_tools(settings: Settings) -> None:
    tight = settings.model_copy(
        update={"discovery_latency_budget": 0.1, "discovery_static_tools": ["samples.add"]}
    )
    lib = ToolLibrary(tight, llm=FunctionModel(_slow_model))
    await lib.start()
    try:
        await lib.register_module("sample_tools")
        result = await lib.discover("anything at all", top_k=5, mode="llm")
        await _cached(lib)
    finally:
        await lib.aclose()
    assert [t.id for t in result.tools] == ["samples.add"]


async def test_discovery_errors_are_not_hidden_by_the_fallback(slow_library: ToolLibrary) -> None:
    from toolfoundry.core.errors import ToolfoundryError

    slow_library.discovery_guard.budget = 60.0
    with pytest.raises(ToolfoundryError):
        await slow_library.discover(QUERY, toolkits=["no-such-toolkit"])


@pytest.mark.slow
async def test_automatic_building_switches_off_after_failed_builds_and_back_on(
    settings: Settings,
) -> None:
    status = sandbox_available()
    if not status.available:
        pytest.skip(f"bubblewrap sandbox unusable here: {status.reason}")
    strict = settings.model_copy(update={"auto_build_min_builds": 2, "auto_build_window": 5})
    async with ToolLibrary.open(strict) as lib:
        state = await lib.auto_build.state()
        assert state.enabled and state.success_rate is None
        assert _sample("toolfoundry_auto_build_enabled") == 1
        assert math.isnan(_sample("toolfoundry_build_recent_success_rate"))

        # Two real builds that fail: their one dependency does not exist on the package index.
        for n in range(2):
            requirement = {
                "description": f"Frobnicate widgets, variant {n}",
                "dependencies": [f"toolfoundry-no-such-package-{n}"],
            }
            record = await lib.build({"requirement": requirement}, budget=300)
            assert record.status == "failed", record

        state = await lib.auto_build.state()
        assert not state.enabled
        assert state.success_rate == 0 and state.builds == 2
        assert "0 of the last 2 builds succeeded" in state.reason
        assert _sample("toolfoundry_auto_build_enabled") == 0
        assert _sample("toolfoundry_build_recent_success_rate") == 0

        gap = CapabilityGap(description="Render a QR code as SVG", context="test")
        resolution = await lib.handle_capability_gap(gap, budget=5)
        assert resolution.status == "skipped"
        assert "automatic building is off" in resolution.message
        assert resolution.build_id is None
        assert len(await lib.builds.list()) == 2  # nothing was queued

        # Once the failures are older than the window, building resumes by itself.
        lib.auto_build.window_s = 0.001
        await asyncio.sleep(0.01)
        state = await lib.auto_build.state()
        assert state.enabled and state.reason == "no builds finished recently"
        assert _sample("toolfoundry_auto_build_enabled") == 1
