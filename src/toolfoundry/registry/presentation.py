"""How a tool is shown to a model — its name, description, deprecation and usage notes — in one
place. `describe`, the MCP gateway and the agent all compose these functions, so a model reads
the same tool the same way whichever door it came through.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from toolfoundry.core.errors import ConflictError
from toolfoundry.core.models import Tool
from toolfoundry.core.names import provider_tool_name

DEPRECATED = "[deprecated]"
"""The one deprecation marker, before the description."""

Clash = Literal["raise", "skip"]


def model_name(tool_id: str) -> str:
    """The name model APIs accept (`^[a-zA-Z0-9_-]{1,64}$`): `stats.mean` → `stats__mean`."""
    return provider_tool_name(tool_id)


def model_names(tools: Iterable[Tool], *, clash: Clash = "raise") -> dict[str, Tool]:
    """Model-safe name → tool for exactly these tools (the inverse for a rendered set).

    Two ids that render alike (`a.b__c`, `a__b.c`) are a ConflictError with `clash="raise"`;
    with `"skip"` the later one is left out (a ranked list keeps its better tool).
    """
    mapping: dict[str, Tool] = {}
    for tool in tools:
        name = model_name(tool.id)
        known = mapping.setdefault(name, tool)
        if known.id != tool.id and clash == "raise":
            raise ConflictError(
                f"tools '{known.id}' and '{tool.id}' both render as '{name}'",
                hint="Offer only one of them to the model, or rename one.",
            )
    return mapping


def model_description(tool: Tool) -> str:
    """The description a model reads: the deprecation marker first when deprecated."""
    if not tool.deprecated:
        return tool.description
    return f"{DEPRECATED} {tool.description}".rstrip()


def with_usage_notes(tool: Tool, notes: Sequence[str]) -> Tool:
    """`tool` with what usage taught appended to its description (unchanged without notes)."""
    if not notes:
        return tool
    learned = "\n".join(f"- {note}" for note in notes)
    return tool.model_copy(update={"description": f"{tool.description}\n\nFrom usage:\n{learned}"})


def mcp_output_schema(tool: Tool) -> dict[str, Any] | None:
    """The output schema MCP may carry: only object schemas are allowed there."""
    schema = tool.output_schema
    return schema if schema is not None and schema.get("type") == "object" else None


@dataclass(frozen=True, slots=True)
class ToolView:
    """One tool as a model sees it."""

    name: str
    tool_id: str
    description: str
    input_schema: dict[str, Any]


def model_views(tools: Sequence[Tool], *, clash: Clash = "raise") -> list[ToolView]:
    """The tools under model-safe names with their model descriptions, in the given order."""
    return [
        ToolView(name, tool.id, model_description(tool), tool.input_schema)
        for name, tool in model_names(tools, clash=clash).items()
    ]
