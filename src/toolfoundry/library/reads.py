"""Reading the catalog as callers see it: call records flushed first, versions pinned on request."""

from __future__ import annotations

from toolfoundry.core.errors import NotFoundError
from toolfoundry.core.models import CallRecord, Tool, ToolKind, Toolkit
from toolfoundry.registry.catalog import Catalog, ToolFilter
from toolfoundry.runtime.entries import ToolTable
from toolfoundry.runtime.recorder import CallRecorder


class CatalogReads:
    """Every read flushes pending call records first, so usage counts and effectiveness
    include the calls that were just answered. A tool may be named by its id or by the
    model-safe name it is shown under (`stats__mean`), as calls may."""

    def __init__(self, catalog: Catalog, recorder: CallRecorder, names: ToolTable) -> None:
        self._catalog = catalog
        self._recorder = recorder
        self._names = names

    async def list_toolkits(self, category: str | None = None) -> list[Toolkit]:
        return await self._catalog.list_toolkits(category)

    async def list_tools(
        self,
        *,
        toolkit: str | None = None,
        kind: ToolKind | None = None,
        enabled: bool | None = None,
        q: str | None = None,
        ids: list[str] | None = None,
    ) -> list[Tool]:
        await self._recorder.flush()
        return await self._catalog.list_tools(ToolFilter(toolkit, kind, enabled, q, ids=ids))

    async def get_tool(self, ref: str) -> Tool:
        """A tool as its current version shows it; `toolkit.tool@1.0.0` as 1.0.0 shows it."""
        await self._recorder.flush()
        name, _, version = ref.partition("@")
        tool_id = self._names.canonical_id(name)
        tool = await self._catalog.get_tool(tool_id)
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
        await self._recorder.flush()
        return await self._catalog.recent_calls(limit, tool_id)
