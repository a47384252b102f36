"""Discovery over the live catalog: an index kept in step with it, results cached per catalog
version, retrieval always and a model's reasoning on top when one is configured."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal, Protocol

from toolfoundry.core.errors import InvalidInputError
from toolfoundry.core.metrics import DISCOVERY_LATENCY, TOOL_EFFECTIVENESS
from toolfoundry.core.models import Tool, Toolkit
from toolfoundry.core.settings import Settings
from toolfoundry.core.tracing import tracer
from toolfoundry.discovery import coverage
from toolfoundry.discovery.documents import ToolDocument
from toolfoundry.discovery.embedders import (
    CachedEmbedder,
    Embedder,
    InMemoryEmbeddingCache,
    OpenAIEmbedder,
    get_embedder,
    text_hash,
)
from toolfoundry.discovery.learned import learned_texts
from toolfoundry.discovery.results import DiscoveryResult
from toolfoundry.discovery.retriever import Retriever
from toolfoundry.store.embedding_cache import DatabaseEmbeddingCache
from toolfoundry.trajectory.learning import ServedRequest, served_requests

if TYPE_CHECKING:
    from pydantic_ai.models import Model
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

DiscoverMode = Literal["auto", "retrieval", "llm"]
_CACHE_SIZE = 512
_SHORTLIST = 10  # candidates a model sees: retrieval's R@10 is high, and a small model reads
# ten compact lines (~250 prompt tokens) in seconds


class DiscoveryCatalog(Protocol):
    """What discovery reads of the catalog (usage already flushed into effectiveness)."""

    async def list_tools(
        self, *, enabled: bool | None = None, ids: list[str] | None = None
    ) -> list[Tool]: ...

    async def list_toolkits(self) -> list[Toolkit]: ...


class CatalogChanges(Protocol):
    """The change bus: `version` moves on every change; listeners hear `(event, id)`."""

    @property
    def version(self) -> int: ...

    def on_change(self, listener: Callable[[str, str], Awaitable[None] | None]) -> None: ...


def embedder_from_settings(settings: Settings) -> Embedder:
    """The configured embedder: a bundled offline one by name, or an OpenAI-compatible endpoint."""
    if settings.embedder == "openai":
        if not settings.embedding_base_url:
            raise InvalidInputError(
                "TOOLFOUNDRY_EMBEDDER=openai needs TOOLFOUNDRY_EMBEDDING_BASE_URL",
                hint="e.g. https://api.openai.com/v1 or http://localhost:8000/v1",
            )
        return OpenAIEmbedder(
            settings.embedding_model,
            base_url=settings.embedding_base_url,
            api_key=settings.embedding_api_key,
        )
    try:
        return get_embedder(settings.embedder)
    except ValueError as exc:
        raise InvalidInputError(str(exc), hint="Set TOOLFOUNDRY_EMBEDDER accordingly.") from None


def multilingual_from_settings(settings: Settings) -> Embedder | None:
    """The embedder for requests in Chinese, or None when the main one serves every request."""
    name = settings.discovery_multilingual_embedder
    if name == "none" or name == settings.embedder:
        return None
    try:
        return get_embedder(name)
    except ValueError as exc:
        raise InvalidInputError(
            str(exc), hint="Set TOOLFOUNDRY_DISCOVERY_MULTILINGUAL_EMBEDDER accordingly."
        ) from None


def document(tool: Tool, served: list[ServedRequest] | None = None) -> ToolDocument:
    doc = ToolDocument(
        id=tool.id,
        name=tool.name,
        description=tool.description,
        toolkit=tool.toolkit,
        parameters=tool.input_schema,
        tags=tool.tags,
        examples=tool.examples,
        generated_examples=tool.generated_examples,
        effectiveness=min(1.0, max(0.0, tool.effectiveness_score)),
    )
    if served:
        doc.served_requests = learned_texts(doc, served)
    return doc


class DiscoveryService:
    def __init__(
        self,
        catalog: DiscoveryCatalog,
        changes: CatalogChanges,
        sessions: async_sessionmaker[AsyncSession],
        embedder: Embedder,
        *,
        model: Model | None = None,
        multilingual: Embedder | None = None,
        gap_threshold: float = coverage.GAP_THRESHOLD,
        min_absence: float = 0.0,
        llm_timeout: float = 5.0,
    ) -> None:
        self._catalog = catalog
        self._changes = changes
        self._sessions = sessions
        self.model = model
        self.gap_threshold = gap_threshold
        self.llm_timeout = llm_timeout
        self._memory = InMemoryEmbeddingCache()
        self._db_cache = DatabaseEmbeddingCache(sessions)
        self.embedder = CachedEmbedder(embedder, self._memory)
        second = None
        if multilingual is not None and multilingual.dim and multilingual.name != embedder.name:
            second = CachedEmbedder(multilingual, self._memory)
        self.retriever = Retriever(self.embedder, multilingual=second, gap_threshold=gap_threshold)
        self.retriever.min_absence = min_absence
        self.index = self.retriever.index
        self._tools = self.retriever.tools  # the same dicts, kept in step by the retriever
        self._results: OrderedDict[tuple, DiscoveryResult] = OrderedDict()
        self._ready = asyncio.Event()
        self.prior_interval = 60.0
        self._priors_at = time.monotonic()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def _toolkits(self) -> dict[str, Toolkit]:
        return self.retriever.toolkits

    @_toolkits.setter
    def _toolkits(self, value: dict[str, Toolkit]) -> None:
        self.retriever.toolkits = value

    # --- index lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        """Build the index in the background (idempotent); `discover` starts it if nobody did.
        Catalog changes from then on update it one tool at a time. A service starts it at once
        so the first request is fast; a one-shot CLI command that never discovers never pays."""
        if self._task is not None:
            return
        self._changes.on_change(self._on_change)
        self._task = asyncio.get_running_loop().create_task(self._build())

    async def wait_ready(self) -> None:
        self.start()
        await self._ready.wait()
        if self._task is not None and self._task.done() and self._task.exception():
            raise self._task.exception()  # type: ignore[misc]

    async def aclose(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            # The encoder runs in a worker thread that cancellation cannot stop; waiting here
            # keeps shutdown orderly instead of leaving it to the interpreter's exit.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _build(self) -> None:
        started = time.perf_counter()
        try:
            tools = await self._catalog.list_tools(enabled=True)
            await self._index(tools, everything=True)
            self._toolkits = {k.id: k for k in await self._catalog.list_toolkits()}
            log.info(
                "discovery index: %d tools in %.2fs (%s)",
                len(tools),
                time.perf_counter() - started,
                self.embedder.name,
            )
        finally:
            self._ready.set()

    async def _index(self, tools: list[Tool], *, everything: bool = False) -> None:
        """Embed off the event loop (with the database cache), then update the index on it.
        `everything`: `tools` is the whole catalog (read learned requests in one pass)."""
        served = await served_requests(
            self._sessions, None if everything else [t.id for t in tools]
        )
        docs = [document(t, served.get(t.id)) for t in tools]
        texts = [d.embedding_text() for d in docs]
        if self.embedder.dim and texts:
            name = self.embedder.name
            hashes = list(dict.fromkeys(text_hash(t, name) for t in texts))
            known = await self._db_cache.load(name, hashes)
            self._memory.put_many(name, known)
            missing = [t for t in dict.fromkeys(texts) if text_hash(t, name) not in known]
            if missing:
                vectors = await asyncio.to_thread(self.embedder.embedder.embed, missing)
                fresh = {text_hash(t, name): v for t, v in zip(missing, vectors, strict=True)}
                self._memory.put_many(name, fresh)
                await self._db_cache.save(name, fresh)
        async with self._lock:
            self.retriever.add(tools, docs)  # vectors now come from the memory cache

    async def _on_change(self, event: str, ident: str) -> None:
        if event == "toolkit":
            self._toolkits = {k.id: k for k in await self._catalog.list_toolkits()}
            return
        await self._ready.wait()
        tools = await self._catalog.list_tools(ids=[ident], enabled=True)
        current = tools[0] if tools else None
        if current is None:
            async with self._lock:
                self.retriever.remove([ident])
        else:
            await self._index([current])
        if current is not None and current.toolkit not in self._toolkits:
            self._toolkits = {k.id: k for k in await self._catalog.list_toolkits()}

    async def refresh_priors(self) -> int:
        """Feed recorded usage back into ranking: re-read every tool's effectiveness (from its
        call records) and update those that moved. Returns how many changed. The service calls
        this at most every `prior_interval` seconds, when a discovery arrives."""
        await self._ready.wait()
        self._priors_at = time.monotonic()
        changed = [
            tool
            for tool in await self._catalog.list_tools(enabled=True)
            if tool.id in self._tools
            and abs(tool.effectiveness_score - self._tools[tool.id].effectiveness_score) > 0.01
        ]
        if changed:
            await self._index(changed)
            self._results.clear()
            for tool in changed:
                TOOL_EFFECTIVENESS.observe(tool.effectiveness_score)
        return len(changed)

    # --- discovery --------------------------------------------------------------------------

    async def discover(
        self,
        query: str,
        *,
        top_k: int = 5,
        toolkits: list[str] | None = None,
        mode: DiscoverMode = "auto",
    ) -> DiscoveryResult:
        with tracer.start_as_current_span(
            "toolfoundry.discover",
            attributes={
                "toolfoundry.discover.query_length": len(query),
                "toolfoundry.discover.mode": mode,
                "toolfoundry.discover.top_k": top_k,
            },
        ) as span:
            result = await self._discover(query, top_k=top_k, toolkits=toolkits, mode=mode)
            span.set_attribute("toolfoundry.discover.result_mode", result.mode)
            tools = result.tool_filtering.tools
            span.set_attribute("toolfoundry.discover.result_count", len(tools))
            if result.fallback_reason:
                span.set_attribute("toolfoundry.discover.fallback_reason", result.fallback_reason)
            return result

    async def _discover(
        self, query: str, *, top_k: int, toolkits: list[str] | None, mode: DiscoverMode
    ) -> DiscoveryResult:
        query = query.strip()
        if not query:
            raise InvalidInputError("the query is empty", hint="Describe what the agent must do.")
        if mode == "llm" and self.model is None:
            raise InvalidInputError(
                "mode 'llm' needs a model, and none is configured",
                hint="Set TOOLFOUNDRY_LLM_MODEL (and _BASE_URL/_API_KEY), or use mode 'auto' "
                "or 'retrieval'.",
            )
        unknown = sorted(set(toolkits or ()) - set(self._toolkits)) if self._ready.is_set() else []
        if unknown:
            raise InvalidInputError(
                f"unknown toolkit(s): {', '.join(unknown)}",
                hint="List toolkits with `toolfoundry toolkits list`.",
            )
        await self.wait_ready()
        if time.monotonic() - self._priors_at > self.prior_interval:
            await self.refresh_priors()
        use_llm = self.model is not None and mode != "retrieval"
        key = (query, top_k, tuple(sorted(toolkits or ())), use_llm, self._changes.version)
        if (cached := self._results.get(key)) is not None:
            self._results.move_to_end(key)
            return cached
        started = time.perf_counter()
        with tracer.start_as_current_span("toolfoundry.discover.retrieve"):
            result = self._retrieve(query, top_k, toolkits)
        if use_llm:
            from toolfoundry.discovery.llm_reasoner import reason_with_model

            shortlist = self._shortlist(query, toolkits)
            try:
                with tracer.start_as_current_span("toolfoundry.discover.llm"):
                    async with asyncio.timeout(self.llm_timeout):
                        result = await reason_with_model(
                            self.model, query, shortlist, result, top_k=top_k
                        )
            except TimeoutError:
                result.fallback_reason = f"model did not answer within {self.llm_timeout:g} s"
            except Exception as exc:  # any model failure degrades to retrieval, never to a 500
                log.warning("LLM discovery failed, using retrieval: %s", exc)
                result.fallback_reason = f"model failed: {type(exc).__name__}: {exc}"
        result.latency_ms = round((time.perf_counter() - started) * 1000, 3)
        result.catalog_version = self._changes.version
        DISCOVERY_LATENCY.labels(result.mode).observe(result.latency_ms / 1000)
        if result.fallback_reason is None:  # a slow or failing model deserves another try
            self._results[key] = result
            if len(self._results) > _CACHE_SIZE:
                self._results.popitem(last=False)
        return result

    def _shortlist(self, query: str, toolkits: list[str] | None) -> list[Tool]:
        hits = self.index.search(query, _SHORTLIST, toolkits=toolkits)
        return [self._tools[h.id] for h in hits if h.id in self._tools]

    def _retrieve(self, query: str, top_k: int, toolkits: list[str] | None) -> DiscoveryResult:
        return self.retriever.retrieve(query, top_k, toolkits)
