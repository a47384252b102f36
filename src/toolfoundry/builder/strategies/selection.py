"""Which strategy a build uses: the one asked for, else the LLM loop when a model is configured,
else the package wrapper — with the reason, for logs and results."""

from __future__ import annotations

from toolfoundry.builder.strategies.base import BuildStrategy

WRAP = "package-wrapper"
LLM = "llm"


class Strategies:
    """The strategies this worker can run, by name."""

    def __init__(self, *, llm_configured: bool) -> None:
        self.llm_configured = llm_configured
        self.by_name: dict[str, BuildStrategy] = {}

    def register(self, strategy: BuildStrategy) -> None:
        self.by_name[strategy.name] = strategy

    def __contains__(self, name: object) -> bool:
        return name in self.by_name

    def names(self) -> list[str]:
        return sorted(self.by_name)

    def choose(self, requested: str | None = None) -> tuple[BuildStrategy, str]:
        """The strategy and how to describe that choice."""
        if requested is not None:
            return self.by_name[requested], requested
        if self.llm_configured and LLM in self.by_name:
            return self.by_name[LLM], LLM
        reason = "no LLM configured" if not self.llm_configured else "no LLM strategy registered"
        return self.by_name[WRAP], f"{WRAP} ({reason})"
