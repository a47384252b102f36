"""`toolfoundry run` against a scripted OpenAI-compatible server: real HTTP, real tool-call
messages, the model's call routed to a catalog tool and the run recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager

from openai_stub import OpenAIStub, StubRequest, ToolCall
from typer.testing import CliRunner

from toolfoundry.cli.main import app

runner = CliRunner()


def script(request: StubRequest) -> ToolCall | dict:
    """Call the statistics tool, then answer from what it returned."""
    returned = [m for m in request.messages if m.get("role") == "tool"]
    if not returned:
        return ToolCall("stats__descriptive_statistics", {"values": [3, 9, 27]})
    stats = json.loads(returned[-1]["content"])
    return {"answer": f"mean {stats['mean']:g}, median {stats['median']:g}", "completed": True}


def test_run_over_an_openai_compatible_endpoint(
    cli_with_model: Callable[[str], AbstractContextManager[None]],
) -> None:
    with OpenAIStub(script) as stub, cli_with_model(stub.url):
        result = runner.invoke(
            app,
            [
                "run",
                "what are the mean and median of 3, 9 and 27?",
                "--mode",
                "retrieval",
                "--json",
            ],
        )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["success"] is True and body["answer"] == "mean 13, median 9"
    assert body["tools_used"] == ["stats.descriptive_statistics"]
    assert body["model"] == "openai:stub"
    # The model was offered the discovered tools by API-safe names, and saw the tool's result.
    first, second = stub.requests
    assert "stats__descriptive_statistics" in first.tools
    tool_message = next(m for m in second.messages if m.get("role") == "tool")
    assert json.loads(tool_message["content"])["mean"] == 13

    shown = runner.invoke(app, ["trajectories", "show", body["trajectory_id"], "--json"])
    steps = json.loads(shown.stdout)["steps"]
    assert [s["step_type"] for s in steps][-2:] == ["tool_execution", "llm_reasoning"]
