"""OpenTelemetry tracing: spans for tool calls, REST requests and MCP upstream calls, exported
through the real SDK to an in-memory exporter; off (the API's proxy) without an endpoint."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import sample_tools
from fastapi.testclient import TestClient
from fastmcp import Context, FastMCP
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from toolfoundry import Settings, ToolLibrary
from toolfoundry.api.app import create_app
from toolfoundry.builder.models import BuildRequirement, GeneratedFiles
from toolfoundry.builder.stages.environment import BuildEnvironment
from toolfoundry.builder.stages.sandbox import UnsandboxedRunner
from toolfoundry.builder.stages.workspace import BuildWorkspace
from toolfoundry.core import tracing
from toolfoundry.core.tracing import configure_tracing

# The global provider is set once per process: every test here shares one exporter.
_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans(settings: Settings) -> Iterator[InMemorySpanExporter]:
    if not tracing.tracing_enabled():
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        assert configure_tracing(settings, provider=provider) is provider
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def _run_fresh(script: str, home: Path) -> None:
    """Run `script` in a new interpreter (no TOOLFOUNDRY_* variables); it must print ok."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ok")


def _named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


async def test_tool_call_span_has_attributes_and_error_status(
    library: ToolLibrary, spans: InMemorySpanExporter
) -> None:
    await library.register_module(sample_tools)
    assert (await library.call("samples.add", {"a": 40})).structured == 42
    (ok,) = _named(spans, "tools/call samples.add")
    assert ok.attributes is not None
    assert ok.attributes["gen_ai.tool.name"] == "samples.add"
    assert ok.attributes["mcp.method.name"] == "tools/call"
    assert ok.status.status_code is StatusCode.UNSET

    failed = await library.call("samples.divide", {"a": 1, "b": 0})
    assert failed.is_error
    (bad,) = _named(spans, "tools/call samples.divide")
    assert bad.status.status_code is StatusCode.ERROR
    assert bad.attributes is not None and bad.attributes["error.type"] == "ZeroDivisionError"


def test_rest_request_span_continues_incoming_traceparent(
    settings: Settings, auth_headers: dict[str, str], spans: InMemorySpanExporter
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    parent_id = "00f067aa0ba902b7"
    with TestClient(create_app(settings), headers=auth_headers) as client:
        client.portal.call(client.app.state.library.register_module, "sample_tools")  # type: ignore[attr-defined]
        response = client.post(
            "/api/v1/tools/samples.add/call",
            json={"arguments": {"a": 1, "b": 2}},
            headers={"traceparent": f"00-{trace_id}-{parent_id}-01"},
        )
    assert response.status_code == 200, response.text
    server = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert server, [s.name for s in spans.get_finished_spans()]
    (request,) = [s for s in server if "tools" in s.name]
    assert request.context is not None and request.parent is not None
    assert f"{request.context.trace_id:032x}" == trace_id
    assert f"{request.parent.span_id:016x}" == parent_id
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 200
    assert request.attributes["http.request.method"] == "POST"
    assert request.attributes["url.path"] == "/api/v1/tools/samples.add/call"
    # The tool call is a child of the request's trace.
    (call,) = _named(spans, "tools/call samples.add")
    assert call.context is not None and f"{call.context.trace_id:032x}" == trace_id


async def test_mcp_upstream_receives_trace_context(
    library: ToolLibrary, spans: InMemorySpanExporter
) -> None:
    seen: list[dict] = []
    upstream = FastMCP("traced")

    @upstream.tool
    def whoami(ctx: Context) -> str:
        """Report the trace context the request carried."""
        meta = ctx.request_context.meta if ctx.request_context else None
        seen.append(dict(meta or {}))
        return "ok"

    await library.add_mcp_server({"name": "traced", "command": "unused"}, server=upstream)
    result = await library.call("traced.whoami", {})
    assert not result.is_error, result
    (call,) = _named(spans, "tools/call traced.whoami")
    assert call.context is not None
    trace_id = f"{call.context.trace_id:032x}"
    assert seen and seen[-1]["traceparent"].split("-")[1] == trace_id
    # The upstream's own fastmcp server span is part of the same trace.
    upstream_spans = [
        s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER and s.context is not None
    ]
    assert any(f"{s.context.trace_id:032x}" == trace_id for s in upstream_spans)


def test_no_endpoint_configures_nothing(tmp_path: Path) -> None:
    # A fresh interpreter: the global provider can only be set once per process.
    script = textwrap.dedent(
        f"""
        import sys
        from opentelemetry import trace
        from toolfoundry import Settings
        from toolfoundry.api.app import create_app
        from toolfoundry.core.tracing import configure_tracing
        settings = Settings(data_dir={str(tmp_path)!r}, load_starters=False)
        assert configure_tracing(settings) is None
        create_app(settings)
        provider = trace.get_tracer_provider()
        assert type(provider).__name__ == "ProxyTracerProvider", provider
        assert "opentelemetry.sdk.trace" not in sys.modules, "SDK imported without an endpoint"
        print("ok")
        """
    )
    _run_fresh(script, tmp_path)


def test_build_phase_span_names_phase_and_build(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    workspace = BuildWorkspace(
        tmp_path,
        BuildRequirement(description="shout a text"),
        sandbox=UnsandboxedRunner(),
        environment=BuildEnvironment(),
        on_phase=lambda phase: None,
        on_progress=lambda line: None,
        build_id="b-123",
    )
    assert workspace.scan(GeneratedFiles(files={"server.py": "x = 1\n"})).passed
    (phase,) = _named(spans, "build.phase security_scan")
    assert phase.attributes is not None
    assert phase.attributes["toolfoundry.build.id"] == "b-123"
    assert phase.attributes["toolfoundry.build.phase"] == "security_scan"


def test_endpoint_exports_otlp_http_with_service_name(tmp_path: Path) -> None:
    # A fresh interpreter with a real OTLP/HTTP receiver: the exporter posts protobuf to
    # <endpoint>/v1/traces, and the resource carries the configured service name.
    script = textwrap.dedent(
        f"""
        import threading
        from http.server import BaseHTTPRequestHandler, HTTPServer
        from opentelemetry import trace
        from toolfoundry import Settings
        from toolfoundry.core.tracing import configure_tracing, tracer

        received = []

        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, self.headers["Content-Type"], body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = HTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        settings = Settings(
            data_dir={str(tmp_path)!r},
            otel_endpoint=f"http://127.0.0.1:{{server.server_port}}/",
            otel_service_name="tf-under-test",
        )
        provider = configure_tracing(settings)
        assert trace.get_tracer_provider() is provider
        with tracer.start_as_current_span("exported-span"):
            pass
        assert provider.force_flush(10_000)
        (path, content_type, body), = received
        assert path == "/v1/traces", path
        assert content_type == "application/x-protobuf", content_type
        assert b"tf-under-test" in body and b"exported-span" in body
        print("ok")
        """
    )
    _run_fresh(script, tmp_path)
