"""One long-lived MCP session per server, shared by every concurrent call.

Session lifetime: each session is a fastmcp `Client` entered *and* exited by one owner task
(`_Session`), so transport contexts and anyio cancel scopes never cross tasks and a stdio child
is always stopped by the task that spawned it. Callers only borrow the live client; the MCP
session multiplexes their requests by JSON-RPC id.

The connection starts lazily on first use, pings the server every `health_interval` seconds,
reconnects after a crash, a restart or an expired HTTP session (a request that failed because
its session died is retried once on a fresh one — a tool call only when the tool is safe to
repeat, see `_retry_safe`), fails fast through a circuit breaker while the
server stays down, tries failover URLs in order, and stops an idle session after `idle_timeout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import httpx2
import mcp_types
from fastmcp import Client
from fastmcp.client.logging import default_log_handler
from fastmcp.client.transports import (
    ClientTransport,
    SSETransport,
    StdioTransport,
    StreamableHttpTransport,
)
from mcp import MCPError
from pydantic import ValidationError

from toolfoundry.mcp.breaker import CircuitBreaker
from toolfoundry.mcp.config import McpServerConfig, McpToolInfo, ServerState, ServerStatus
from toolfoundry.mcp.delivery import Delivery, watched_http_client, watching
from toolfoundry.mcp.errors import (
    McpOutcomeUnknownError,
    McpTimeoutError,
    McpToolError,
    McpUnavailableError,
)
from toolfoundry.mcp.launch import child_env
from toolfoundry.mcp.relay import LogRelay, log_relay, progress_relay

if TYPE_CHECKING:
    from fastmcp import FastMCP

__all__ = ["McpConnection", "ToolsChangedCallback"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
ToolsChangedCallback = Callable[[str, list[McpToolInfo]], Awaitable[None] | None]

# FastMCP servers print a banner and check for updates over the network at start.
_QUIET_FASTMCP_ENV = {"FASTMCP_SHOW_SERVER_BANNER": "false", "FASTMCP_CHECK_FOR_UPDATES": "off"}
# Bounds the stdio shutdown sequence (flush 0.5 s, stdin close 2 s, SIGTERM 2 s, SIGKILL 2 s).
_STOP_TIMEOUT = 10.0
_LATENCY_WINDOW = 100
_RECONNECT_BASE = 0.5
_RECONNECT_MAX = 30.0
_STDERR_TAIL = 1500


# Errors of a transport whose connection is gone.
_TRANSPORT_ERRORS = (
    OSError,
    httpx2.HTTPError,
    anyio.ClosedResourceError,
    anyio.BrokenResourceError,
    anyio.EndOfStream,
)


class _SessionLostError(Exception):
    """A request failed because its session is gone; the cause says how.

    `delivered` is False when the server provably never ran the request (it answered that it
    does not know the session, or the connection was refused), so repeating it is always safe."""

    def __init__(self, *, delivered: bool = True) -> None:
        super().__init__()
        self.delivered = delivered


class _Session:
    """One fastmcp `Client`, entered and exited by a single owner task."""

    def __init__(self, client: Client[Any], endpoint: str | None) -> None:
        self.client = client
        self.endpoint = endpoint
        self.alive = False
        self.error: BaseException | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self, init_timeout: float) -> None:
        self._task = asyncio.create_task(self._own(init_timeout), name=f"mcp-{self.client.name}")

    async def _own(self, init_timeout: float) -> None:
        try:
            async with AsyncExitStack() as stack:
                with anyio.fail_after(init_timeout):
                    await stack.enter_async_context(self.client)
                self.alive = True
                self._ready.set()
                await self._stop.wait()
        except Exception as exc:
            # After a crash the client re-raises the transport's error on exit; only an error
            # before the session was up is news.
            if not self._ready.is_set():
                self.error = exc
        finally:
            self.alive = False
            self._ready.set()

    async def wait_ready(self) -> None:
        await self._ready.wait()
        if self.error is not None:
            raise self.error
        if not self.alive:
            raise RuntimeError("the session ended before it could be used")

    async def stop(self) -> None:
        """Exit the client in its owner task (reaping a stdio child); bounded, idempotent."""
        self.alive = False
        self._stop.set()
        task = self._task
        if task is None or task.done():
            return
        if not self._ready.is_set():
            task.cancel()  # still connecting: fastmcp tears a cancelled connect down itself
        # A cancelled waiter leaves the stop running: the owner task has its orders.
        done, _ = await asyncio.wait({task}, timeout=_STOP_TIMEOUT)
        if not done:
            task.cancel()
            await asyncio.wait({task}, timeout=_STOP_TIMEOUT)


class McpConnection:
    """A managed connection to one MCP server.

    `server` replaces the transport built from `config` (a fastmcp `ClientTransport`, or a
    `FastMCP` instance for in-memory tests); `config` still supplies name, timeouts and breaker.
    `on_tools_changed(name, tools)` runs when a new listing differs from the previous one: after
    `notifications/tools/list_changed`, a reconnect, or an explicit `list_tools()`.
    """

    def __init__(
        self,
        config: McpServerConfig,
        *,
        server: ClientTransport | FastMCP[Any] | None = None,
        on_tools_changed: ToolsChangedCallback | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._server = server
        self._on_tools_changed = on_tools_changed
        self._clock = clock
        self._breaker = CircuitBreaker(
            config.breaker_threshold, config.breaker_cooldown, clock=clock
        )
        self._session: _Session | None = None
        self._sessions: set[_Session] = set()
        self._connecting: asyncio.Task[_Session] | None = None
        self._monitor_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._tools: list[McpToolInfo] | None = None
        self._latencies: deque[float] = deque(maxlen=_LATENCY_WINDOW)
        self._down = False
        self._last_error: str | None = None
        self._connected_since: datetime | None = None
        self._connects = 0
        self._in_flight = 0
        self._log_listeners: list[LogRelay] = []  # gateway calls in flight that relay logs
        self._last_used = clock()
        self._closed = False
        self._stderr_path: Path | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def tools(self) -> list[McpToolInfo] | None:
        """The last tool listing, or None before the first one."""
        return self._tools

    @property
    def stderr_path(self) -> Path | None:
        """Where a stdio server's stderr goes (truncated at each start; removed by `close`)."""
        return self._stderr_path

    # --- public operations -------------------------------------------------------------

    async def start(self) -> list[McpToolInfo]:
        """Connect, initialize and list the tools."""
        return await self.list_tools()

    async def list_tools(self) -> list[McpToolInfo]:
        """List the server's tools (following pagination) and remember them."""

        async def send(client: Client[Any]) -> list[mcp_types.Tool]:
            with anyio.fail_after(self.config.call_timeout):
                return await client.list_tools()

        return await self._remember_tools(await self._request("tools/list", send))

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - becomes the request's own deadline
    ) -> mcp_types.CallToolResult:
        """Call a tool and return its raw result; a tool that failed has `is_error` set.

        `timeout` (default `config.call_timeout`) is the MCP request's deadline: on expiry the
        server is sent a cancellation instead of being left to finish unobserved."""
        seconds = timeout or self.config.call_timeout
        relay = progress_relay.get()
        log = log_relay.get()
        if log is not None:
            self._log_listeners.append(log)
        try:
            return await self._request(
                f"tools/call {name!r}",
                lambda client: client.call_tool_mcp(
                    name, arguments or {}, timeout=seconds, progress_handler=relay
                ),
                retry_tool=name,
            )
        finally:
            if log is not None:
                self._log_listeners.remove(log)

    async def client(self) -> Client[Any]:
        """The pooled, connected client (connecting first if needed), for requests this class
        does not wrap (resources, prompts). Nesting `async with` on it keeps it open."""
        if self._closed:
            raise McpUnavailableError(f"MCP server {self.name!r} is closed", server=self.name)
        self._last_used = self._clock()
        return (await self._ensure_session()).client

    async def ping(self) -> float:
        """Send an MCP ping; returns the round trip in milliseconds."""
        started = time.perf_counter()

        async def send(client: Client[Any]) -> bool:
            with anyio.fail_after(self.config.health_timeout):
                return await client.ping()

        await self._request("ping", send)
        return (time.perf_counter() - started) * 1000

    def status(self) -> ServerStatus:
        return ServerStatus(
            name=self.name,
            state=self._state(),
            breaker=self._breaker.state,
            last_error=self._last_error,
            latency_ms=round(statistics.median(self._latencies), 3) if self._latencies else None,
            tool_count=len(self._tools or ()),
            connected_since=self._connected_since,
            consecutive_failures=self._breaker.consecutive_failures,
            endpoint=self._session.endpoint if self._session else None,
        )

    async def close(self) -> None:
        """Stop every session (reaping stdio children) and the background tasks. Idempotent."""
        self._closed = True
        tasks = [t for t in (self._connecting, self._monitor_task, *self._background) if t]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=_STOP_TIMEOUT)
        self._session = None
        await asyncio.gather(*(session.stop() for session in list(self._sessions)))
        self._sessions.clear()
        if self._stderr_path is not None:
            self._stderr_path.unlink(missing_ok=True)

    # --- requests ----------------------------------------------------------------------

    async def _request(
        self,
        what: str,
        send: Callable[[Client[Any]], Awaitable[T]],
        *,
        retry_tool: str | None = None,
    ) -> T:
        """Run one request through the breaker, on the shared session, retrying once on a
        fresh session if the first one died under it (for a call of `retry_tool`: only when
        that tool is safe to repeat)."""
        if self._closed:
            raise McpUnavailableError(f"MCP server {self.name!r} is closed", server=self.name)
        probing = self._breaker.state != "closed"
        if not self._breaker.allow():
            raise self._breaker_open_error()
        self._in_flight += 1
        started = time.perf_counter()
        try:
            result = await self._send_with_retry(what, send, retry_tool)
        except (McpUnavailableError, McpTimeoutError) as exc:
            if isinstance(exc, McpTimeoutError):
                self._last_error = str(exc)
            self._breaker.record_failure()
            raise
        except McpToolError:
            self._breaker.record_success()  # the server answered: it is up
            raise
        except BaseException:
            if probing:
                self._breaker.release()
            raise
        else:
            self._breaker.record_success()
            self._latencies.append((time.perf_counter() - started) * 1000)
            return result
        finally:
            self._in_flight -= 1
            self._last_used = self._clock()

    async def _send_with_retry(
        self, what: str, send: Callable[[Client[Any]], Awaitable[T]], retry_tool: str | None
    ) -> T:
        session = await self._ensure_session()
        try:
            return await self._send(session, what, send)
        except _SessionLostError as lost:
            reason = f"session lost during {what}: {_describe(lost.__cause__)}"
            self._drop(session, reason)
            if lost.delivered and retry_tool is not None and not await self._retry_safe(retry_tool):
                # At most once: the tool may have run before the session died.
                raise McpOutcomeUnknownError(
                    f"MCP server {self.name!r}: the session died while {what} was running "
                    f"({_describe(lost.__cause__)}), so the outcome is unknown — the tool may or"
                    " may not have run. It was not retried because the tool is not annotated "
                    "idempotentHint/readOnlyHint nor listed in the server's retry_safe_tools;"
                    " retrying may repeat its side effects, so check its effect first",
                    server=self.name,
                ) from lost.__cause__
        if self._closed:
            raise McpUnavailableError(f"MCP server {self.name!r} was closed", server=self.name)
        session = await self._ensure_session()
        try:
            return await self._send(session, what, send)
        except _SessionLostError as lost:
            reason = f"session lost twice during {what}: {_describe(lost.__cause__)}"
            self._drop(session, reason)
            raise McpUnavailableError(
                f"MCP server {self.name!r} is unavailable ({reason}); {self._advice()}",
                server=self.name,
            ) from lost.__cause__

    async def _send(
        self, session: _Session, what: str, send: Callable[[Client[Any]], Awaitable[T]]
    ) -> T:
        """Send on `session`, sorting failures into timeout, tool error and lost session."""
        with watching() as delivery:
            try:
                return await send(session.client)
            except MCPError as exc:
                if _session_rejected(exc):
                    raise _SessionLostError(delivered=False) from exc
                if exc.code == mcp_types.CONNECTION_CLOSED:
                    raise _SessionLostError(delivered=self._reached(delivery)) from exc
                if exc.code == mcp_types.REQUEST_TIMEOUT:
                    raise self._timeout_error(what) from exc
                raise McpToolError(
                    f"MCP server {self.name!r} rejected {what}: {exc.message}",
                    server=self.name,
                    code=exc.code,
                ) from exc
            except TimeoutError as exc:
                raise self._timeout_error(what) from exc
            except _TRANSPORT_ERRORS as exc:
                raise _SessionLostError(delivered=self._reached(delivery)) from exc
            except Exception as exc:
                # fastmcp re-raises a dead session task's error, or "not connected", as is.
                if not session.client.is_connected():
                    raise _SessionLostError(delivered=self._reached(delivery)) from exc
                if isinstance(exc, ValidationError | RuntimeError):
                    # The SDK checks a result against the MCP schema and the output schema.
                    raise McpToolError(
                        f"MCP server {self.name!r} answered {what} with an invalid result: {exc}",
                        server=self.name,
                    ) from exc
                raise

    def _reached(self, delivery: Delivery) -> bool:
        """Whether a request lost with its session may have run. Only HTTP requests are watched
        (see mcp/delivery.py); over stdio a lost request may always have run."""
        watched = self._server is None and self.config.transport != "stdio"
        return delivery.reached_server if watched else True

    async def _retry_safe(self, tool: str) -> bool:
        """Whether a call of `tool` may be repeated: configured so, or annotated by the server
        (from its listing; listed on a fresh session when never listed before)."""
        allowed = self.config.retry_safe_tools
        if "*" in allowed or tool in allowed:
            return True
        if self._tools is None:
            with contextlib.suppress(Exception):
                session = await self._ensure_session()
                with anyio.fail_after(self.config.call_timeout):
                    await self._remember_tools(await session.client.list_tools())
        return any(info.name == tool and info.retry_safe for info in self._tools or ())

    def _timeout_error(self, what: str) -> McpTimeoutError:
        return McpTimeoutError(
            f"MCP server {self.name!r} did not answer {what} in time; raise the timeout if the "
            "tool is slow, or check the server",
            server=self.name,
        )

    def _breaker_open_error(self) -> McpUnavailableError:
        retry_after = self._breaker.retry_after()
        return McpUnavailableError(
            f"MCP server {self.name!r} is unavailable: circuit open after "
            f"{self._breaker.consecutive_failures} consecutive failures "
            f"(last error: {self._last_error}); next probe in {retry_after:.1f}s",
            server=self.name,
            retry_after=retry_after,
        )

    # --- session lifecycle -------------------------------------------------------------

    async def _ensure_session(self) -> _Session:
        session = self._session
        if session is not None and session.alive:
            return session
        if self._connecting is None:
            self._connecting = asyncio.create_task(self._connect(), name=f"mcp-connect-{self.name}")
            self._connecting.add_done_callback(_consume_exception)
        # Shielded: a cancelled caller must not abort a connect other callers wait on.
        return await asyncio.shield(self._connecting)

    async def _connect(self) -> _Session:
        try:
            failures: list[str] = []
            for endpoint, transport in self._transports():
                session = _Session(self._client(transport), endpoint)
                self._session = session
                self._sessions.add(session)
                session.start(self.config.init_timeout)
                try:
                    await session.wait_ready()
                except Exception as exc:
                    await session.stop()
                    self._sessions.discard(session)
                    failures.append(self._connect_failure(endpoint, exc))
                    continue
                self._on_connected(session)
                return session
            self._session = None
            self._down = True
            self._last_error = "; ".join(failures)
            raise McpUnavailableError(
                f"could not connect to MCP server {self.name!r}: {self._last_error}; "
                f"{self._advice()}",
                server=self.name,
            )
        finally:
            self._connecting = None

    def _on_connected(self, session: _Session) -> None:
        reconnected = self._connects > 0
        self._connects += 1
        self._down = False
        self._connected_since = datetime.now(UTC)
        self._last_used = self._clock()
        if self._monitor_task is None or self._monitor_task.done():
            self._monitor_task = asyncio.create_task(self._monitor(), name=f"mcp-mon-{self.name}")
        if reconnected and self._tools is not None:
            # A restarted server may be a new version with other tools.
            self._spawn(self._refresh_tools())

    def _drop(self, session: _Session, reason: str) -> None:
        """Forget a dead session; the next request reconnects without waiting for its stop (a
        hung stdio child takes seconds to kill). `close()` still waits for every stop."""
        if self._session is session:
            self._session = None
            self._down = True
            self._connected_since = None
            self._last_error = reason
            logger.warning("MCP server %r: %s", self.name, reason)
        self._spawn(self._stop_session(session))

    async def _stop_session(self, session: _Session) -> None:
        await session.stop()
        self._sessions.discard(session)

    def _transports(self) -> list[tuple[str | None, ClientTransport | FastMCP[Any]]]:
        if self._server is not None:
            return [(None, self._server)]
        config = self.config
        if config.transport == "stdio":
            assert config.command is not None
            if self._stderr_path is None:
                fd, path = tempfile.mkstemp(prefix=f"toolfoundry-mcp-{self.name}-", suffix=".log")
                os.close(fd)
                self._stderr_path = Path(path)
            self._stderr_path.write_text("")
            stdio = StdioTransport(
                *_reaped(config.command, config.args),
                env={**_QUIET_FASTMCP_ENV, **child_env(config)},
                cwd=config.cwd,
                keep_alive=False,  # the child must end with its session, never outlive it
                log_file=self._stderr_path,
            )
            return [(None, stdio)]
        kind = StreamableHttpTransport if config.transport == "http" else SSETransport
        return [
            (url, kind(url, headers=dict(config.headers), httpx_client_factory=watched_http_client))
            for url in config.urls
        ]

    def _client(self, transport: ClientTransport | FastMCP[Any]) -> Client[Any]:
        return Client(
            transport,
            name=f"toolfoundry-{self.name}",
            message_handler=self._on_message,
            log_handler=self._on_log,
            init_timeout=self.config.init_timeout,
            # The handshake era keeps ping, server-initiated list_changed notifications and HTTP
            # sessions; "auto" may negotiate the sessionless 2026 era, which has none of them.
            mode="legacy",
        )

    def _connect_failure(self, endpoint: str | None, exc: BaseException) -> str:
        where = endpoint or (self.config.command if self._server is None else "in-process")
        if isinstance(exc, TimeoutError):
            text = f"{where}: no answer to initialize within {self.config.init_timeout:g}s"
        else:
            text = f"{where}: {_describe(exc)}"
        tail = self._stderr_tail()
        return f"{text} (server stderr: {tail})" if tail else text

    def _stderr_tail(self) -> str:
        if self._stderr_path is None:
            return ""
        with contextlib.suppress(OSError):
            return self._stderr_path.read_text(errors="replace")[-_STDERR_TAIL:].strip()
        return ""

    def _advice(self) -> str:
        if self.config.transport == "stdio" and self._server is None:
            return "check the command, its arguments and environment, and the server's stderr"
        return "check that the server is running and reachable at its URL"

    # --- background: health, reconnect, idle stop, list_changed ----------------------------

    async def _monitor(self) -> None:
        while not self._closed:
            await asyncio.sleep(self._monitor_delay())
            try:
                if self._idle_expired():
                    await self._stop_idle()
                    if self._session is None:  # else a request restarted it meanwhile
                        return
                session = self._session
                if session is not None and session.alive:
                    if self.config.health_interval is not None:
                        await self._health_check(session)
                elif self._down and self._connecting is None:
                    await self._probe()
            except Exception:
                logger.exception("MCP server %r: health monitor error", self.name)

    def _monitor_delay(self) -> float:
        if self._down:
            backoff = _RECONNECT_BASE * 2 ** max(self._breaker.consecutive_failures - 1, 0)
            delay = max(self._breaker.retry_after(), min(backoff, _RECONNECT_MAX))
        else:
            delay = self.config.health_interval or _RECONNECT_MAX
        if self.config.idle_timeout is not None:
            idle_left = self._last_used + self.config.idle_timeout - self._clock()
            delay = min(delay, max(idle_left, 0.05))
        return delay

    def _idle_expired(self) -> bool:
        idle = self.config.idle_timeout
        return idle is not None and self._in_flight == 0 and self._clock() - self._last_used >= idle

    async def _stop_idle(self) -> None:
        session, self._session = self._session, None
        self._down = False
        self._connected_since = None
        if session is not None:
            logger.info("MCP server %r idle for %gs: stopping", self.name, self.config.idle_timeout)
            await self._stop_session(session)

    async def _health_check(self, session: _Session) -> None:
        started = time.perf_counter()
        try:
            with anyio.fail_after(self.config.health_timeout):
                await session.client.ping()
        except Exception as exc:
            reason = (
                f"no answer to a health ping within {self.config.health_timeout:g}s"
                if isinstance(exc, TimeoutError)
                else f"health ping failed: {_describe(exc)}"
            )
            self._breaker.record_failure()
            self._drop(session, reason)
        else:
            self._breaker.record_success()
            self._latencies.append((time.perf_counter() - started) * 1000)

    async def _probe(self) -> None:
        """Reconnect in the background after a crash, at the breaker's pace."""
        if not self._breaker.allow():
            return
        try:
            await self._ensure_session()
        except McpUnavailableError:
            self._breaker.record_failure()
        else:
            self._breaker.record_success()

    async def _on_message(self, message: mcp_types.ServerNotification | Exception) -> None:
        # Runs inside the session's receive loop: hand the work to a task rather than block it.
        if isinstance(message, mcp_types.ToolListChangedNotification):
            self._spawn(self._refresh_tools())

    async def _on_log(self, params: mcp_types.LoggingMessageNotificationParams) -> None:
        """An upstream log message. MCP ties log messages to a session, not to a request, and
        one session here serves many callers: a message is relayed to a gateway caller only
        while that caller's call is the session's one request in flight — then it is that
        call's. Otherwise it cannot be attributed and goes to our own log, never to a caller
        it may not belong to."""
        if self._in_flight == 1 and len(self._log_listeners) == 1:
            await self._log_listeners[0](params)
        else:
            await default_log_handler(params)

    async def _refresh_tools(self) -> None:
        # Straight on the session, bypassing the breaker: this runs while a reconnect probe
        # may still hold the breaker's single half-open slot.
        session = self._session
        if session is None or not session.alive:
            return
        try:
            with anyio.fail_after(self.config.call_timeout):
                listed = await session.client.list_tools()
        except Exception as exc:
            logger.warning("MCP server %r: could not refresh tools: %s", self.name, exc)
            return
        await self._remember_tools(listed)

    async def _remember_tools(self, listed: list[mcp_types.Tool]) -> list[McpToolInfo]:
        tools = [McpToolInfo.from_mcp(tool) for tool in listed]
        previous, self._tools = self._tools, tools
        if previous is not None and previous != tools and self._on_tools_changed is not None:
            try:
                outcome = self._on_tools_changed(self.name, tools)
                if isinstance(outcome, Awaitable):
                    await outcome
            except Exception:
                logger.exception("MCP server %r: tools-changed callback failed", self.name)
        return tools

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _state(self) -> ServerState:
        if self._closed:
            return "stopped"
        if self._connecting is not None:
            return "connecting"
        session = self._session
        if session is not None and session.alive:
            return "connected" if self._breaker.state == "closed" else "unhealthy"
        return "unhealthy" if self._down else "stopped"


_REAPER = Path(__file__).with_name("_reaper.py")


def _reaped(command: str, args: list[str]) -> tuple[str, list[str]]:
    """The stdio server's command line, run under the reaper on Linux so the server and every
    process it starts (even in a new session) die with this service — kill -9 included."""
    if not sys.platform.startswith("linux"):
        return command, list(args)
    return sys.executable, ["-I", str(_REAPER), str(os.getpid()), "--", command, *args]


def _session_rejected(exc: MCPError) -> bool:
    """The server refused the request because it no longer knows the session: it never ran.

    A streamable HTTP server answers 404 for a session id it no longer knows (it restarted, or
    expired the session). Only the message tells: "Session not found" from the Python and
    TypeScript SDK servers (codes -32600 and -32001, the latter also meaning timeout), or
    "Session terminated" when the SDK client stands in for a 404 body it could not parse."""
    message = exc.message.lower()
    return "session" in message and any(
        word in message for word in ("not found", "terminated", "expired")
    )


def _consume_exception(task: asyncio.Task[Any]) -> None:
    # Every waiter may have been cancelled; retrieve the error so asyncio does not log it.
    if not task.cancelled():
        task.exception()


def _describe(exc: BaseException | None) -> str:
    """A one-line account of an error, unwrapping the groups and wrappers around the cause."""
    if exc is None:
        return "unknown error"
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    text = str(exc) or type(exc).__name__
    cause = exc.__cause__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text} ({cause})"
    return text
