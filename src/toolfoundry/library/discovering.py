"""Discovery as callers get it: within the latency budget, else a cached or static answer."""

from __future__ import annotations

from toolfoundry.core.errors import BackendUnavailableError
from toolfoundry.core.settings import Settings
from toolfoundry.discovery.fallback import LatencyGuard
from toolfoundry.discovery.results import DiscoveryResult, RankedTool
from toolfoundry.discovery.service import DiscoverMode, DiscoveryService
from toolfoundry.library.reads import CatalogReads


class GuardedDiscovery:
    """`discover` over the discovery service (set once the library starts) and its guard."""

    def __init__(self, settings: Settings, reads: CatalogReads) -> None:
        self._settings = settings
        self._reads = reads
        self.service: DiscoveryService | None = None
        # Past its latency budget, discovery answers from its cache or the static tools.
        self.guard = LatencyGuard(settings.discovery_latency_budget, self.static_tools)

    async def discover(
        self,
        query: str,
        *,
        top_k: int = 5,
        toolkits: list[str] | None = None,
        mode: DiscoverMode = "auto",
    ) -> DiscoveryResult:
        if self.service is None:
            raise BackendUnavailableError(
                "discovery is not running", hint="Start the library first (`async with`)."
            )
        key = (query.strip().casefold(), top_k, tuple(toolkits or ()), mode)
        # The budget is for answering, not for building the index on a cold start: a static
        # answer while the catalog is still being indexed would be a wrong answer, not a fast one.
        await self.service.wait_ready()
        return await self.guard.run(
            key,
            query,
            top_k,
            self.service.discover(query, top_k=top_k, toolkits=toolkits, mode=mode),
        )

    async def static_tools(self, top_k: int) -> list[RankedTool]:
        """The static answer: the configured tools, else the most used enabled ones."""
        wanted = self._settings.discovery_static_tools
        tools = [
            t for t in await self._reads.list_tools(enabled=True) if not wanted or t.id in wanted
        ]
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

    async def aclose(self) -> None:
        await self.guard.aclose()
        if self.service is not None:
            await self.service.aclose()
