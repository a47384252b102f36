"""Which catalog tools a virtual server reaches: its listed tools, and all `call_tool` and
`discover_tools` may touch. The member set is recomputed only when the catalog changed."""

from __future__ import annotations

from toolfoundry.core.errors import ToolfoundryError
from toolfoundry.core.models import Tool
from toolfoundry.gateway.ports import GatewayCatalog
from toolfoundry.registry.views import VirtualServer


class ViewScope:
    def __init__(self, library: GatewayCatalog, view: VirtualServer) -> None:
        self.library = library
        self.view = view
        self._version = -1
        self._members: dict[str, Tool] = {}

    async def members(self) -> dict[str, Tool]:
        """Every tool of the view by id, enabled or not."""
        if self._version != self.library.catalog_version:
            version = self.library.catalog_version
            tools = await self.library.list_tools()
            self._members = {t.id: t for t in tools if self.view.includes(t)}
            self._version = version
        return self._members

    async def allows(self, ref: str) -> bool:
        """Whether `ref` (an id, a model-safe name, optionally @version) is in the view."""
        name = ref.partition("@")[0]
        try:
            tool_id = self.library.names.canonical_id(name)
        except ToolfoundryError:  # ambiguous model-safe name: the dispatcher explains it
            return True
        return tool_id in await self.members()

    def refusal(self, ref: str) -> str:
        return (
            f"'{ref}' is not part of the virtual server '{self.view.name}'.\n"
            "Call `discover_tools` to find the tools this server offers."
        )
