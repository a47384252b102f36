"""Redis pub/sub between processes: an accelerator for the change feed, never its truth.

The catalog's change feed (`store/feed.py`) is how a process learns what others wrote; a Redis
message only wakes the followers sooner than their poll would. Without Redis (the embedded
default) nothing is lost, only up to one poll interval of latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

CHANNEL = "toolfoundry:catalog"

Handler = Callable[[str, list[str]], Awaitable[None]]


class RedisCatalogEvents:
    def __init__(self, url: str, handler: Handler, *, channel: str | None = None) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._handler = handler
        self._channel = channel or CHANNEL
        self.origin = uuid.uuid4().hex  # our own messages come back to us: skip them
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen())
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def publish(self, event: str, ids: list[str]) -> None:
        message = json.dumps({"origin": self.origin, "event": event, "ids": ids})
        try:
            await self._redis.publish(self._channel, message)
        except Exception as exc:  # other replicas will be stale; this one must keep working
            log.warning("could not publish catalog change to Redis: %s", exc)

    async def _listen(self) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self._channel)
        self._subscribed.set()
        try:
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                try:
                    data = json.loads(message["data"])
                    if data.get("origin") == self.origin:
                        continue
                    await self._handler(str(data["event"]), [str(i) for i in data["ids"]])
                except Exception:
                    log.exception("bad catalog event %r", message.get("data"))
        finally:
            await pubsub.aclose()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._redis.aclose()
