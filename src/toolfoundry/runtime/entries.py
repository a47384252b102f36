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

    def put(self, tool_id: str, slot: ToolSlot) -> None:
        self._slots[tool_id] = slot

    def drop(self, tool_id: str) -> None:
        self._slots.pop(tool_id, None)

    def ids(self) -> list[str]:
        return list(self._slots)

    def slot(self, tool_id: str) -> ToolSlot | None:
        return self._slots.get(tool_id)

    def resolve(self, ref: str) -> ToolEntry:
        """`toolkit.tool` → its newest enabled version; `toolkit.tool@1.2.0` → that version."""
        tool_id, _, version = ref.partition("@")
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
