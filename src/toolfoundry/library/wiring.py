"""The composition root: every part of a library, built once and handed what it needs.

Nothing below this module receives the library. The parts get narrow dependencies — the
session factory, the change bus, a tool caller, a catalog reader, the LLM — and this module
alone knows how they fit together and in which order they start and stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from toolfoundry.core.policy import ToolPolicy
from toolfoundry.core.private_files import private_dir
from toolfoundry.core.settings import Settings
from toolfoundry.discovery.embedders import Embedder
from toolfoundry.discovery.service import (
    DiscoveryService,
    embedder_from_settings,
    multilingual_from_settings,
)
from toolfoundry.library.calls import DurableCalls
from toolfoundry.library.calltable import CallTableLoader
from toolfoundry.library.changes import ChangeBus
from toolfoundry.library.discovering import GuardedDiscovery
from toolfoundry.library.examples import ExampleWriter
from toolfoundry.library.follow import FeedFollower
from toolfoundry.library.reads import CatalogReads
from toolfoundry.library.registration import FunctionRegistrar
from toolfoundry.llm import build_model
from toolfoundry.mcp import McpConnectionManager
from toolfoundry.registry.catalog import Catalog
from toolfoundry.registry.mcp_servers import McpServerRegistry
from toolfoundry.registry.views import VirtualServerStore
from toolfoundry.runtime.backends import BackendRegistry
from toolfoundry.runtime.bulkheads import Bulkheads
from toolfoundry.runtime.dispatcher import Dispatcher
from toolfoundry.runtime.entries import ToolTable
from toolfoundry.runtime.function_backend import FunctionBackend
from toolfoundry.runtime.mcp_backend import McpBackend
from toolfoundry.runtime.recorder import CallRecorder
from toolfoundry.store.changes import new_origin
from toolfoundry.store.database import create_engine, session_factory, upgrade
from toolfoundry.store.events import RedisCatalogEvents
from toolfoundry.store.feed import ChangeFeed

if TYPE_CHECKING:
    from pydantic_ai.models import Model

    from toolfoundry.trajectory.service import TrajectoryService


@dataclass(eq=False)
class Services:
    """The parts of one library. Built by `wire`; started and closed as one."""

    settings: Settings
    engine: AsyncEngine
    origin: str
    sessions: async_sessionmaker[AsyncSession]
    catalog: Catalog
    table: ToolTable
    functions: FunctionBackend
    mcp: McpConnectionManager
    backends: BackendRegistry
    bus: ChangeBus
    calltable: CallTableLoader
    servers: McpServerRegistry
    recorder: CallRecorder
    views: VirtualServerStore
    dispatcher: Dispatcher
    calls: DurableCalls
    reads: CatalogReads
    registrar: FunctionRegistrar
    follower: FeedFollower
    feed: ChangeFeed
    discovery: GuardedDiscovery
    llm: Model | None
    examples: ExampleWriter
    embedder: Embedder | None = None
    with_discovery: bool = True
    """False in a process that only builds: no discovery index, no embedding model loaded."""
    events: RedisCatalogEvents | None = None
    started: bool = False

    def trajectories(self) -> TrajectoryService:
        """Runs and what they teach, over the session factory, calls, reads and the bus."""
        from toolfoundry.trajectory.service import TrajectoryService

        return TrajectoryService(
            self.sessions,
            caller=self.calls,
            reader=self.reads,
            discover=self.discovery.discover,
            learned=self.bus.learned,
        )

    async def start(self) -> None:
        if self.started:
            return
        await upgrade(self.engine)
        # Read before loading anything: a change committed while we load is applied after.
        position = await self.feed.newest()
        if self.settings.load_starters:
            await self.registrar.load_starters()
        await self.servers.restore()
        await self.calltable.reload()
        if self.with_discovery:
            self._start_discovery()
        await self.feed.start(position)
        if self.settings.redis_url:  # only wakes the feed sooner; the feed is the truth
            self.events = RedisCatalogEvents(self.settings.redis_url, self._wake_feed)
            await self.events.start()
            self.bus.accelerator = self.events.publish
        self.started = True

    def _start_discovery(self) -> None:
        """Discovery builds its index in the background (see `DiscoveryService`)."""
        self.discovery.service = DiscoveryService(
            self.reads,
            self.bus,
            self.sessions,
            self.embedder or embedder_from_settings(self.settings),
            model=self.llm,
            multilingual=None
            if self.embedder is not None
            else multilingual_from_settings(self.settings),
            gap_threshold=self.settings.discovery_gap_threshold,
            min_absence=self.settings.discovery_gap_min_absence,
            llm_timeout=self.settings.discovery_llm_timeout,
        )

    async def stop_following(self) -> None:
        """Stop hearing other processes' changes (the first step of closing)."""
        await self.feed.aclose()
        if self.events is not None:
            self.bus.accelerator = None
            await self.events.aclose()
            self.events = None

    def start_writing_examples(self) -> None:
        """In a serving process with `discovery_generate_examples`: examples for new tools."""
        if self.settings.discovery_generate_examples and self.llm is not None:
            self.bus.on_change(self.examples.changed)
            self.examples.start_background()

    async def aclose(self) -> None:
        await self.examples.aclose()
        await self.stop_following()
        await self.discovery.aclose()
        await self.mcp.aclose()  # closes every session and reaps every stdio child
        self.functions.close()
        await self.recorder.aclose()
        await self.engine.dispose()
        self.started = False

    async def _wake_feed(self, _event: str, _ids: list[str]) -> None:
        self.feed.wake()


def wire(
    settings: Settings,
    *,
    llm: Model | None = None,
    embedder: Embedder | None = None,
    with_discovery: bool = True,
) -> Services:
    """Build every part of a library for `settings` (nothing runs until `start`)."""
    # Owner-only: the catalog, build artefacts and tokens live here.
    private_dir(Path(settings.data_dir))
    private_dir(Path(settings.data_dir) / "files")
    engine = create_engine(settings.resolved_database_url)
    # Whose writes are whose in the change feed: this library skips its own.
    origin = new_origin()
    sessions = session_factory(engine, origin)
    catalog = Catalog(sessions)
    table = ToolTable()
    functions = FunctionBackend(
        ToolPolicy.from_settings(settings), threads=settings.max_concurrent_calls
    )
    mcp = McpConnectionManager(allowed_commands=settings.stdio_command_list)
    backends = BackendRegistry()
    backends.register(functions)
    backends.register(McpBackend(mcp))
    calltable = CallTableLoader(catalog, backends, table)
    bus = ChangeBus(calltable.reload, catalog.record_changes)

    async def servers_changed(tool_ids: list[str]) -> None:
        # "servers": other replicas also (re)connect the set of registered MCP servers.
        await bus.changed("servers", tool_ids)

    servers = McpServerRegistry(sessions, catalog, mcp, servers_changed)
    recorder = CallRecorder(
        catalog,
        durable=settings.durable_call_records,
        commit_window=settings.call_record_commit_window,
    )
    dispatcher = Dispatcher(
        table,
        backends,
        recorder,
        default_timeout=settings.default_timeout,
        max_concurrent=settings.max_concurrent_calls,
        retry_backoff=settings.retry_backoff,
        bulkheads=Bulkheads(
            per_tool=settings.max_concurrent_per_tool,
            per_group=settings.max_concurrent_per_server,
            wait=settings.bulkhead_wait,
        ),
    )
    reads = CatalogReads(catalog, recorder, table)
    model = llm if llm is not None else build_model(settings)
    follower = FeedFollower(bus, mcp, servers)
    return Services(
        settings=settings,
        engine=engine,
        origin=origin,
        sessions=sessions,
        catalog=catalog,
        table=table,
        functions=functions,
        mcp=mcp,
        backends=backends,
        bus=bus,
        calltable=calltable,
        servers=servers,
        recorder=recorder,
        # Virtual servers: named views of the catalog, each its own MCP endpoint.
        views=VirtualServerStore(sessions),
        dispatcher=dispatcher,
        calls=DurableCalls(dispatcher, recorder),
        reads=reads,
        registrar=FunctionRegistrar(catalog, functions, bus.changed),
        follower=follower,
        feed=ChangeFeed(engine, origin, follower.apply),
        discovery=GuardedDiscovery(settings, reads),
        llm=model,
        examples=ExampleWriter(
            catalog, model, bus.changed, timeout=settings.discovery_examples_timeout
        ),
        embedder=embedder,
        with_discovery=with_discovery,
    )
