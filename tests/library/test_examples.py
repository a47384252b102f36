"""Example requests written by a model for catalog tools: stored as generated beside the
author's, found by discovery, skipped or replaced on request, failures reported per tool, and
written in the background of a serving library when asked to."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from openai_stub import OpenAIStub, StubRequest
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from typer.testing import CliRunner

from toolfoundry import Settings, ToolLibrary, tool
from toolfoundry.cli.main import app
from toolfoundry.core.errors import InvalidInputError


@tool(toolkit="strings", examples=["distance between two words"])
def levenshtein(a: str, b: str) -> int:
    """Compute the Levenshtein metric of two sequences."""
    return abs(len(a) - len(b))


@tool(toolkit="strings")
def shout(text: str) -> str:
    """Upper-case a text."""
    return text.upper()


def _answers(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    prompt = str(messages[-1].parts[-1].content)  # type: ignore[union-attr]
    if prompt.startswith("levenshtein"):
        text = (
            "1. how many single-letter changes turn kitten into sitting\n"
            "2. how different are the spellings colour and color"
        )
    elif prompt.startswith("shout"):
        raise RuntimeError("the model server went away")
    else:
        text = "ok"
    return ModelResponse(parts=[TextPart(text)])


async def test_examples_are_stored_as_generated_and_discovery_uses_them(
    settings: Settings,
) -> None:
    async with ToolLibrary(settings, llm=FunctionModel(_answers)) as lib:
        await lib.register(levenshtein)
        await lib.register(shout)
        results = {r.tool_id: r for r in await lib.write_examples()}
        assert results["strings.levenshtein"].examples == [
            "how many single-letter changes turn kitten into sitting",
            "how different are the spellings colour and color",
        ]
        # One tool's model failure is reported; the others are written.
        assert results["strings.shout"].examples == []
        assert "went away" in (results["strings.shout"].error or "")

        stored = await lib.get_tool("strings.levenshtein")
        assert stored.examples == ["distance between two words"]  # the author's are untouched
        assert stored.generated_examples == results["strings.levenshtein"].examples

        assert lib.discovery is not None
        await lib.discovery.wait_ready()
        found = await lib.discover("how many letter changes turn flaw into lawn", mode="retrieval")
        assert found.tools[0].id == "strings.levenshtein"

        with pytest.raises(InvalidInputError, match="count must be between 1 and 10"):
            await lib.write_examples(count=50)
        again = await lib.write_examples(["strings.levenshtein"])
        assert again[0].skipped == "has examples" and again[0].examples == []
        rewritten = await lib.write_examples(["strings.levenshtein"], replace=True, count=1)
        assert rewritten[0].examples == ["how many single-letter changes turn kitten into sitting"]
        assert (await lib.get_tool("strings.levenshtein")).generated_examples == (
            rewritten[0].examples
        )


async def test_without_a_model_the_error_says_what_to_configure(settings: Settings) -> None:
    async with ToolLibrary.open(settings) as lib:
        await lib.register(shout)
        with pytest.raises(InvalidInputError) as caught:
            await lib.write_examples()
    assert "TOOLFOUNDRY_LLM_MODEL" in (caught.value.hint or "")


async def test_a_serving_library_writes_examples_for_new_tools(settings: Settings) -> None:
    serving = settings.model_copy(update={"discovery_generate_examples": True})
    async with ToolLibrary(serving, llm=FunctionModel(_answers)) as lib:
        lib.start_writing_examples()
        await lib.register(levenshtein)
        for _ in range(200):
            if (await lib.get_tool("strings.levenshtein")).generated_examples:
                break
            await asyncio.sleep(0.05)
        assert len((await lib.get_tool("strings.levenshtein")).generated_examples) == 2


def test_cli_writes_examples_over_an_openai_compatible_endpoint(
    cli_with_model: Callable[[str], AbstractContextManager[None]],
) -> None:
    def script(request: StubRequest) -> str:
        assert "requests a user could send" in request.system
        return "1. Shout 'hello there' in capitals\n2. Make 'quiet please' upper case"

    with OpenAIStub(script) as stub, cli_with_model(stub.url):
        result = runner.invoke(app, ["tools", "examples", "text.slugify", "--json"])
        missing = runner.invoke(app, ["tools", "examples", "text.nope"])
    assert result.exit_code == 0, result.output
    [written] = json.loads(result.stdout)
    assert written["tool_id"] == "text.slugify"
    assert written["examples"] == [
        "Shout 'hello there' in capitals",
        "Make 'quiet please' upper case",
    ]
    assert missing.exit_code == 1 and "text.nope" in missing.output


runner = CliRunner()
