"""Registering function tools and calling them through the library, on a real database."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sample_tools

from toolfoundry import Settings, ToolLibrary
from toolfoundry.core.errors import (
    ArgumentsError,
    BackendUnavailableError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ToolExecutionError,
    ToolNotFoundError,
)


async def test_register_derives_schema_from_code(library: ToolLibrary) -> None:
    tool = await library.register(sample_tools.change_case)
    assert tool.id == "samples.change_case"
    assert tool.kind == "function"
    assert tool.version == "1.0.0"
    assert tool.description == "Change the case of a text."
    props = tool.input_schema["properties"]
    assert props["mode"]["enum"] == ["upper", "lower"]
    assert props["mode"]["default"] == "upper"
    assert props["text"]["description"] == "The text to change."
    assert tool.input_schema["required"] == ["text"]
    assert tool.source == "sample_tools:change_case"


async def test_call_sync_and_async_functions(library: ToolLibrary) -> None:
    await library.register_module(sample_tools)
    result = await library.call("samples.add", {"a": 40})
    assert (result.structured, result.content, result.is_error) == (42, "42", False)
    result = await library.call("samples.change_case", {"text": "Hi", "mode": "lower"})
    assert result.structured == "hi"


async def test_nested_models_are_coerced(library: ToolLibrary) -> None:
    await library.register(sample_tools.total_quantity)
    result = await library.call(
        "samples.total_quantity", {"items": [{"name": "a", "qty": 2}, {"name": "b"}]}
    )
    assert result.structured == {"total": 3, "lines": 2}


async def test_bad_arguments_name_path_and_problem(library: ToolLibrary) -> None:
    await library.register(sample_tools.total_quantity)
    with pytest.raises(ArgumentsError) as info:
        await library.call("samples.total_quantity", {"items": [{"name": "a", "qty": "many"}]})
    assert info.value.errors[0]["path"] == "items[0].qty"
    assert info.value.to_problem()["status"] == 422
    with pytest.raises(ArgumentsError) as info:
        await library.call("samples.total_quantity", {"items": [], "extra": 1})
    assert any(e["path"] == "extra" for e in info.value.errors)


async def test_unknown_tool_suggests_close_names(library: ToolLibrary) -> None:
    await library.register_module(sample_tools)
    with pytest.raises(ToolNotFoundError) as info:
        await library.call("samples.ad", {"a": 1})
    assert "samples.add" in info.value.suggestions
    assert info.value.to_problem()["status"] == 404


async def test_tool_exception_becomes_error_result_and_is_recorded(library: ToolLibrary) -> None:
    await library.register(sample_tools.divide)
    result = await library.call("samples.divide", {"a": 1, "b": 0})
    assert result.is_error
    assert result.error is not None and result.error.type == "ZeroDivisionError"
    with pytest.raises(ToolExecutionError):
        result.raise_for_error()
    ok = await library.call("samples.divide", {"a": 1, "b": 4})
    assert ok.structured == 0.25
    tool = await library.get_tool("samples.divide")
    assert tool.usage_count == 2
    assert tool.success_rate == 0.5
    calls = await library.recent_calls(tool_id="samples.divide")
    assert [c.success for c in calls] == [True, False]
    assert calls[1].error_type == "ZeroDivisionError"


async def test_timeout_is_enforced(library: ToolLibrary) -> None:
    await library.register(sample_tools.sleepy)  # decorator sets timeout=0.2 s
    result = await library.call("samples.sleepy", {"seconds": 5})
    assert result.is_error and result.error is not None
    assert result.error.type == "TimeoutError"
    assert result.duration_ms < 2000
    calls = await library.recent_calls(tool_id="samples.sleepy")
    assert calls[0].error_type == "TimeoutError"


async def test_only_transient_errors_are_retried(library: ToolLibrary) -> None:
    await library.register(sample_tools.flaky)  # retries=2
    key = uuid.uuid4().hex  # the sample keeps its counters per key, across tests
    result = await library.call("samples.flaky", {"key": key + "2", "failures": 2})
    assert not result.is_error and result.attempts == 3
    result = await library.call("samples.flaky", {"key": key + "3", "failures": 3})
    assert result.is_error and result.attempts == 3
    await library.register(sample_tools.divide)
    result = await library.call("samples.divide", {"a": 1, "b": 0})
    assert result.attempts == 1  # ZeroDivisionError is not transient


async def test_concurrency_is_limited(settings: Settings) -> None:
    limited = settings.model_copy(update={"max_concurrent_calls": 2})
    async with ToolLibrary.open(limited) as library:
        await library.register(sample_tools.sleepy, timeout=5)
        loop = asyncio.get_running_loop()
        start = loop.time()
        results = await asyncio.gather(
            *(library.call("samples.sleepy", {"seconds": 0.1}) for _ in range(4))
        )
        elapsed = loop.time() - start
    assert all(not r.is_error for r in results)
    assert elapsed >= 0.2  # four 0.1 s calls, two at a time


async def test_versions_newest_enabled_wins(library: ToolLibrary) -> None:
    await library.register(sample_tools.add, version="1.0.0")

    async def add_v2(a: int, b: int = 2) -> int:
        """Add two integers, then one more."""
        return a + b + 1

    await library.register(add_v2, toolkit="samples", name="add", version="1.10.0")
    assert (await library.call("samples.add", {"a": 1})).structured == 4
    assert (await library.call("samples.add@1.0.0", {"a": 1})).structured == 3

    tool = await library.set_state("samples.add@1.10.0", enabled=False)
    assert tool.version == "1.0.0"
    assert [v.version for v in tool.versions] == ["1.10.0", "1.0.0"]
    assert (await library.call("samples.add", {"a": 1})).structured == 3
    with pytest.raises(NotFoundError):
        await library.call("samples.add@1.10.0", {"a": 1})


async def test_same_version_with_changed_code_conflicts(library: ToolLibrary) -> None:
    await library.register(sample_tools.add)
    await library.register(sample_tools.add)  # identical: idempotent

    async def add(a: int, b: int, c: int) -> int:
        """Add three."""
        return a + b + c

    with pytest.raises(ConflictError):
        await library.register(add, toolkit="samples", version="1.0.0")


async def test_bad_registrations(library: ToolLibrary) -> None:
    with pytest.raises(InvalidInputError, match="semantic version"):
        await library.register(sample_tools.add, version="v2")
    with pytest.raises(InvalidInputError, match="toolkit"):
        await library.register(sample_tools.not_a_tool)
    with pytest.raises(InvalidInputError, match="not a valid name"):
        await library.register(sample_tools.add, toolkit="bad.kit")
    with pytest.raises(InvalidInputError, match="no @tool"):
        await library.register_module("json")
    with pytest.raises(InvalidInputError, match="cannot import"):
        await library.register_module("no_such_module_xyz")
    assert await library.list_tools() == []


async def test_disable_and_enable_at_run_time(library: ToolLibrary) -> None:
    await library.register(sample_tools.add)
    await library.set_state("samples.add", enabled=False)
    with pytest.raises(NotFoundError, match="disabled"):
        await library.call("samples.add", {"a": 1})
    assert [t.id for t in await library.list_tools(enabled=False)] == ["samples.add"]
    await library.set_state("samples.add", enabled=True, deprecated=True)
    tool = await library.get_tool("samples.add")
    assert tool.enabled and tool.deprecated
    assert (await library.call("samples.add", {"a": 1})).structured == 3


async def test_list_filters(library: ToolLibrary) -> None:
    await library.register_module(sample_tools)
    await library.create_toolkit("empty", "nothing yet", "misc")
    ids = [t.id for t in await library.list_tools(toolkit="samples")]
    assert "samples.add" in ids and "samples.not_a_tool" not in ids
    assert [t.id for t in await library.list_tools(q="case")] == ["samples.change_case"]
    assert [t.id for t in await library.list_tools(q="math")] == ["samples.add"]  # by tag
    kits = {k.id: k for k in await library.list_toolkits()}
    assert kits["empty"].tool_count == 0 and kits["samples"].tool_count == len(ids)
    with pytest.raises(ConflictError):
        await library.create_toolkit("empty")


async def test_catalog_survives_restart(settings: Settings) -> None:
    async with ToolLibrary.open(settings) as library:
        await library.register_module(sample_tools)
        await library.set_state("samples.divide", enabled=False)
        await library.call("samples.add", {"a": 1})
    async with ToolLibrary.open(settings) as library:
        tools = {t.id: t for t in await library.list_tools()}
        assert tools["samples.add"].usage_count == 1
        assert not tools["samples.divide"].enabled
        # Re-imported from its reference: callable without registering again.
        assert (await library.call("samples.add", {"a": 5})).structured == 7


async def test_unimportable_function_is_listed_but_unavailable(settings: Settings) -> None:
    def local_tool(x: int) -> int:
        """A function defined in a test: it cannot be re-imported."""
        return x

    async with ToolLibrary.open(settings) as library:
        await library.register(local_tool, toolkit="ephemeral")
        assert (await library.call("ephemeral.local_tool", {"x": 3})).structured == 3
    async with ToolLibrary.open(settings) as library:
        assert [t.id for t in await library.list_tools()] == ["ephemeral.local_tool"]
        with pytest.raises(BackendUnavailableError, match="cannot load"):
            await library.call("ephemeral.local_tool", {"x": 3})


async def test_concurrent_registrations_lose_nothing(settings: Settings) -> None:
    """Two library instances (as two processes would) registering at once on one database."""

    def make(i: int):  # distinct tools with distinct import references are not needed here
        async def fn(x: int) -> int:
            """Identity."""
            return x

        fn.__qualname__ = f"fn_{i}"
        return fn

    async with ToolLibrary.open(settings) as first, ToolLibrary.open(settings) as second:
        await asyncio.gather(
            *(
                lib.register(make(i), toolkit=f"kit{i % 3}", name=f"tool_{i}")
                for i in range(24)
                for lib in ([first] if i % 2 else [second])
            ),
            *(
                first.register(make(100 + v), toolkit="shared", name="same", version=f"1.{v}.0")
                for v in range(6)
            ),
        )
        tools = await first.list_tools()
    assert len(tools) == 25
    shared = next(t for t in tools if t.id == "shared.same")
    assert len(shared.versions) == 6 and shared.version == "1.5.0"
