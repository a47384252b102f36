"""Catalog data models: what a toolkit, a tool, a version, a call and a result are."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from toolfoundry.core.errors import ToolExecutionError


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Every stored time is UTC; SQLite hands it back without its offset."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
"""A datetime that always carries its UTC offset in API output (`…+00:00`)."""


class ToolKind(StrEnum):
    """Where a tool runs; the dispatcher picks its backend by this value."""

    FUNCTION = "function"
    MCP = "mcp"


class Toolkit(BaseModel):
    """A named group of related tools; its name prefixes every tool id (`toolkit.tool`)."""

    id: str
    name: str
    description: str = ""
    category: str = "general"
    created_at: UtcDatetime = Field(default_factory=utcnow)
    tool_count: int = 0


class ToolVersion(BaseModel):
    """One registered version of a tool; earlier ones stay listable and callable by `@version`."""

    model_config = ConfigDict(from_attributes=True)

    tool_id: str
    version: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None = None
    source: str | None = Field(
        default=None, description="Import reference `module:qualname` for function tools."
    )
    code_hash: str | None = Field(
        default=None, description="sha256 of a function tool's source: the code it pins."
    )
    enabled: bool = True
    deprecated: bool = False
    created_at: UtcDatetime = Field(default_factory=utcnow)


class Tool(BaseModel):
    """A callable tool as the catalog shows it: its current (newest enabled) version plus usage."""

    id: str = Field(description="`toolkit.name`")
    name: str
    description: str
    toolkit: str
    kind: ToolKind
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None = None
    version: str
    enabled: bool = True
    deprecated: bool = False
    tags: list[str] = Field(default_factory=list)
    examples: list[str] = Field(
        default_factory=list, description="Requests the tool serves, in users' words."
    )
    generated_examples: list[str] = Field(
        default_factory=list,
        description="Requests the tool serves, written by a model (`toolfoundry tools examples`); "
        "kept apart from the author's `examples`.",
    )
    usage_count: int = 0
    success_rate: float | None = Field(
        default=None, description="Share of recorded calls that succeeded; None before any call."
    )
    effectiveness_score: float = 0.0
    source: str | None = None
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)
    versions: list[ToolVersion] = Field(default_factory=list)


class ToolError(BaseModel):
    """Why a call failed, in a form a model or a program can act on."""

    type: str = Field(description="Error class, e.g. `ValueError`, `TimeoutError`.")
    message: str
    transient: bool = False


class ToolResult(BaseModel):
    """What every call returns, whatever backend ran it."""

    tool: str
    version: str
    content: str = Field(description="Text rendering of the result, for a model's context.")
    structured: Any = Field(default=None, description="The JSON value the tool returned.")
    blocks: list[dict[str, Any]] | None = Field(
        default=None,
        description="MCP content blocks exactly as the server sent them, when any is not text "
        "(images, audio, resource links, embedded resources).",
    )
    is_error: bool = False
    error: ToolError | None = None
    duration_ms: float = 0.0
    attempts: int = 1

    def raise_for_error(self) -> ToolResult:
        """Return self, or raise ToolExecutionError when the call failed (like httpx)."""
        if self.is_error:
            error = self.error or ToolError(type="ToolError", message=self.content)
            raise ToolExecutionError(f"{self.tool}@{self.version}", error.type, error.message)
        return self


class CallRecord(BaseModel):
    """One recorded call: the ground truth for usage counts and success rates."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    tool_id: str
    version: str
    started_at: UtcDatetime
    duration_ms: float
    success: bool
    error_type: str | None = None
    error_message: str | None = None
    attempts: int = 1
