"""Two replicas on one database: catalog changes reach the other (change feed, woken by Redis)."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
import sample_tools

from toolfoundry import Settings, ToolLibrary
from toolfoundry.core.errors import NotFoundError

REDIS_URL = os.environ.get("TOOLFOUNDRY_TEST_REDIS_URL")


async def eventually(check) -> None:  # type: ignore[no-untyped-def]
    """Poll `check` until it holds; fail after 5 s."""
    try:
        async with asyncio.timeout(5):
            while True:
                try:
                    if await check():
                        return
                except NotFoundError:
                    pass
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError("the other replica never saw the change") from None


@pytest.mark.skipif(not REDIS_URL, reason="TOOLFOUNDRY_TEST_REDIS_URL not set")
async def test_changes_reach_the_other_replica(settings: Settings) -> None:
    # A channel of our own keeps parallel test runs on one Redis apart.
    shared = settings.model_copy(update={"redis_url": REDIS_URL})
    channel = f"toolfoundry:test:{uuid.uuid4().hex}"
    from toolfoundry.store import events

    original = events.CHANNEL
    events.CHANNEL = channel
    try:
        async with ToolLibrary.open(shared) as first, ToolLibrary.open(shared) as second:
            await second.discovery.wait_ready()
            await first.register(sample_tools.change_case)

            async def callable_on_second() -> bool:
                result = await second.call("samples.change_case", {"text": "a"})
                return result.structured == "A"

            await eventually(callable_on_second)

            async def discoverable_on_second() -> bool:
                found = await second.discover("change text to upper case", top_k=3)
                return "samples.change_case" in [t.id for t in found.tools]

            await eventually(discoverable_on_second)

            await first.set_state("samples.change_case", enabled=False)

            async def disabled_on_second() -> bool:
                try:
                    await second.call("samples.change_case", {"text": "a"})
                except NotFoundError:
                    return True
                return False

            await eventually(disabled_on_second)

            # What a run finished on one replica teaches the other's discovery index.
            await first.register(sample_tools.add)
            async with first.trajectory("sum of the invoice lines") as run:
                await run.call("samples.add", {"a": 1})

            async def learned_on_second() -> bool:
                doc = second.discovery.index.get("samples.add")  # type: ignore[union-attr]
                return doc is not None and doc.served_requests == ["sum of the invoice lines"]

            await eventually(learned_on_second)
    finally:
        events.CHANNEL = original
