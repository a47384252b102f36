"""`TOOLFOUNDRY_LLM_TEMPERATURE` reaches the endpoint for calls that choose no temperature;
calls that choose one (example writing, discovery) keep theirs."""

from __future__ import annotations

from openai_stub import OpenAIStub, StubRequest
from pydantic_ai import Agent

from toolfoundry.core.settings import Settings
from toolfoundry.discovery.documents import ToolDocument
from toolfoundry.discovery.example_writer import write_examples
from toolfoundry.llm import build_model


def _answer(request: StubRequest) -> str:
    return "1. count the words in 'a b c'\n2. how many words does this line have"


async def test_the_configured_temperature_is_the_default_of_every_call() -> None:
    with OpenAIStub(_answer) as stub:
        settings = Settings(llm_model="openai:stub", llm_base_url=stub.url, llm_temperature=0)
        model = build_model(settings)
        assert model is not None
        await Agent(model).run("hello")
        await write_examples(model, ToolDocument(id="text.count", name="count"), count=2)
        unset = build_model(Settings(llm_model="openai:stub", llm_base_url=stub.url))
        assert unset is not None
        await Agent(unset).run("hello")
    plain, examples, server_default = (r.body for r in stub.requests)
    assert plain["temperature"] == 0
    assert examples["temperature"] == 0.3  # the example writer's own choice wins
    assert "temperature" not in server_default
