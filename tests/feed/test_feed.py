"""The change feed inside one test process: what each write records, libraries following each
other without Redis, and pruning."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
import sample_tools
from fastmcp import FastMCP
from sqlalchemy import func, select

from toolfoundry import Settings, ToolLibrary
from toolfoundry.core.errors import ConflictError, NotFoundError
from toolfoundry.store import feed as feed_module
from toolfoundry.store.changes import CatalogChange, ChangeEvent
from toolfoundry.store.tables import CatalogChangeRow


async def changes_after(library: ToolLibrary, position: int) -> list[tuple[ChangeEvent, str]]:
    async with library.catalog.sessions() as session:
        rows = await session.scalars(
            select(CatalogChangeRow)
            .where(CatalogChangeRow.id > position)
            .order_by(CatalogChangeRow.id)
        )
        return [(ChangeEvent(r.event), r.subject) for r in rows]


def weather_server() -> FastMCP:
    server = FastMCP("weather")

    @server.tool
    def forecast(city: str) -> str:
        """Forecast the weather for a city."""
        return f"clear over {city}"

    return server


async def test_every_catalog_write_records_a_typed_change(library: ToolLibrary) -> None:
    start = await library.feed.newest()
    await library.register(sample_tools.add)
    assert await changes_after(library, start) == [
        (ChangeEvent.TOOLKIT_CHANGED, "samples"),
        (ChangeEvent.TOOL_REGISTERED, "samples.add"),
        (ChangeEvent.VERSION_ADDED, "samples.add"),
    ]

    mark = await library.feed.newest()
    await library.set_state("samples.add", enabled=False)
    assert await changes_after(library, mark) == [(ChangeEvent.TOOL_STATE_CHANGED, "samples.add")]

    mark = await library.feed.newest()
    await library.add_mcp_server({"name": "sky", "command": "unused"}, server=weather_server())
    recorded = await changes_after(library, mark)
    assert (ChangeEvent.MCP_SERVER_ADDED, "sky") in recorded
    assert (ChangeEvent.VERSION_ADDED, "sky.forecast") in recorded
    assert (ChangeEvent.MCP_TOOLS_REFRESHED, "sky") in recorded

    mark = await library.feed.newest()
    await library.remove_mcp_server("sky")
    assert await changes_after(library, mark) == [
        (ChangeEvent.TOOL_REMOVED, "sky.forecast"),
        (ChangeEvent.MCP_SERVER_REMOVED, "sky"),
    ]


async def test_a_refused_write_records_nothing(library: ToolLibrary) -> None:
    await library.register(sample_tools.add)
    mark = await library.feed.newest()

    async def add(a: int, b: int, c: int) -> int:
        """Add three."""
        return a + b + c

    with pytest.raises(ConflictError):
        await library.register(add, toolkit="samples", name="add", version="1.0.0")
    assert await changes_after(library, mark) == []


async def test_libraries_follow_each_other_without_redis(settings: Settings) -> None:
    assert settings.redis_url is None
    async with ToolLibrary.open(settings) as first, ToolLibrary.open(settings) as second:
        seen: list[CatalogChange] = []

        async def subscriber(changes: list[CatalogChange]) -> None:
            seen.extend(changes)

        second.on_feed(subscriber)
        version_before = second.catalog_version
        start = time.perf_counter()
        await first.register(sample_tools.change_case)
        while True:
            try:
                result = await second.call("samples.change_case", {"text": "a"})
                break
            except NotFoundError:
                assert time.perf_counter() - start < 5, "the second library never saw it"
                await asyncio.sleep(0.02)
        assert result.structured == "A"
        assert time.perf_counter() - start <= 1.0
        assert second.catalog_version > version_before  # gateway and discovery caches move on
        assert {c.event for c in seen} >= {ChangeEvent.TOOL_REGISTERED, ChangeEvent.VERSION_ADDED}
        assert all(c.origin == first.origin for c in seen)
        assert all(c.created_at.utcoffset() == timedelta(0) for c in seen)  # tz-aware UTC


async def test_prune_keeps_the_newest_changes(
    library: ToolLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed_module, "KEEP_ROWS", 2)
    await library.register(sample_tools.add)
    await library.register(sample_tools.change_case)  # 5 changes in all
    newest = await library.feed.newest()
    assert await library.feed.prune() == 3
    async with library.catalog.sessions() as session:
        left = (await session.scalars(select(CatalogChangeRow.id))).all()
        assert sorted(left) == [newest - 1, newest]
        assert await session.scalar(select(func.count()).select_from(CatalogChangeRow)) == 2
