"""Loading the dispatcher's in-memory call table from the catalog."""

from __future__ import annotations

from collections.abc import Iterable

from toolfoundry.core.models import ToolKind
from toolfoundry.registry.catalog import Catalog
from toolfoundry.registry.versions import parse_version
from toolfoundry.runtime.backends import BackendRegistry
from toolfoundry.runtime.entries import ToolSlot, ToolTable


class CallTableLoader:
    def __init__(self, catalog: Catalog, backends: BackendRegistry, table: ToolTable) -> None:
        self._catalog = catalog
        self._backends = backends
        self._table = table

    async def reload(self, tool_ids: Iterable[str] | None = None) -> None:
        """Rebuild the call table from the catalog (all tools, or the given ones)."""
        wanted = set(tool_ids) if tool_ids is not None else None
        rows = await self._catalog.all_versions(tool_ids=wanted)
        slots: dict[str, ToolSlot] = {}
        for tool_row, version_row in rows:
            slot = slots.setdefault(tool_row.id, ToolSlot(enabled=tool_row.enabled))
            backend = self._backends.get(ToolKind(tool_row.kind))
            slot.versions.append(backend.load(tool_row, version_row))
        for tool_id, slot in slots.items():
            slot.versions.sort(key=lambda e: parse_version(e.version), reverse=True)
            self._table.put(tool_id, slot)
        for tool_id in (wanted or set()) - slots.keys():
            self._table.drop(tool_id)
