"""The execution agent: discovery, gap building, model-driven tool calls, recorded as a run."""

from toolfoundry.agent.sandbox_agent import AgentAnswer, AgentRunResult, SandboxAgent

__all__ = ["AgentAnswer", "AgentRunResult", "SandboxAgent"]
