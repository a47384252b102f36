"""The in-memory table of callable tool versions the dispatcher resolves against.

It mirrors the catalog (the database is the source of truth) so that a call costs a dict lookup,
not a query. The library refreshes a tool's slot whenever the catalog changes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import process

from toolfoundry.core.errors import BackendUnavailableError, NotFoundError, ToolNotFoundError
from toolfoundry.core.models import ToolKind
from toolfoundry.core.names import provider_tool_name


@dataclass(slots=True)
class ToolEntry:
    """One callable version of a tool."""

    tool_id: str
    version: str
    kind: ToolKind
    validate: Callable[[dict[str, Any]], dict[str, Any]]
    target: Any  # what the backend needs: a Python callable, or (server, tool name) for MCP
    timeout: float | None = None
    retries: int = 0
    enabled: bool = True
    unavailable: str | None = None  # why the target could not be loaded, if it could not
    # The shared resource whose calls have their own concurrency limit (e.g. "mcp server
    # 'files'"), besides the tool's own; None when the tool shares nothing but the process.
    bulkhead: str | None = None


@dataclass(slots=True)
class ToolSlot:
    """All versions of one tool, newest first."""

    enabled: bool
    versions: list[ToolEntry] = field(default_factory=list)

    def newest_enabled(self) -> ToolEntry | None:
        return next((v for v in self.versions if v.enabled), None)


class ToolTable:
    def __init__(self) -> None:
        self._slots: dict[str, ToolSlot] = {}
        # Model-safe name (`stats__mean`) → tool id, or None when two ids render alike.
        self._aliases: dict[str, str | None] = {}

    def put(self, tool_id: str, slot: ToolSlot) -> None:
        self._slots[tool_id] = slot
        alias = provider_tool_name(tool_id)
        if alias != tool_id:
            known = self._aliases.get(alias, tool_id)
            self._aliases[alias] = tool_id if known == tool_id else None

    def drop(self, tool_id: str) -> None:
        if self._slots.pop(tool_id, None) is not None:
            alias = provider_tool_name(tool_id)
            self._aliases.pop(alias, None)
            for other in self._slots:  # a name two ids shared may be unique again
                if provider_tool_name(other) == alias:
                    self.put(other, self._slots[other])

    def knows(self, ref: str) -> bool:
        """Whether `ref` names a tool of the table (by id or model-safe name), callable or not."""
        tool_id = ref.partition("@")[0]
        return tool_id in self._slots or self._aliases.get(tool_id) is not None

    def exposed_name(self, tool_id: str) -> str:
        """The model-safe name a tool is offered under (its id when two ids render alike)."""
        alias = provider_tool_name(tool_id)
        return alias if self._aliases.get(alias, tool_id) == tool_id else tool_id

    def canonical_id(self, name: str) -> str:
        """The tool id behind `name`: the id itself, or the id a model-safe name stands for."""
        if name in self._slots:
            return name
        if name in self._aliases and self._aliases[name] is None:
            clashing = sorted(i for i in self._slots if provider_tool_name(i) == name)
            raise NotFoundError(
                f"{name!r} stands for more than one tool: {', '.join(clashing)}",
                hint="Call the tool by its dotted id.",
            )
        return self._aliases.get(name) or name

    def ids(self) -> list[str]:
        return list(self._slots)

    def slot(self, tool_id: str) -> ToolSlot | None:
        return self._slots.get(tool_id)

    def resolve(self, ref: str) -> ToolEntry:
        """`toolkit.tool` → its newest enabled version; `toolkit.tool@1.2.0` → that version."""
        name, _, version = ref.partition("@")
        tool_id = self.canonical_id(name)
        slot = self._slots.get(tool_id)
        if slot is None:
            raise ToolNotFoundError(ref, self.suggest(tool_id))
        if not slot.enabled:
            raise NotFoundError(
                f"tool {tool_id!r} is disabled",
                hint=f"Enable it with `toolfoundry tools enable {tool_id}`.",
            )
        if version:
            entry = next((v for v in slot.versions if v.version == version), None)
            if entry is None:
                known = ", ".join(v.version for v in slot.versions)
                raise NotFoundError(
                    f"{tool_id} has no version {version!r}", hint=f"Known versions: {known}."
                )
            if not entry.enabled:
                raise NotFoundError(
                    f"{ref} is disabled",
                    hint=f"Enable it with `toolfoundry tools enable {ref}` or call {tool_id}.",
                )
        else:
            entry = slot.newest_enabled()
            if entry is None:
                raise NotFoundError(
                    f"every version of {tool_id} is disabled",
                    hint=f"Enable one with `toolfoundry tools enable {tool_id}@VERSION`.",
                )
        if entry.unavailable:
            raise BackendUnavailableError(
                f"{entry.tool_id}@{entry.version} cannot run: {entry.unavailable}",
                hint="Install what it needs and restart, or disable the tool.",
            )
        return entry

    def suggest(self, tool_id: str, limit: int = 3) -> list[str]:
        matches = process.extract(tool_id, list(self._slots), limit=limit, score_cutoff=60)
        return [match for match, _score, _index in matches]
