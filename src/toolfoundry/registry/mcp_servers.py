"""MCP servers in the catalog: registration, their tools as catalog tools, and keeping both in
step with what each server lists."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from toolfoundry.core.errors import (
    BackendUnavailableError,
    CommandNotAllowedError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from toolfoundry.core.models import ToolKind, UtcDatetime
from toolfoundry.mcp import (
    SECRET_MASK,
    McpCommandNotAllowedError,
    McpConfigError,
    McpConnectionManager,
    McpServerConfig,
    McpToolInfo,
    McpUnavailableError,
    ServerStatus,
)
from toolfoundry.registry.catalog import Catalog, ToolDefinition
from toolfoundry.registry.versions import newest_first, parse_version
from toolfoundry.runtime.mcp_backend import SOURCE_PREFIX, mcp_source
from toolfoundry.store.changes import ChangeEvent, record_change
from toolfoundry.store.tables import McpServerRow, ToolRow, ToolVersionRow

log = logging.getLogger(__name__)

_NOT_NAME = re.compile(r"[^A-Za-z0-9_-]")

ChangeCallback = Callable[[list[str]], Awaitable[None]]


class McpServerInfo(BaseModel):
    """A registered server as the API shows it: its config, live status and catalog tools."""

    name: str
    toolkit: str
    transport: str
    config: McpServerConfig
    status: ServerStatus | None = None
    tools: list[str] = Field(default_factory=list, description="Catalog ids of its tools.")
    created_at: UtcDatetime
    updated_at: UtcDatetime


def _from_server(server: str) -> ColumnElement[bool]:
    """Versions whose source is a tool of `server` (`_` is a LIKE wildcard, so escape it)."""
    pattern = f"{SOURCE_PREFIX}{server}/".replace("\\", "\\\\").replace("_", "\\_")
    return ToolVersionRow.source.like(pattern + "%", escape="\\")


def _config_problem(exc: McpConfigError) -> InvalidInputError | CommandNotAllowedError:
    if isinstance(exc, McpCommandNotAllowedError):
        return CommandNotAllowedError(exc.command, exc.allowed)
    return InvalidInputError(
        str(exc), hint="Check the command/URL; the server must start and answer MCP."
    )


def catalog_name(remote_name: str) -> str:
    """A server's tool name as a catalog name (`[A-Za-z0-9_-]`, at most 64 characters)."""
    return _NOT_NAME.sub("_", remote_name)[:64] or "tool"


def next_version(versions: list[str]) -> str:
    if not versions:
        return "1.0.0"
    major, minor, patch, *_ = parse_version(newest_first(versions)[0])
    return f"{major}.{minor}.{patch + 1}"


class McpServerRegistry:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        catalog: Catalog,
        manager: McpConnectionManager,
        on_change: ChangeCallback,
    ) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._manager = manager
        self._on_change = on_change
        manager.on_tools_changed(self._tools_changed)

    async def restore(self) -> None:
        """Match the connection manager to the saved servers: add the missing ones without
        connecting (each starts on its first call), close those removed elsewhere."""
        async with self._sessions() as session:
            rows = (await session.scalars(select(McpServerRow))).all()
        for gone in set(self._manager.names()) - {row.name for row in rows}:
            await self._manager.remove(gone)
        for row in rows:
            if row.name in self._manager:
                continue
            try:
                config = McpServerConfig.model_validate(row.config)
                await self._manager.add(config, connect=False)
            except (McpConfigError, ValueError) as exc:
                log.warning("MCP server %r not restored: %s", row.name, exc)

    async def add(self, config: McpServerConfig, *, server: Any = None) -> McpServerInfo:
        """Connect, list the tools and store server and tools; on any failure keep nothing.

        A stdio command is checked (exists, allowed) before anything runs or is stored."""
        masked = config.masked_keys()
        if masked:
            raise InvalidInputError(
                f"{', '.join(masked)}: {SECRET_MASK!r} is how secrets are displayed, not a value",
                hint="Send the real secret; listings never show it.",
            )
        if server is None:
            try:
                config = self._manager.vet(config)
            except McpConfigError as exc:
                raise _config_problem(exc) from exc
        async with self._sessions() as session:
            if await session.get(McpServerRow, config.name) is not None:
                raise ConflictError(
                    f"an MCP server named {config.name!r} is already registered",
                    hint=f"Remove it first (`toolfoundry mcp remove {config.name}`) or pick "
                    "another name.",
                )
        try:
            connection = await self._manager.add(config, server=server)
        except McpConfigError as exc:
            raise _config_problem(exc) from exc
        try:
            await self._catalog.ensure_toolkit(config.toolkit, f"Tools of MCP server {config.name}")
            async with self._sessions() as session:
                session.add(
                    McpServerRow(
                        name=config.name,
                        toolkit_id=config.toolkit,
                        transport=config.transport,
                        config=config.model_dump(mode="json"),
                    )
                )
                await session.commit()
            ids = await self._sync(config, connection.tools or [])
        except BaseException as exc:
            await self._manager.remove(config.name)
            await self._forget(config)
            if isinstance(exc, IntegrityError):
                raise ConflictError(
                    f"an MCP server named {config.name!r} was registered concurrently"
                ) from None
            raise
        await self._on_change(ids)
        return await self.get(config.name)

    async def remove(self, name: str) -> list[str]:
        """Unregister a server, close its session and delete its tools; returns their ids."""
        config = await self._config(name)
        if name in self._manager:
            await self._manager.remove(name)
        ids = await self._forget(config)
        await self._on_change(ids)
        return ids

    async def refresh(self, name: str, *, restart: bool = False) -> McpServerInfo:
        """List the server's tools again (`restart`: on a fresh session) and sync the catalog."""
        config = await self._config(name)
        try:
            if restart:
                tools = await self._manager.restart(name)
            else:
                tools = await self._manager.refresh(name)
        except McpConfigError as exc:
            raise InvalidInputError(str(exc)) from exc
        except McpUnavailableError as exc:
            raise BackendUnavailableError(
                str(exc), hint="The server is down; its tools stay as they were. Retry later."
            ) from exc
        await self._on_change(await self._sync(config, tools))
        return await self.get(name)

    async def list(self) -> list[McpServerInfo]:
        async with self._sessions() as session:
            names = (
                await session.scalars(select(McpServerRow.name).order_by(McpServerRow.name))
            ).all()
        return [await self.get(name) for name in names]

    async def get(self, name: str) -> McpServerInfo:
        async with self._sessions() as session:
            row = await session.get(McpServerRow, name)
            if row is None:
                raise self._not_found(name)
            tool_ids = (
                await session.scalars(
                    select(ToolVersionRow.tool_id).where(_from_server(name)).distinct()
                )
            ).all()
        status = self._manager.status(name) if name in self._manager else None
        if status is not None and not status.tool_count and tool_ids:
            # Not listed by a live session yet (servers start on first use): the catalog knows.
            status = status.model_copy(update={"tool_count": len(tool_ids)})
        return McpServerInfo(
            name=row.name,
            toolkit=row.toolkit_id,
            transport=row.transport,
            # Secrets (env and header values) never leave the registry: shown as "***".
            config=McpServerConfig.model_validate(row.config).masked(),
            status=status,
            tools=sorted(tool_ids),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    # --- internals -------------------------------------------------------------------------

    async def _tools_changed(self, name: str, tools: list[McpToolInfo]) -> None:
        """`notifications/tools/list_changed` (or a re-listing that differs): follow it."""
        try:
            config = await self._config(name)
        except NotFoundError:
            return
        await self._on_change(await self._sync(config, tools))

    async def _sync(self, config: McpServerConfig, tools: list[McpToolInfo]) -> list[str]:
        """Store each listed tool (a new version when its schema or description changed) and
        disable the server's tools it no longer lists; they stay in the catalog."""
        listed: set[str] = set()
        for info in tools:
            name = catalog_name(info.name)
            tool_id = f"{config.toolkit}.{name}"
            listed.add(tool_id)
            versions = await self._versions(tool_id)
            current = versions.get(newest_first(list(versions))[0]) if versions else None
            if (
                current is not None
                and current.input_schema == info.input_schema
                and current.description == info.description
                and current.output_schema == info.output_schema
            ):
                continue
            await self._catalog.add_version(
                ToolDefinition(
                    toolkit=config.toolkit,
                    name=name,
                    kind=ToolKind.MCP,
                    version=next_version(list(versions)),
                    description=info.description or info.title or info.name,
                    input_schema=info.input_schema,
                    output_schema=info.output_schema,
                    source=mcp_source(config.name, info.name),
                    timeout=config.call_timeout,
                )
            )
        known = set(await self._tool_ids(config.name))
        for gone in sorted(known - listed):
            await self._catalog.set_state(gone, enabled=False)
            log.info("MCP server %r no longer lists %s: disabled", config.name, gone)
        await self._catalog.record_changes(ChangeEvent.MCP_TOOLS_REFRESHED, [config.name])
        return sorted(known | listed)

    async def _versions(self, tool_id: str) -> dict[str, ToolVersionRow]:
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(ToolVersionRow).where(ToolVersionRow.tool_id == tool_id)
                )
            ).all()
        return {row.version: row for row in rows}

    async def _tool_ids(self, server: str) -> list[str]:
        async with self._sessions() as session:
            return list(
                (
                    await session.scalars(
                        select(ToolVersionRow.tool_id).where(_from_server(server)).distinct()
                    )
                ).all()
            )

    async def _forget(self, config: McpServerConfig) -> list[str]:
        ids = await self._tool_ids(config.name)
        async with self._sessions() as session:
            if ids:
                await session.execute(delete(ToolVersionRow).where(ToolVersionRow.tool_id.in_(ids)))
                await session.execute(delete(ToolRow).where(ToolRow.id.in_(ids)))
            await session.execute(delete(McpServerRow).where(McpServerRow.name == config.name))
            # Bulk deletes bypass the change-recording flush hook: record them here.
            for tool_id in ids:
                record_change(session.sync_session, ChangeEvent.TOOL_REMOVED, tool_id)
            record_change(session.sync_session, ChangeEvent.MCP_SERVER_REMOVED, config.name)
            await session.commit()
        return ids

    async def _config(self, name: str) -> McpServerConfig:
        async with self._sessions() as session:
            row = await session.get(McpServerRow, name)
        if row is None:
            raise self._not_found(name)
        return McpServerConfig.model_validate(row.config)

    @staticmethod
    def _not_found(name: str) -> NotFoundError:
        return NotFoundError(
            f"no MCP server named {name!r}",
            hint="List servers with `toolfoundry mcp list` or GET /api/v1/mcp-servers.",
        )
