"""Virtual servers: named, persisted views of the catalog, each served as its own MCP endpoint
(`/mcp/{name}`, or `toolfoundry mcp serve --stdio --view NAME`).

A view selects tools by toolkit, tag or explicit id (a tool in any of them is in the view; no
selector at all means the whole catalog); `meta_only` lists only the meta-tools, which still
reach just the view's tools; `allow_builds` adds `build_tool`/`build_status`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import cached_property
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, computed_field
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from toolfoundry.core.errors import ConflictError, NotFoundError
from toolfoundry.core.models import Tool, utcnow
from toolfoundry.core.names import provider_tool_name
from toolfoundry.core.settings import Settings
from toolfoundry.store.database import create_engine, session_factory, upgrade
from toolfoundry.store.tables import VirtualServerRow

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
Selector = Annotated[str, Field(min_length=1, max_length=256)]


class VirtualServerSpec(BaseModel):
    """What a caller sends to create a view; unknown toolkits, tags and tools are accepted (they
    may be registered later)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=NAME_PATTERN,
        description="Lower-case letters, digits, '_' and '-', 1-63 characters; the endpoint "
        "is /mcp/{name}.",
    )
    description: str = Field(default="", max_length=1000)
    toolkits: list[Selector] = Field(default_factory=list, max_length=200)
    tags: list[Selector] = Field(default_factory=list, max_length=200)
    tools: list[Selector] = Field(
        default_factory=list, max_length=1000, description="Tool ids (`toolkit.name`)."
    )
    meta_only: bool = Field(
        default=False, description="List only the meta-tools (discover_tools, call_tool)."
    )
    allow_builds: bool = Field(default=False, description="Offer build_tool and build_status.")

    @cached_property
    def _selectors(self) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        return frozenset(self.toolkits), frozenset(self.tags), frozenset(self.tools)

    def includes(self, tool: Tool) -> bool:
        toolkits, tags, tools = self._selectors
        if not (toolkits or tags or tools):
            return True
        return (
            tool.toolkit in toolkits
            or tool.id in tools
            or provider_tool_name(tool.id) in tools  # `stats__mean`, as stdio lists it
            or not tags.isdisjoint(tool.tags)
        )


class VirtualServer(VirtualServerSpec):
    created_at: datetime = Field(default_factory=utcnow)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def endpoint(self) -> str:
        return f"/mcp/{self.name}"

    @classmethod
    def from_row(cls, row: VirtualServerRow) -> VirtualServer:
        created = row.created_at
        if created.tzinfo is None:  # SQLite hands back naive datetimes; all are UTC
            created = created.replace(tzinfo=UTC)
        return cls(
            name=row.name,
            description=row.description,
            toolkits=row.toolkits,
            tags=row.tags,
            tools=row.tools,
            meta_only=row.meta_only,
            allow_builds=row.allow_builds,
            created_at=created,
        )

    def same_view(self, other: VirtualServer) -> bool:
        return self.model_dump(exclude={"created_at"}) == other.model_dump(exclude={"created_at"})


def _not_found(name: str) -> NotFoundError:
    return NotFoundError(
        f"No virtual server named '{name}'.",
        hint="`toolfoundry views list` or GET /api/v1/virtual-servers shows them.",
    )


class VirtualServerStore:
    """The `virtual_servers` table, with a short-lived read cache for the MCP endpoints (one
    lookup per MCP request would otherwise be a query). Writes through this store show at once;
    writes by another process within `max_age` seconds."""

    def __init__(self, sessions: async_sessionmaker, *, max_age: float = 2.0) -> None:
        self.sessions = sessions
        self.max_age = max_age
        self._cache: dict[str, tuple[float, VirtualServer | None]] = {}

    async def create(self, spec: VirtualServerSpec) -> VirtualServer:
        view = VirtualServer(**spec.model_dump())
        row = VirtualServerRow(
            name=view.name,
            description=view.description,
            toolkits=view.toolkits,
            tags=view.tags,
            tools=view.tools,
            meta_only=view.meta_only,
            allow_builds=view.allow_builds,
            created_at=view.created_at,
        )
        try:
            async with self.sessions.begin() as session:
                session.add(row)
        except IntegrityError as exc:
            raise ConflictError(
                f"A virtual server named '{spec.name}' already exists.",
                hint="Choose another name, or remove it first (`toolfoundry views remove`).",
            ) from exc
        self._cache[view.name] = (time.monotonic(), view)
        return view

    async def list(self) -> list[VirtualServer]:
        async with self.sessions() as session:
            rows = await session.scalars(select(VirtualServerRow).order_by(VirtualServerRow.name))
            return [VirtualServer.from_row(r) for r in rows]

    async def find(self, name: str) -> VirtualServer | None:
        async with self.sessions() as session:
            row = await session.get(VirtualServerRow, name)
        view = VirtualServer.from_row(row) if row is not None else None
        self._cache[name] = (time.monotonic(), view)
        return view

    async def get(self, name: str) -> VirtualServer:
        view = await self.find(name)
        if view is None:
            raise _not_found(name)
        return view

    async def remove(self, name: str) -> VirtualServer:
        async with self.sessions.begin() as session:
            row = await session.get(VirtualServerRow, name)
            if row is None:
                raise _not_found(name)
            view = VirtualServer.from_row(row)
            await session.execute(delete(VirtualServerRow).where(VirtualServerRow.name == name))
        self._cache[name] = (time.monotonic(), None)
        return view

    async def cached(self, name: str) -> VirtualServer | None:
        """The view, read again from the database at most every `max_age` seconds."""
        hit = self._cache.get(name)
        if hit is not None and time.monotonic() - hit[0] < self.max_age:
            return hit[1]
        if len(self._cache) > 10_000:  # unknown names probed by a client must not pile up
            self._cache.clear()
        return await self.find(name)


@asynccontextmanager
async def open_view_store(settings: Settings) -> AsyncIterator[VirtualServerStore]:
    """The views of the configured database, without starting a whole library (CLI)."""
    engine = create_engine(settings.resolved_database_url)
    try:
        await upgrade(engine)
        yield VirtualServerStore(session_factory(engine))
    finally:
        await engine.dispose()
