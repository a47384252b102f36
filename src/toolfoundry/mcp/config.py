"""Models for MCP servers: how to reach one, what it offers, how it is doing."""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlparse

import mcp_types
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from toolfoundry.core.models import UtcDatetime
from toolfoundry.mcp.breaker import BreakerState

__all__ = [
    "SECRET_MASK",
    "McpServerConfig",
    "McpToolInfo",
    "ServerState",
    "ServerStatus",
    "Transport",
]

Transport = Literal["stdio", "http", "sse"]
ServerState = Literal["connected", "connecting", "unhealthy", "stopped"]

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_TRANSPORT_ALIASES: dict[str, Transport] = {
    "stdio": "stdio",
    "http": "http",
    "streamable-http": "http",
    "streamable_http": "http",
    "streamablehttp": "http",
    "sse": "sse",
}
# What API and CLI show instead of `env` and `headers` values: tokens live there.
SECRET_MASK = "***"
_STDIO_FIELDS = ("command", "args", "env", "cwd")
_HTTP_FIELDS = ("url", "headers", "failover_urls")


def _check_name(value: str, what: str) -> str:
    if not NAME_PATTERN.match(value):
        raise ValueError(
            f"{what} {value!r} is invalid: use 1-64 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return value


class McpServerConfig(BaseModel):
    """How to start or reach one MCP server, and the limits the connection manager applies to it.

    `transport` may be omitted: a `command` means stdio, a `url` means streamable HTTP.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    transport: Transport
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    toolkit: str = Field("", description="Catalog toolkit of its tools; defaults to `name`.")
    failover_urls: list[str] = Field(
        default_factory=list, description="Alternative endpoints, tried in order after `url`."
    )
    init_timeout: float = Field(30.0, gt=0, description="Seconds to start and initialize.")
    call_timeout: float = Field(60.0, gt=0, description="Default seconds per tool call.")
    idle_timeout: float | None = Field(
        None, gt=0, description="Stop a session unused this many seconds; None keeps it."
    )
    health_interval: float | None = Field(
        30.0, gt=0, description="Seconds between health pings; None disables them."
    )
    health_timeout: float = Field(10.0, gt=0, description="Seconds a health ping may take.")
    breaker_threshold: int = Field(3, ge=1, description="Consecutive failures that open it.")
    breaker_cooldown: float = Field(5.0, gt=0, description="Seconds before the first probe.")
    retry_safe_tools: list[str] = Field(
        default_factory=list,
        description="Tools whose calls may be repeated on a fresh session when the session died"
        " mid-call, beyond those the server annotates idempotentHint/readOnlyHint; `*` for all.",
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("transport") is None:
            if data.get("command") and data.get("url"):
                raise ValueError("both `command` and `url` given: set `transport` or drop one")
            if data.get("command"):
                data["transport"] = "stdio"
            elif data.get("url"):
                data["transport"] = "http"
            else:
                raise ValueError(
                    "give either `command` (a stdio server) or `url` (an http/sse server)"
                )
        if not data.get("toolkit") and isinstance(data.get("name"), str):
            data["toolkit"] = data["name"]
        return data

    @field_validator("transport", mode="before")
    @classmethod
    def _normalize_transport(cls, value: Any) -> Any:
        if isinstance(value, str) and value.lower() in _TRANSPORT_ALIASES:
            return _TRANSPORT_ALIASES[value.lower()]
        raise ValueError(f"unknown transport {value!r}: use one of 'stdio', 'http', 'sse'")

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        return _check_name(value, "server name")

    @field_validator("toolkit")
    @classmethod
    def _valid_toolkit(cls, value: str) -> str:
        return _check_name(value, "toolkit")

    @model_validator(mode="after")
    def _check_transport_fields(self) -> McpServerConfig:
        if self.transport == "stdio":
            if not self.command:
                raise ValueError("a stdio server needs `command` (the program that starts it)")
            misplaced = [field for field in _HTTP_FIELDS if getattr(self, field)]
            if misplaced:
                raise ValueError(
                    f"a stdio server does not take {', '.join(misplaced)} (used by http/sse)"
                )
        else:
            if not self.url:
                raise ValueError(f"an {self.transport} server needs `url`")
            for url in (self.url, *self.failover_urls):
                parsed = urlparse(url)
                if parsed.scheme not in ("http", "https") or not parsed.netloc:
                    raise ValueError(f"url {url!r} is not an http:// or https:// URL")
            misplaced = [field for field in _STDIO_FIELDS if getattr(self, field)]
            if misplaced:
                raise ValueError(
                    f"an {self.transport} server does not take {', '.join(misplaced)} "
                    "(used by stdio)"
                )
        return self

    def masked(self) -> McpServerConfig:
        """This config with every `env` and `headers` value replaced by `***` (keys kept)."""
        return self.model_copy(
            update={
                "env": dict.fromkeys(self.env, SECRET_MASK),
                "headers": dict.fromkeys(self.headers, SECRET_MASK),
            }
        )

    def masked_keys(self) -> list[str]:
        """`env`/`headers` keys whose value is the mask: a copied display, not a secret."""
        return [
            f"{field}.{key}"
            for field in ("env", "headers")
            for key, value in getattr(self, field).items()
            if value == SECRET_MASK
        ]

    @property
    def urls(self) -> list[str]:
        """The endpoints to try, in order."""
        return [self.url, *self.failover_urls] if self.url else []


class McpToolInfo(BaseModel):
    """One tool as a server lists it. `annotations` keep their MCP (camelCase) names."""

    model_config = ConfigDict(frozen=True)

    name: str
    title: str | None = None
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    output_schema: dict[str, Any] | None = None
    annotations: dict[str, Any] = Field(default_factory=dict)

    @property
    def retry_safe(self) -> bool:
        """The server says a repeat has no further effect (MCP tool annotations)."""
        return bool(self.annotations.get("readOnlyHint") or self.annotations.get("idempotentHint"))

    @classmethod
    def from_mcp(cls, tool: mcp_types.Tool) -> McpToolInfo:
        annotations = tool.annotations
        return cls(
            name=tool.name,
            title=tool.title or (annotations.title if annotations else None),
            description=tool.description or "",
            input_schema=dict(tool.input_schema),
            output_schema=dict(tool.output_schema) if tool.output_schema else None,
            annotations=(
                annotations.model_dump(by_alias=True, exclude_none=True) if annotations else {}
            ),
        )


class ServerStatus(BaseModel):
    """A point-in-time report on one server's connection."""

    name: str
    state: ServerState
    breaker: BreakerState
    last_error: str | None = None
    latency_ms: float | None = Field(
        None, description="Median of recent successful calls and pings."
    )
    tool_count: int = 0
    connected_since: UtcDatetime | None = None
    consecutive_failures: int = 0
    endpoint: str | None = Field(None, description="The URL in use (http/sse), after failover.")
