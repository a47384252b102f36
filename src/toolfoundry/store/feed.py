"""Following the change feed: every process learns what others wrote to the catalog.

Each process reads `catalog_changes` rows newer than the last it saw and hands the ones other
processes wrote to a handler. What wakes it: PostgreSQL `LISTEN` (the table's trigger NOTIFYs at
commit), an optional Redis message, and otherwise a cheap `max(id)` poll — the only way on
SQLite, and a safety net elsewhere (a lost LISTEN connection must not mean a stale process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from toolfoundry.core.models import utcnow
from toolfoundry.store.changes import CatalogChange
from toolfoundry.store.tables import CatalogChangeRow

log = logging.getLogger(__name__)

CHANNEL = "toolfoundry_catalog"
# PostgreSQL sequences can commit out of order: re-read this many ids below the newest seen.
_LOOKBACK = 200
KEEP_ROWS = 10_000
KEEP_FOR = timedelta(days=1)

Handler = Callable[[list[CatalogChange]], Awaitable[None]]


class ChangeFeed:
    """Follows the feed for one process (`origin`); `handler` gets others' changes, in order."""

    def __init__(
        self,
        engine: AsyncEngine,
        origin: str,
        handler: Handler,
        *,
        poll_interval: float | None = None,
        prune_every: float = 300.0,
    ) -> None:
        self._engine = engine
        self._origin = origin
        self._handler = handler
        self._postgres = engine.dialect.name == "postgresql"
        # SQLite: the poll is the only wake-up, and costs one indexed max() per interval.
        self._interval = poll_interval or (2.0 if self._postgres else 0.25)
        self._prune_every = prune_every
        self._wake = asyncio.Event()
        self._last = 0
        self._seen: deque[int] = deque(maxlen=4 * _LOOKBACK)
        self._task: asyncio.Task[None] | None = None
        self._listener: object | None = None  # the asyncpg connection LISTENing

    @property
    def position(self) -> int:
        """The newest change id this process has applied."""
        return self._last

    async def start(self, position: int | None = None) -> None:
        """Follow changes after `position` (default: the newest), which the caller has loaded."""
        self._last = await self.newest() if position is None else position
        if self._postgres:
            async with self._engine.connect() as conn:
                self._seen.extend(
                    (
                        await conn.scalars(
                            select(CatalogChangeRow.id).where(
                                CatalogChangeRow.id > self._last - _LOOKBACK
                            )
                        )
                    ).all()
                )
            await self._listen()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="change-feed")

    def wake(self) -> None:
        """Look for changes now (a NOTIFY, a Redis message, or a test that cannot wait)."""
        self._wake.set()

    async def newest(self) -> int:
        async with self._engine.connect() as conn:
            return int((await conn.execute(select(func.max(CatalogChangeRow.id)))).scalar() or 0)

    async def catch_up(self) -> None:
        """Apply every change committed so far (one pass; also what the loop runs)."""
        floor = max(0, self._last - _LOOKBACK) if self._postgres else self._last
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(CatalogChangeRow)
                    .where(CatalogChangeRow.id > floor)
                    .order_by(CatalogChangeRow.id)
                    .limit(5000)
                )
            ).all()
        fresh = [
            CatalogChange.from_row(row)  # type: ignore[arg-type]
            for row in rows
            if row.id not in self._seen and (row.id > self._last or self._postgres)
        ]
        if not fresh:
            return
        for change in fresh:
            self._seen.append(change.id)
        self._last = max(self._last, *(c.id for c in fresh))
        theirs = [c for c in fresh if c.origin != self._origin]
        if theirs:
            await self._handler(theirs)

    async def prune(self) -> int:
        """Keep the newest KEEP_ROWS changes of the last KEEP_FOR; a process that slept longer
        than that reloads everything on start anyway."""
        newest = await self.newest()
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(CatalogChangeRow).where(
                    (CatalogChangeRow.id <= newest - KEEP_ROWS)
                    | (CatalogChangeRow.created_at < utcnow() - KEEP_FOR)
                )
            )
        return result.rowcount or 0

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_prune = loop.time() + self._prune_every
        while True:
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow the cancel of aclose,
            # and this loop would then never end (a CLI run on PostgreSQL hung in its close).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                if self._postgres and self._listener is None:
                    await self._listen()
                await self.catch_up()
                if loop.time() >= next_prune:
                    next_prune = loop.time() + self._prune_every
                    await self.prune()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be restarting: keep following
                log.exception("change feed: could not read catalog changes; retrying")
                await asyncio.sleep(self._interval)

    async def _listen(self) -> None:
        """LISTEN on a dedicated asyncpg connection (pooled ones are shared and recycled)."""
        try:
            import asyncpg

            url = self._engine.url.set(drivername="postgresql")
            dsn = url.render_as_string(hide_password=False)
            conn = await asyncpg.connect(dsn)
            await conn.add_listener(CHANNEL, lambda *_args: self._wake.set())
            conn.add_termination_listener(lambda _conn: self._lost())
            self._listener = conn
        except Exception as exc:  # polling still finds every change, only later
            log.warning("change feed: LISTEN failed (%s); polling every %.1fs", exc, self._interval)

    def _lost(self) -> None:
        self._listener = None
        self._wake.set()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()  # type: ignore[attr-defined]
            self._listener = None
