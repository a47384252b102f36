"""`ToolLibrary`: the Python API over the catalog, the dispatcher and their storage."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import ValidationError

from toolfoundry.core.errors import (
    BackendUnavailableError,
    InvalidInputError,
    NotFoundError,
    ToolfoundryError,
)
from toolfoundry.core.models import CallRecord, Tool, ToolKind, Toolkit, ToolResult
from toolfoundry.core.policy import ToolPolicy
from toolfoundry.core.private_files import private_dir
from toolfoundry.core.settings import Settings, get_settings
from toolfoundry.discovery.embedders import Embedder
from toolfoundry.discovery.fallback import LatencyGuard
from toolfoundry.discovery.results import CapabilityGap, DiscoveryResult, RankedTool
from toolfoundry.discovery.service import (
    DiscoverMode,
    DiscoveryService,
    embedder_from_settings,
    multilingual_from_settings,
)
from toolfoundry.llm import build_model
from toolfoundry.mcp import McpConnectionManager, McpServerConfig
from toolfoundry.registry.catalog import Catalog, ToolDefinition, ToolFilter
from toolfoundry.registry.decorator import ToolOptions, tool_options
from toolfoundry.registry.mcp_servers import McpServerInfo, McpServerRegistry
from toolfoundry.registry.versions import parse_version
from toolfoundry.registry.views import VirtualServerStore
from toolfoundry.runtime.backends import BackendRegistry
from toolfoundry.runtime.bulkheads import Bulkheads
from toolfoundry.runtime.dispatcher import Dispatcher
from toolfoundry.runtime.entries import ToolSlot, ToolTable
from toolfoundry.runtime.function_backend import FunctionBackend, code_hash
from toolfoundry.runtime.mcp_backend import McpBackend
from toolfoundry.runtime.recorder import CallRecorder
from toolfoundry.store.changes import (
    SERVER_EVENTS,
    TOOL_EVENTS,
    CatalogChange,
    ChangeEvent,
    new_origin,
)
from toolfoundry.store.database import create_engine, session_factory, upgrade
from toolfoundry.store.events import RedisCatalogEvents
from toolfoundry.store.feed import ChangeFeed

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

log = logging.getLogger(__name__)

DescribeFormat = Literal["openai", "anthropic", "mcp", "text"]
ChangeListener = Callable[[str, str], Awaitable[None] | None]
FeedSubscriber = Callable[[list[CatalogChange]], Awaitable[None]]
Bump = Literal["patch", "minor", "major"]


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
    ) -> None:
        """`llm` and `embedder` override the configured ones (tests, embedding in a host)."""
        self.settings = settings or get_settings()
        # Owner-only: the catalog, build artefacts and tokens live here.
        private_dir(Path(self.settings.data_dir))
        private_dir(Path(self.settings.data_dir) / "files")
        self.engine = create_engine(self.settings.resolved_database_url)
        # Whose writes are whose in the change feed: this library skips its own.
        self.origin = new_origin()
        self.catalog = Catalog(session_factory(self.engine, self.origin))
        self.table = ToolTable()
        self.functions = FunctionBackend(
            ToolPolicy.from_settings(self.settings), threads=self.settings.max_concurrent_calls
        )
        self.mcp = McpConnectionManager(allowed_commands=self.settings.stdio_command_list)
        self.backends = BackendRegistry()
        self.backends.register(self.functions)
        self.backends.register(McpBackend(self.mcp))
        self.servers = McpServerRegistry(
            self.catalog.sessions, self.catalog, self.mcp, self._servers_changed
        )
        self.recorder = CallRecorder(
            self.catalog,
            durable=self.settings.durable_call_records,
            commit_window=self.settings.call_record_commit_window,
        )
        # Virtual servers: named views of the catalog, each its own MCP endpoint.
        self.views = VirtualServerStore(self.catalog.sessions)
        self.dispatcher = Dispatcher(
            self.table,
            self.backends,
            self.recorder,
            default_timeout=self.settings.default_timeout,
            max_concurrent=self.settings.max_concurrent_calls,
            retry_backoff=self.settings.retry_backoff,
            bulkheads=Bulkheads(
                per_tool=self.settings.max_concurrent_per_tool,
                per_group=self.settings.max_concurrent_per_server,
                wait=self.settings.bulkhead_wait,
            ),
        )
        self.llm = llm if llm is not None else build_model(self.settings)
        self._embedder = embedder
        self.discovery: DiscoveryService | None = None
        self.catalog_version = 0
        self._listeners: list[ChangeListener] = []
        self._feed_subscribers: list[FeedSubscriber] = []
        self.feed = ChangeFeed(self.engine, self.origin, self._apply_changes)
        self._events: RedisCatalogEvents | None = None
        self._builds: BuildService | None = None
        self._trajectories: TrajectoryService | None = None
        self._started = False
        # Past its latency budget, discovery answers from its cache or the static tools.
        self.discovery_guard = LatencyGuard(
            self.settings.discovery_latency_budget, self._static_tools
        )
        self._auto_build: AutoBuildGate | None = None

    # --- lifecycle --------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: Settings | None = None) -> Self:
        """A library to use as `async with ToolLibrary.open() as library:`."""
        return cls(settings)

    async def start(self) -> Self:
        if self._started:
            return self
        await upgrade(self.engine)
        # Read before loading anything: a change committed while we load is applied after.
        position = await self.feed.newest()
        if self.settings.load_starters:
            from toolfoundry.starters import STARTER_TOOLKITS

            definitions = []
            for starter in STARTER_TOOLKITS.values():
                await self.catalog.ensure_toolkit(
                    starter.name, starter.description, starter.category
                )
                module = importlib.import_module(starter.module)
                definitions += [
                    self._define_function(fn, toolkit=starter.name)
                    for fn in vars(module).values()
                    if tool_options(fn) is not None and fn.__module__ == starter.module
                ]
            for tool_id in await self.catalog.add_versions(definitions):
                log.warning(
                    "starter tool %s changed without a new version; keeping the stored one "
                    "(bump its @tool(version=...))",
                    tool_id,
                )
        await self.servers.restore()
        await self.reload()
        self.discovery = DiscoveryService(
            self,
            self._embedder or embedder_from_settings(self.settings),
            model=self.llm,
            multilingual=None
            if self._embedder is not None
            else multilingual_from_settings(self.settings),
            gap_threshold=self.settings.discovery_gap_threshold,
            min_absence=self.settings.discovery_gap_min_absence,
            llm_timeout=self.settings.discovery_llm_timeout,
        )
        await self.feed.start(position)
        if self.settings.redis_url:  # only wakes the feed sooner; the feed is the truth
            self._events = RedisCatalogEvents(self.settings.redis_url, self._wake_feed)
            await self._events.start()
        self._started = True
        return self

    async def aclose(self) -> None:
        await self.feed.aclose()
        if self._events is not None:
            await self._events.aclose()
            self._events = None
        if self._builds is not None:
            await self._builds.aclose()  # running builds go back to the queue
        await self.discovery_guard.aclose()
        if self.discovery is not None:
            await self.discovery.aclose()
        await self.mcp.aclose()  # closes every session and reaps every stdio child
        self.functions.close()
        await self.recorder.aclose()
        await self.engine.dispose()
        self._started = False

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def reload(self, tool_ids: Iterable[str] | None = None) -> None:
        """Rebuild the in-memory call table from the catalog (all tools, or the given ones)."""
        wanted = set(tool_ids) if tool_ids is not None else None
        rows = await self.catalog.all_versions(tool_ids=wanted)
        slots: dict[str, ToolSlot] = {}
        for tool_row, version_row in rows:
            slot = slots.setdefault(tool_row.id, ToolSlot(enabled=tool_row.enabled))
            backend = self.backends.get(ToolKind(tool_row.kind))
            slot.versions.append(backend.load(tool_row, version_row))
        for tool_id, slot in slots.items():
            slot.versions.sort(key=lambda e: parse_version(e.version), reverse=True)
            self.table.put(tool_id, slot)
        for tool_id in (wanted or set()) - slots.keys():
            self.table.drop(tool_id)

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
        definition = await self._store_function(
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
        await self._changed("upsert", [definition.tool_id])
        return await self.get_tool(definition.tool_id)

    async def register_module(
        self, module: str | ModuleType, *, toolkit: str | None = None, bump: Bump | None = None
    ) -> list[Tool]:
        """Register every `@tool`-decorated function of a module; returns what was registered.

        A function's toolkit is its decorator's, else `toolkit`, else the module's short name.
        """
        if isinstance(module, str):
            try:
                module = importlib.import_module(module)
            except ImportError as exc:
                raise InvalidInputError(
                    f"cannot import module {module!r}: {exc}",
                    hint="Check the dotted name and that the module is on PYTHONPATH "
                    "(or installed in this environment).",
                ) from exc
        functions = [
            obj
            for _name, obj in inspect.getmembers(module, callable)
            if tool_options(obj) is not None and getattr(obj, "__module__", None) == module.__name__
        ]
        if not functions:
            raise InvalidInputError(
                f"module {module.__name__!r} has no @tool-decorated functions",
                hint="Decorate functions with `from toolfoundry import tool` and `@tool`.",
            )
        default_toolkit = toolkit or module.__name__.rsplit(".", 1)[-1]
        summary = (inspect.getdoc(module) or "").split("\n", 1)[0]
        ids = []
        for fn in functions:
            options = tool_options(fn)
            kit = (options.toolkit if options else None) or default_toolkit
            await self.catalog.ensure_toolkit(kit, summary)
            definition = await self._store_function(fn, toolkit=kit, bump=bump)
            ids.append(definition.tool_id)
        await self._changed("upsert", ids)
        return await self.catalog.list_tools(ToolFilter(ids=ids))

    async def _store_function(
        self, fn: Callable[..., Any], *, bump: Bump | None = None, **options: Any
    ) -> ToolDefinition:
        definition = self._define_function(fn, **options)
        await self.catalog.add_version(definition, bump=bump)
        return definition

    def _define_function(
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
    ) -> ToolDefinition:
        if not callable(fn):
            raise InvalidInputError(f"{fn!r} is not callable", hint="Pass a function.")
        options = tool_options(fn) or ToolOptions()
        toolkit = toolkit or options.toolkit
        if not toolkit:
            raise InvalidInputError(
                f"no toolkit given for {getattr(fn, '__qualname__', fn)!r}",
                hint="Pass toolkit=... or decorate it with @tool(toolkit=...).",
            )
        name = name or options.name or fn.__name__
        schema = self.functions.schema_for(fn, name, description or options.description)
        source = f"{fn.__module__}:{fn.__qualname__}"
        digest = code_hash(fn)
        definition = ToolDefinition(
            toolkit=toolkit,
            name=name,
            kind=ToolKind.FUNCTION,
            version=version or options.version,
            description=schema.description,
            input_schema=schema.input_schema,
            output_schema=schema.output_schema,
            source=source,
            code_hash=digest,
            tags=tuple(tags if tags is not None else options.tags),
            examples=options.examples,
            timeout=timeout if timeout is not None else options.timeout,
            retries=retries if retries is not None else options.retries,
        )
        if "<locals>" in source or fn.__module__ == "__main__":
            log.warning(
                "%s is registered from %s: it works in this process but cannot be re-imported "
                "after a restart; move it to an importable module to persist it",
                definition.tool_id,
                source,
            )
        self.functions.remember(source, fn, digest)
        return definition

    async def create_toolkit(
        self, name: str, description: str = "", category: str = "general"
    ) -> Toolkit:
        toolkit = await self.catalog.create_toolkit(name, description, category)
        await self._changed("toolkit", [name], reload=False)
        return toolkit

    async def set_state(
        self, ref: str, *, enabled: bool | None = None, deprecated: bool | None = None
    ) -> Tool:
        """Enable/disable or deprecate a tool (`toolkit.tool`) or one version (`...@1.2.0`)."""
        tool_id, _, version = ref.partition("@")
        await self.catalog.set_state(
            tool_id, version=version or None, enabled=enabled, deprecated=deprecated
        )
        await self._changed("upsert", [tool_id])
        return await self.get_tool(tool_id)

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

    async def _servers_changed(self, tool_ids: list[str]) -> None:
        # "servers": other replicas also (re)connect the set of registered MCP servers.
        await self._changed("servers", tool_ids)

    # --- reads ------------------------------------------------------------------------------

    async def list_toolkits(self, category: str | None = None) -> list[Toolkit]:
        return await self.catalog.list_toolkits(category)

    async def list_tools(
        self,
        *,
        toolkit: str | None = None,
        kind: ToolKind | None = None,
        enabled: bool | None = None,
        q: str | None = None,
    ) -> list[Tool]:
        await self.recorder.flush()
        return await self.catalog.list_tools(ToolFilter(toolkit, kind, enabled, q))

    async def get_tool(self, ref: str) -> Tool:
        """A tool as its current version shows it; `toolkit.tool@1.0.0` as 1.0.0 shows it."""
        await self.recorder.flush()
        tool_id, _, version = ref.partition("@")
        tool = await self.catalog.get_tool(tool_id)
        if not version or version == tool.version:
            return tool
        pinned = next((v for v in tool.versions if v.version == version), None)
        if pinned is None:
            raise NotFoundError(
                f"{tool_id} has no version {version!r}",
                hint=f"Known versions: {', '.join(v.version for v in tool.versions)}.",
            )
        return tool.model_copy(
            update={
                "version": pinned.version,
                "description": pinned.description,
                "input_schema": pinned.input_schema,
                "output_schema": pinned.output_schema,
                "source": pinned.source,
                "enabled": tool.enabled and pinned.enabled,
                "deprecated": tool.deprecated or pinned.deprecated,
            }
        )

    async def recent_calls(self, limit: int = 50, tool_id: str | None = None) -> list[CallRecord]:
        await self.recorder.flush()
        return await self.catalog.recent_calls(limit, tool_id)

    async def describe(
        self, refs: str | Iterable[str], fmt: DescribeFormat = "openai", *, learned: bool = False
    ) -> Any:
        """Render tools for a model: OpenAI or Anthropic tools JSON, MCP tool JSON, or text.
        `learned` appends usage notes from recorded calls and runs to each description."""
        single = isinstance(refs, str)
        ids = [refs] if isinstance(refs, str) else list(refs)
        tools = [await self.get_tool(ref) for ref in ids]
        if learned:
            tools = [await self._with_usage_notes(t) for t in tools]
        from toolfoundry.registry.describe import render

        rendered = render(tools, fmt)
        return rendered[0] if single and isinstance(rendered, list) else rendered

    async def _with_usage_notes(self, tool: Tool) -> Tool:
        notes = (await self.trajectories.insights(tool.id)).notes
        if not notes:
            return tool
        learned = "\n".join(f"- {note}" for note in notes)
        return tool.model_copy(
            update={"description": f"{tool.description}\n\nFrom usage:\n{learned}"}
        )

    # --- trajectories -----------------------------------------------------------------------

    @property
    def trajectories(self) -> TrajectoryService:
        """Step-level records of agent runs and what they teach (`toolfoundry.trajectory`)."""
        if self._trajectories is None:
            from toolfoundry.trajectory.service import TrajectoryService

            self._trajectories = TrajectoryService(self)
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
            self,
            model,
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
        if self.discovery is None:
            raise BackendUnavailableError(
                "discovery is not running", hint="Start the library first (`async with`)."
            )
        key = (query.strip().casefold(), top_k, tuple(toolkits or ()), mode)
        # The budget is for answering, not for building the index on a cold start: a static
        # answer while the catalog is still being indexed would be a wrong answer, not a fast one.
        await self.discovery.wait_ready()
        return await self.discovery_guard.run(
            key,
            query,
            top_k,
            self.discovery.discover(query, top_k=top_k, toolkits=toolkits, mode=mode),
        )

    async def _static_tools(self, top_k: int) -> list[RankedTool]:
        """The static answer: the configured tools, else the most used enabled ones."""
        wanted = self.settings.discovery_static_tools
        tools = [t for t in await self.list_tools(enabled=True) if not wanted or t.id in wanted]
        tools.sort(key=lambda t: (-t.usage_count, -t.effectiveness_score, t.id))
        return [
            RankedTool(
                id=t.id,
                name=t.name,
                toolkit=t.toolkit,
                description=t.description,
                input_schema=t.input_schema,
                score=0.0,
                signals={"static": 1.0},
            )
            for t in tools[:top_k]
        ]

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
        """Call any tool by id. See `Dispatcher.call` for what raises and what returns.

        Returns (or raises) only once the call's record is committed: an acknowledged call is
        never lost, even to a kill -9 right after."""
        try:
            result = await self.dispatcher.call(ref, arguments)
        except ToolfoundryError:
            await self.recorder.wait_durable()
            raise
        await self.recorder.wait_durable()
        return result

    # --- change events ----------------------------------------------------------------------

    def on_change(self, listener: ChangeListener) -> None:
        """`listener(event, id)` after every catalog change, made here or by another process:
        event is upsert, servers, toolkit, or learned (a finished run taught the tool
        something: effectiveness, served requests)."""
        self._listeners.append(listener)

    def on_feed(self, subscriber: FeedSubscriber) -> None:
        """`await subscriber(changes)` after this library applied changes other processes
        made (typed `CatalogChange`s, oldest first) — e.g. to tell MCP clients the list
        changed."""
        self._feed_subscribers.append(subscriber)

    async def _wake_feed(self, _event: str, _ids: list[str]) -> None:
        self.feed.wake()

    async def _apply_changes(self, changes: list[CatalogChange]) -> None:
        """Another process changed the catalog: follow it. Servers are (dis)connected first so
        that reloading their tools binds to live connections."""
        servers = {c.subject for c in changes if c.event in SERVER_EVENTS}
        if servers:
            for change in changes:
                if change.event is ChangeEvent.MCP_SERVER_UPDATED and change.subject in self.mcp:
                    await self.mcp.remove(change.subject)  # restore() adds it with the new config
            await self.servers.restore()
        tools = list(dict.fromkeys(c.subject for c in changes if c.event in TOOL_EVENTS))
        for name in servers:  # a refresh may have changed its tools in bulk (e.g. their tags)
            # Removed meanwhile: its TOOL_REMOVED changes drop its tools.
            with contextlib.suppress(NotFoundError):
                tools += [t for t in (await self.servers.get(name)).tools if t not in tools]
        if tools:
            await self._changed("servers" if servers else "upsert", tools, remote=True)
        learned = list(
            dict.fromkeys(c.subject for c in changes if c.event is ChangeEvent.TOOL_LEARNED)
        )
        if learned:
            await self._changed("learned", learned, reload=False, remote=True)
        toolkits = list(
            dict.fromkeys(c.subject for c in changes if c.event is ChangeEvent.TOOLKIT_CHANGED)
        )
        if toolkits:
            await self._changed("toolkit", toolkits[:1], reload=False, remote=True)
        for subscriber in self._feed_subscribers:
            try:
                await subscriber(changes)
            except Exception:  # one bad subscriber must not stop the feed
                log.exception("change-feed subscriber %r failed", subscriber)

    async def _changed(
        self, event: str, idents: list[str], *, reload: bool = True, remote: bool = False
    ) -> None:
        if reload:
            await self.reload(idents)
        for listener in self._listeners:
            for ident in idents:
                outcome = listener(event, ident)
                if inspect.isawaitable(outcome):
                    await outcome
        # Bumped last: anything cached under the new version already sees the change.
        self.catalog_version += 1
        if remote:
            return
        if event == "learned":  # no catalog row changed: record it for other processes
            await self.catalog.record_changes(ChangeEvent.TOOL_LEARNED, idents)
        if self._events is not None:
            await self._events.publish(event, idents)
