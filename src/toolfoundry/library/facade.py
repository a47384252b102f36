"""`ToolLibrary`: the Python API over the catalog, the dispatcher and their storage.

A thin facade: every part is built and wired in `wiring.py`; each method here delegates to the
part that does the work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import ValidationError

from toolfoundry.core.errors import InvalidInputError
from toolfoundry.core.models import CallRecord, Tool, ToolKind, Toolkit, ToolResult
from toolfoundry.core.settings import Settings, get_settings
from toolfoundry.discovery.embedders import Embedder
from toolfoundry.discovery.results import CapabilityGap, DiscoveryResult
from toolfoundry.discovery.service import DiscoverMode, DiscoveryService
from toolfoundry.library.changes import ChangeListener
from toolfoundry.library.examples import ExamplesWritten
from toolfoundry.library.follow import FeedSubscriber
from toolfoundry.library.registration import Bump
from toolfoundry.library.wiring import wire
from toolfoundry.mcp import McpServerConfig
from toolfoundry.registry.catalog import ToolFilter
from toolfoundry.registry.mcp_servers import McpServerInfo
from toolfoundry.registry.presentation import with_usage_notes
from toolfoundry.runtime.entries import ToolTable

if TYPE_CHECKING:
    from pydantic_ai.models import Model

    from toolfoundry.agent import AgentRunResult
    from toolfoundry.builder import (
        AutoBuildGate,
        BuildRecord,
        BuildRequest,
        BuildRequirement,
        BuildService,
        GapResolution,
    )
    from toolfoundry.trajectory import ToolInsights, TrajectoryRun
    from toolfoundry.trajectory.service import TrajectoryService

DescribeFormat = Literal["openai", "anthropic", "mcp", "text"]

__all__ = ["Bump", "ChangeListener", "DescribeFormat", "FeedSubscriber", "ToolLibrary"]


class ToolLibrary:
    """The catalog of tools and the one way to call them.

    ```python
    async with ToolLibrary.open() as library:
        await library.register(my_function, toolkit="mine")
        result = await library.call("mine.my_function", {"x": 1})
    ```
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        llm: Model | None = None,
        embedder: Embedder | None = None,
        with_discovery: bool = True,
    ) -> None:
        """`llm` and `embedder` override the configured ones (tests, embedding in a host).
        `with_discovery=False` for a process that only builds (`toolfoundry builder serve`):
        no discovery index and no embedding model; `discover` then answers 503."""
        self.settings = settings or get_settings()
        parts = self._services = wire(
            self.settings, llm=llm, embedder=embedder, with_discovery=with_discovery
        )
        # The parts, for code that works with one directly (API health, benchmarks, tests).
        self.engine = parts.engine
        self.origin = parts.origin
        self.sessions = parts.sessions
        self.catalog = parts.catalog
        self.table: ToolTable = parts.table
        self.functions = parts.functions
        self.mcp = parts.mcp
        self.backends = parts.backends
        self.servers = parts.servers
        self.recorder = parts.recorder
        self.views = parts.views
        self.dispatcher = parts.dispatcher
        self.feed = parts.feed
        self.discovery_guard = parts.discovery.guard
        self.llm = parts.llm
        self._builds: BuildService | None = None
        self._trajectories: TrajectoryService | None = None
        self._auto_build: AutoBuildGate | None = None

    @property
    def discovery(self) -> DiscoveryService | None:
        """The discovery service once started (None before)."""
        return self._services.discovery.service

    @property
    def catalog_version(self) -> int:
        """Moves on with every change to the catalog, made here or by another process."""
        return self._services.bus.version

    @property
    def names(self) -> ToolTable:
        """Tool ids and the model-safe names they are offered under (`knows`,
        `canonical_id`, `exposed_name`)."""
        return self._services.table

    # --- lifecycle --------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: Settings | None = None) -> Self:
        """A library to use as `async with ToolLibrary.open() as library:`."""
        return cls(settings)

    async def start(self) -> Self:
        await self._services.start()
        return self

    async def aclose(self) -> None:
        await self._services.stop_following()
        if self._builds is not None:
            await self._builds.aclose()  # running builds go back to the queue
        await self._services.aclose()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def reload(self, tool_ids: Iterable[str] | None = None) -> None:
        """Rebuild the in-memory call table from the catalog (all tools, or the given ones)."""
        await self._services.calltable.reload(tool_ids)

    # --- registration -----------------------------------------------------------------------

    async def register(
        self,
        fn: Callable[..., Any],
        *,
        toolkit: str | None = None,
        name: str | None = None,
        version: str | None = None,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        bump: Bump | None = None,
    ) -> Tool:
        """Register a Python function (sync or async) as a tool; returns the catalog entry.

        Name, description and schemas come from the function's signature and docstring.
        Options not given here come from its `@tool(...)` decorator. A version is immutable:
        changed code or schema under a stored version is a ConflictError naming the version to
        use; `bump` (patch, minor, major) picks it instead.
        """
        tool_id = await self._services.registrar.register(
            fn,
            bump=bump,
            toolkit=toolkit,
            name=name,
            version=version,
            description=description,
            tags=tags,
            timeout=timeout,
            retries=retries,
        )
        return await self.get_tool(tool_id)

    async def register_module(
        self, module: str | ModuleType, *, toolkit: str | None = None, bump: Bump | None = None
    ) -> list[Tool]:
        """Register every `@tool`-decorated function of a module; returns what was registered.

        A function's toolkit is its decorator's, else `toolkit`, else the module's short name.
        """
        ids = await self._services.registrar.register_module(module, toolkit=toolkit, bump=bump)
        return await self.catalog.list_tools(ToolFilter(ids=ids))

    async def create_toolkit(
        self, name: str, description: str = "", category: str = "general"
    ) -> Toolkit:
        toolkit = await self.catalog.create_toolkit(name, description, category)
        await self._services.bus.changed("toolkit", [name], reload=False)
        return toolkit

    async def set_state(
        self, ref: str, *, enabled: bool | None = None, deprecated: bool | None = None
    ) -> Tool:
        """Enable/disable or deprecate a tool (`toolkit.tool`) or one version (`...@1.2.0`)."""
        tool_id, _, version = ref.partition("@")
        await self.catalog.set_state(
            tool_id, version=version or None, enabled=enabled, deprecated=deprecated
        )
        await self._services.bus.changed("upsert", [tool_id])
        return await self.get_tool(tool_id)

    async def write_examples(
        self,
        tool_ids: list[str] | None = None,
        *,
        replace: bool = False,
        count: int = 3,
        on_progress: Callable[[str], None] | None = None,
    ) -> list[ExamplesWritten]:
        """Have the configured model write `count` example requests for each tool (every tool
        when `tool_ids` is None), stored as generated and joined to its discovery text. Tools
        with generated examples are skipped unless `replace`."""
        return await self._services.examples.write(
            tool_ids, replace=replace, count=count, on_progress=on_progress
        )

    def start_writing_examples(self) -> None:
        """Serving processes: write examples for new tools in the background when
        `discovery_generate_examples` is set and a model is configured."""
        self._services.start_writing_examples()

    # --- MCP servers ------------------------------------------------------------------------

    async def add_mcp_server(
        self, config: McpServerConfig | dict[str, Any], *, server: Any = None
    ) -> McpServerInfo:
        """Register an MCP server: connect, list its tools and add them to the catalog under
        its toolkit. A server that cannot start or answer is refused and nothing is kept.
        `server` (tests, embedding) replaces the transport: a FastMCP instance or a transport."""
        if not isinstance(config, McpServerConfig):
            try:
                config = McpServerConfig.model_validate(config)
            except ValidationError as exc:
                raise InvalidInputError(
                    "invalid MCP server config: "
                    + "; ".join(
                        f"{'.'.join(map(str, e['loc'])) or '(config)'}: {e['msg']}"
                        for e in exc.errors()
                    ),
                    hint="Give name plus either command (stdio) or url (http/sse).",
                ) from None
        return await self.servers.add(config, server=server)

    async def remove_mcp_server(self, name: str) -> list[str]:
        """Unregister a server; its tools leave the catalog. Returns the removed tool ids."""
        return await self.servers.remove(name)

    async def refresh_mcp_server(self, name: str) -> McpServerInfo:
        return await self.servers.refresh(name)

    async def restart_mcp_server(self, name: str) -> McpServerInfo:
        """End the server's session (a stdio child is stopped), start a fresh one, resync."""
        return await self.servers.refresh(name, restart=True)

    async def list_mcp_servers(self) -> list[McpServerInfo]:
        return await self.servers.list()

    async def get_mcp_server(self, name: str) -> McpServerInfo:
        return await self.servers.get(name)

    # --- reads ------------------------------------------------------------------------------

    async def list_toolkits(self, category: str | None = None) -> list[Toolkit]:
        return await self._services.reads.list_toolkits(category)

    async def list_tools(
        self,
        *,
        toolkit: str | None = None,
        kind: ToolKind | None = None,
        enabled: bool | None = None,
        q: str | None = None,
    ) -> list[Tool]:
        return await self._services.reads.list_tools(
            toolkit=toolkit, kind=kind, enabled=enabled, q=q
        )

    async def get_tool(self, ref: str) -> Tool:
        """A tool as its current version shows it; `toolkit.tool@1.0.0` as 1.0.0 shows it."""
        return await self._services.reads.get_tool(ref)

    async def recent_calls(self, limit: int = 50, tool_id: str | None = None) -> list[CallRecord]:
        return await self._services.reads.recent_calls(limit, tool_id)

    async def describe(
        self, refs: str | Iterable[str], fmt: DescribeFormat = "openai", *, learned: bool = False
    ) -> Any:
        """Render tools for a model: OpenAI or Anthropic tools JSON, MCP tool JSON, or text.
        `learned` appends usage notes from recorded calls and runs to each description."""
        single = isinstance(refs, str)
        ids = [refs] if isinstance(refs, str) else list(refs)
        tools = [await self.get_tool(ref) for ref in ids]
        if learned:
            tools = [with_usage_notes(t, (await self.tool_insights(t.id)).notes) for t in tools]
        from toolfoundry.registry.describe import render

        rendered = render(tools, fmt)
        return rendered[0] if single and isinstance(rendered, list) else rendered

    # --- trajectories -----------------------------------------------------------------------

    @property
    def trajectories(self) -> TrajectoryService:
        """Step-level records of agent runs and what they teach (`toolfoundry.trajectory`)."""
        if self._trajectories is None:
            self._trajectories = self._services.trajectories()
        return self._trajectories

    def trajectory(
        self,
        query: str,
        *,
        scenario: str | None = None,
        agent_version: str | None = None,
        llm_model: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> TrajectoryRun:
        """Record one agent run: `async with library.trajectory(query) as run:` then
        `run.discover(...)`, `run.call(...)`, `run.step(...)`, `run.succeed(...)`. When the run
        finishes, the tools it used learn from its outcome."""
        from toolfoundry.trajectory import TrajectoryRun, TrajectoryStart

        start = TrajectoryStart(
            query=query,
            scenario=scenario,
            agent_version=agent_version,
            llm_model=llm_model,
            metadata=metadata or {},
        )
        return TrajectoryRun(self.trajectories, start)

    async def run_agent(
        self,
        query: str,
        *,
        model: Model | None = None,
        scenario: str | None = None,
        top_k: int = 5,
        max_tool_calls: int = 20,
        build_missing: bool = False,
        discover_mode: DiscoverMode = "auto",
    ) -> AgentRunResult:
        """Complete a request end to end: discover tools, optionally build the missing ones, let
        a model call them through the dispatcher, and record it all as a trajectory. Needs a
        model (`model=` or TOOLFOUNDRY_LLM_MODEL)."""
        from toolfoundry.agent import SandboxAgent

        agent = SandboxAgent(
            self._services.reads,
            self.trajectory,
            self.handle_capability_gap,
            model if model is not None else self.llm,
            top_k=top_k,
            max_tool_calls=max_tool_calls,
            build_missing=build_missing,
            discover_mode=discover_mode,
        )
        return await agent.run(query, scenario=scenario)

    async def tool_insights(self, ref: str) -> ToolInsights:
        """What usage taught about a tool: success by scenario, common errors, the requests it
        served, the tools used with it, and notes for a model."""
        return await self.trajectories.insights(ref)

    # --- discovery --------------------------------------------------------------------------

    async def discover(
        self,
        query: str,
        *,
        top_k: int = 5,
        toolkits: list[str] | None = None,
        mode: DiscoverMode = "auto",
    ) -> DiscoveryResult:
        """Find the tools for a request: analysis, toolkits, tools with a plan, and capability
        gaps. `mode`: auto (a model if configured, else retrieval), retrieval, or llm."""
        return await self._services.discovery.discover(
            query, top_k=top_k, toolkits=toolkits, mode=mode
        )

    # --- builds -----------------------------------------------------------------------------

    @property
    def builds(self) -> BuildService:
        """The build service, created on first use. Its workers run only once started
        (`await library.builds.start()`, `library.build(...)` or the API server), so a library
        that never builds pays nothing."""
        if self._builds is None:
            from toolfoundry.builder import BuildService

            self._builds = BuildService(self)
        return self._builds

    async def build(
        self,
        requirement: BuildRequirement | BuildRequest | dict[str, Any],
        *,
        budget: float | None = None,
        **options: Any,
    ) -> BuildRecord:
        """Build (or reuse) an MCP server for `requirement` and register it; waits up to
        `budget` seconds and returns the build record, finished or not. `options`: priority,
        timeout, context, strategy, reuse (see `BuildService.submit`)."""
        return await self.builds.build(requirement, budget=budget, **options)

    async def handle_capability_gap(
        self, gap: CapabilityGap, *, budget: float | None = None
    ) -> GapResolution:
        """Reuse a similar built server or build one for `gap` (in process, or on the build
        service at TOOLFOUNDRY_BUILDER_URL), waiting at most `budget` seconds."""
        from toolfoundry.builder import GapResolution, close_gap

        gate = await self.auto_build.state()
        if not gate.enabled:
            return GapResolution(
                gap=gap,
                status="skipped",
                message=f"automatic building is off: {gate.reason}. Build it explicitly "
                "(POST /api/v1/build or `toolfoundry build`); it resumes once recent builds "
                "succeed again or after TOOLFOUNDRY_AUTO_BUILD_WINDOW_S without failures.",
            )
        return await close_gap(self, gap, budget=budget or self.settings.gap_build_budget)

    @property
    def auto_build(self) -> AutoBuildGate:
        """Whether build_missing may build now, from the recent builds' success rate."""
        if self._auto_build is None:
            from toolfoundry.builder import AutoBuildGate

            self._auto_build = AutoBuildGate(self.builds.queue, self.settings)
        return self._auto_build

    async def discover_and_build(
        self,
        query: str,
        *,
        top_k: int = 5,
        toolkits: list[str] | None = None,
        mode: DiscoverMode = "auto",
        budget: float | None = None,
    ) -> tuple[DiscoveryResult, list[GapResolution]]:
        """Discover; close each gap (reuse or build) within the budget; discover again so the
        answer includes the new tools."""
        result = await self.discover(query, top_k=top_k, toolkits=toolkits, mode=mode)
        if not result.gaps:
            return result, []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (budget or self.settings.gap_build_budget)
        resolutions = []
        for gap in result.gaps:
            remaining = max(1.0, deadline - loop.time())
            resolutions.append(await self.handle_capability_gap(gap, budget=remaining))
        if any(r.status in ("built", "reused") for r in resolutions):
            result = await self.discover(query, top_k=top_k, toolkits=toolkits, mode=mode)
        return result, resolutions

    # --- calls ------------------------------------------------------------------------------

    async def call(self, ref: str, arguments: dict[str, Any] | None = None) -> ToolResult:
        """Call any tool by id (or by the model-safe name `describe` shows). See
        `Dispatcher.call` for what raises and what returns.

        Returns (or raises) only once the call's record is committed: an acknowledged call is
        never lost, even to a kill -9 right after."""
        return await self._services.calls.call(ref, arguments)

    # --- change events ----------------------------------------------------------------------

    def on_change(self, listener: ChangeListener) -> None:
        """`listener(event, id)` after every catalog change, made here or by another process:
        event is upsert, servers, toolkit, or learned (a finished run taught the tool
        something: effectiveness, served requests)."""
        self._services.bus.on_change(listener)

    def on_feed(self, subscriber: FeedSubscriber) -> None:
        """`await subscriber(changes)` after this library applied changes other processes
        made (typed `CatalogChange`s, oldest first) — e.g. to tell MCP clients the list
        changed."""
        self._services.follower.subscribe(subscriber)
