"""Progress, log messages and cancellation forwarded through the gateway, on both protocol eras:
a fastmcp client over streamable HTTP to a live `toolfoundry serve`, whose upstream is a real
stdio MCP server (tests/gateway/servers/media_server.py)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastmcp import Client
from mcp_types import LoggingMessageNotificationParams

MEDIA_SERVER = Path(__file__).parent / "servers" / "media_server.py"
ERAS = {"legacy": "2025-11-25", "2026-07-28": "2026-07-28"}


@pytest.fixture
async def gateway_url(served: tuple[str, FastAPI], tmp_path: Path) -> str:
    base, app = served
    media = [str(MEDIA_SERVER), "stdio", str(tmp_path)]
    await app.state.library.add_mcp_server(
        {"name": "media", "command": sys.executable, "args": media}
    )
    return f"{base}/mcp"


async def appears(path: Path, seconds: float = 20) -> bool:
    async with asyncio.timeout(seconds):
        while not path.exists():  # noqa: ASYNC110, ASYNC240 - a file another process writes
            await asyncio.sleep(0.05)
    return True


@pytest.mark.parametrize("mode", list(ERAS))
async def test_progress_and_logs_reach_the_caller(
    gateway_url: str, admin_token: str, mode: str
) -> None:
    progress: list[tuple[float, float | None, str | None]] = []
    logs: list[LoggingMessageNotificationParams] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async def on_log(message: LoggingMessageNotificationParams) -> None:
        logs.append(message)

    client: Client[Any] = Client(gateway_url, auth=admin_token, mode=mode, log_handler=on_log)
    async with client:
        assert client.protocol_version == ERAS[mode]
        done = await client.call_tool("media.crunch", {"steps": 2}, progress_handler=on_progress)
        assert done.content[0].text == "done 2"
        said = await client.call_tool("media.chatty", {"lines": 2})
        assert said.content[0].text == "said 2"
        via_meta = await client.call_tool(
            "call_tool", {"name": "media.chatty", "arguments": {"lines": 1}}
        )
        assert via_meta.structured_content["result"] == {"result": "said 1"}
    assert progress == [(1, 2, "step 1"), (2, 2, "step 2")]
    # As the upstream sent them: level, logger and data unchanged.
    assert [(m.level, m.logger, m.data["msg"]) for m in logs] == [
        ("warning", "media", "line 1"),
        ("warning", "media", "line 2"),
        ("warning", "media", "line 1"),
    ]


@pytest.mark.parametrize("mode", list(ERAS))
@pytest.mark.parametrize("via", ["tool", "call_tool"])
async def test_cancelling_a_call_cancels_it_upstream(
    gateway_url: str, admin_token: str, tmp_path: Path, mode: str, via: str
) -> None:
    tag = f"{via}-{mode}"
    async with Client(gateway_url, auth=admin_token, mode=mode) as client:
        if via == "tool":
            pending = client.call_tool("media.wait", {"tag": tag})
        else:
            pending = client.call_tool(
                "call_tool", {"name": "media.wait", "arguments": {"tag": tag}}
            )
        call = asyncio.ensure_future(pending)
        assert await appears(tmp_path / f"started-{tag}")
        call.cancel()  # the client sends notifications/cancelled
        with contextlib.suppress(asyncio.CancelledError):
            await call
        # The gateway cancels its upstream request: the upstream tool sees the cancel.
        assert await appears(tmp_path / f"cancelled-{tag}")
        # The session goes on working.
        done = await client.call_tool("media.crunch", {"steps": 1})
        assert done.content[0].text == "done 1"


async def test_logs_never_reach_another_caller(
    gateway_url: str, admin_token: str, tmp_path: Path
) -> None:
    """MCP ties log messages to the upstream session, which all callers share: while two calls
    are in flight a message cannot be attributed, so neither caller is sent it."""
    heard: dict[str, list[Any]] = {"a": [], "b": []}

    def collect(who: str) -> Any:
        async def on_log(message: LoggingMessageNotificationParams) -> None:
            heard[who].append(message)

        return on_log

    async with (
        Client(gateway_url, auth=admin_token, log_handler=collect("a")) as a,
        Client(gateway_url, auth=admin_token, log_handler=collect("b")) as b,
    ):
        waiting = asyncio.ensure_future(a.call_tool("media.wait", {"tag": "shared"}))
        assert await appears(tmp_path / "started-shared")
        said = await b.call_tool("media.chatty", {"lines": 2})
        assert said.content[0].text == "said 2"
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        assert await appears(tmp_path / "cancelled-shared")
        alone = await b.call_tool("media.chatty", {"lines": 1})  # alone again: relayed
        assert alone.content[0].text == "said 1"
    assert heard["a"] == []
    assert [m.data["msg"] for m in heard["b"]] == ["line 1"]
