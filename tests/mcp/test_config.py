"""McpServerConfig validation: every bad input gets an error that names what is wrong."""

from __future__ import annotations

from typing import Any

import mcp_types
import pytest
from pydantic import ValidationError

from toolfoundry.mcp import McpServerConfig, McpToolInfo


def error_text(**fields: Any) -> str:
    with pytest.raises(ValidationError) as info:
        McpServerConfig.model_validate(fields)
    return str(info.value)


def test_stdio_config_defaults_toolkit_to_name() -> None:
    config = McpServerConfig(name="time", transport="stdio", command="mcp-server-time")
    assert config.toolkit == "time"
    assert config.args == [] and config.env == {}
    assert config.urls == []


def test_transport_is_inferred_from_command_or_url() -> None:
    assert McpServerConfig.model_validate({"name": "a", "command": "x"}).transport == "stdio"
    http = McpServerConfig.model_validate({"name": "b", "url": "https://h.example/mcp"})
    assert http.transport == "http"


@pytest.mark.parametrize("alias", ["streamable-http", "Streamable_HTTP", "streamableHttp"])
def test_streamable_http_aliases_mean_http(alias: str) -> None:
    config = McpServerConfig(name="a", transport=alias, url="http://h/mcp")  # type: ignore[arg-type]
    assert config.transport == "http"


def test_unknown_transport_names_the_allowed_ones() -> None:
    text = error_text(name="a", transport="websocket", url="http://h/mcp")
    assert "unknown transport 'websocket'" in text
    assert "'stdio', 'http', 'sse'" in text


def test_stdio_needs_command() -> None:
    assert "a stdio server needs `command`" in error_text(name="a", transport="stdio")


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_http_and_sse_need_url(transport: str) -> None:
    assert f"an {transport} server needs `url`" in error_text(name="a", transport=transport)


@pytest.mark.parametrize("url", ["ftp://h/mcp", "localhost:8000/mcp", "http://"])
def test_url_must_be_http_or_https(url: str) -> None:
    assert "is not an http:// or https:// URL" in error_text(name="a", transport="http", url=url)


def test_failover_urls_are_checked_too() -> None:
    text = error_text(name="a", url="http://h/mcp", failover_urls=["file:///x"])
    assert "'file:///x' is not an http:// or https:// URL" in text


def test_neither_command_nor_url() -> None:
    assert "give either `command`" in error_text(name="a")


def test_fields_of_the_other_transport_are_rejected() -> None:
    text = error_text(name="a", transport="stdio", command="x", url="http://h")
    assert "a stdio server does not take url" in text
    text = error_text(name="a", transport="sse", url="http://h/sse", command="x", args=["-v"])
    assert "an sse server does not take command, args" in text


def test_command_and_url_without_transport_is_ambiguous() -> None:
    text = error_text(name="a", command="x", url="http://h/mcp")
    assert "both `command` and `url` given" in text


@pytest.mark.parametrize("name", ["Time", "my server", "-x", "", "a" * 65, "naïve"])
def test_bad_names_are_rejected(name: str) -> None:
    assert "server name" in error_text(name=name, command="x")


def test_bad_toolkit_is_rejected() -> None:
    assert "toolkit 'My Kit' is invalid" in error_text(name="a", command="x", toolkit="My Kit")


@pytest.mark.parametrize(
    ("field", "value"),
    [("init_timeout", 0), ("call_timeout", -1), ("idle_timeout", 0), ("breaker_threshold", 0)],
)
def test_limits_must_be_positive(field: str, value: float) -> None:
    assert field in error_text(name="a", command="x", **{field: value})


def test_unknown_fields_are_rejected() -> None:
    assert "networks" in error_text(name="a", command="x", networks=True)


def test_tool_info_from_mcp_keeps_schemas_and_spec_annotation_names() -> None:
    tool = mcp_types.Tool(
        name="get_time",
        description="Now.",
        input_schema={"type": "object", "properties": {"tz": {"type": "string"}}},
        output_schema={"type": "object"},
        annotations=mcp_types.ToolAnnotations(read_only_hint=True, title="Get time"),
    )
    info = McpToolInfo.from_mcp(tool)
    assert info.input_schema["properties"] == {"tz": {"type": "string"}}
    assert info.output_schema == {"type": "object"}
    assert info.annotations == {"readOnlyHint": True, "title": "Get time"}
    assert info.title == "Get time"
