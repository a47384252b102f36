"""Language-model access: settings → a pydantic-ai model, and prompts kept as files."""

from toolfoundry.llm.models import build_model, describe_model
from toolfoundry.llm.prompts import load_prompt

__all__ = ["build_model", "describe_model", "load_prompt"]
