"""Turns `TOOLFOUNDRY_LLM_*` settings into a pydantic-ai model; None means "no model", a
first-class mode in which every feature works without one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolfoundry.core.errors import InvalidInputError
from toolfoundry.core.settings import Settings

if TYPE_CHECKING:  # pydantic-ai costs half a second to import; only a configured model needs it
    from pydantic_ai.models import Model


def build_model(settings: Settings) -> Model | None:
    """`openai:NAME` or a bare `NAME` → any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama,
    llama.cpp, DeepSeek, Qwen/DashScope …) at `llm_base_url`; `anthropic:NAME` → Anthropic."""
    if not settings.llm_model:
        return None
    from pydantic_ai.settings import ModelSettings

    # Calls that choose their own temperature (discovery, example writing) keep it.
    defaults = (
        ModelSettings(temperature=settings.llm_temperature)
        if settings.llm_temperature is not None
        else None
    )
    provider, sep, name = settings.llm_model.partition(":")
    if not sep:
        provider, name = "openai", settings.llm_model
    if provider == "anthropic":
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        return AnthropicModel(
            name,
            provider=AnthropicProvider(
                api_key=settings.llm_api_key, base_url=settings.llm_base_url
            ),
            settings=defaults,
        )
    if provider == "openai":
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        # Local servers (vLLM, Ollama, llama.cpp) need no key, but the client insists on one.
        return OpenAIChatModel(
            name,
            provider=OpenAIProvider(
                base_url=settings.llm_base_url, api_key=settings.llm_api_key or "not-needed"
            ),
            settings=defaults,
        )
    raise InvalidInputError(
        f"unknown model provider {provider!r} in TOOLFOUNDRY_LLM_MODEL={settings.llm_model!r}",
        hint="Use openai:NAME (any OpenAI-compatible endpoint with TOOLFOUNDRY_LLM_BASE_URL) "
        "or anthropic:NAME.",
    )


def describe_model(model: Model | None) -> str:
    return "none" if model is None else f"{model.system}:{model.model_name}"
