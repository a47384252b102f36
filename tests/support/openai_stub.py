"""A scripted OpenAI-compatible model server for tests and offline benchmarks.

`POST /v1/chat/completions` hands each request to a Python function that sees the messages and
answers with text (a code-generation answer), with a dict, sent as a call of pydantic-ai's
output tool (structured output), or with a `ToolCall` of a named tool (an agent's). Every
request is kept, so a test can assert on what reached the model. Point
`TOOLFOUNDRY_LLM_MODEL=openai:stub` and `TOOLFOUNDRY_LLM_BASE_URL=stub.url` at it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class StubRequest:
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", [])

    @property
    def system(self) -> str:
        return "\n".join(
            _text(m) for m in self.messages if m.get("role") in ("system", "developer")
        )

    @property
    def prompt(self) -> str:
        """Everything the model was told besides the system prompt (user turns, retries)."""
        return "\n".join(
            _text(m) for m in self.messages if m.get("role") not in ("system", "developer")
        )

    @property
    def tools(self) -> list[str]:
        return [t["function"]["name"] for t in self.body.get("tools", [])]


@dataclass
class ToolCall:
    """An answer that calls one named tool (an agent's function tool, not the output tool)."""

    name: str
    arguments: dict[str, Any]


Answer = str | dict[str, Any] | ToolCall
Script = Callable[[StubRequest], Answer]


@dataclass
class OpenAIStub:
    """Runs in a thread on 127.0.0.1; use as a context manager."""

    script: Script
    requests: list[StubRequest] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "the stub is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> OpenAIStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                request = StubRequest(json.loads(self.rfile.read(length) or b"{}"))
                stub.requests.append(request)
                if not self.path.endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                try:
                    answer = stub.script(request)
                except Exception as exc:  # a broken script shows up as a server error
                    self._send(500, {"error": {"message": f"stub script failed: {exc!r}"}})
                    return
                self._send(200, _completion(request, answer))

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


def _completion(request: StubRequest, answer: Answer) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if isinstance(answer, ToolCall):
        if answer.name not in request.tools:
            raise ValueError(f"{answer.name} was not offered; offered: {request.tools}")
        answer = {"__tool__": answer.name, **answer.arguments}
    if isinstance(answer, dict):
        if not request.tools:
            raise ValueError("a structured answer needs a tool to call")
        arguments = dict(answer)
        # A structured answer goes to pydantic-ai's output tool, offered after any agent tools.
        output = next((t for t in request.tools if t.startswith("final_result")), request.tools[0])
        name = arguments.pop("__tool__", None) or output
        message["tool_calls"] = [
            {
                "id": f"call_{len(request.messages)}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
        ]
        finish = "tool_calls"
    else:
        message["content"] = answer
        finish = "stop"
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.body.get("model", "stub"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""
