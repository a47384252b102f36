"""The `llm` build strategy: the CodeReAct loop behind the `BuildStrategy` protocol."""

from __future__ import annotations

import json

from pydantic_ai.models import Model

from toolfoundry.builder.errors import BuildError, FailureKind, Phase
from toolfoundry.builder.models import (
    BuildRequirement,
    ProgressCallback,
)
from toolfoundry.builder.stages.workspace import BuildWorkspace
from toolfoundry.builder.strategies.base import BuildAttempt
from toolfoundry.builder.strategies.codereact.healing import (
    Healer,
    HealingStats,
    JsonStatsStore,
)
from toolfoundry.builder.strategies.codereact.loop import CodeReActLoop
from toolfoundry.builder.strategies.codereact.web.agent import WebAgent
from toolfoundry.core.settings import Settings


class CodeReActStrategy:
    """The `llm` build strategy of the build service: runs the loop, returns the attempt it
    settled on (scanned and validated), or raises `BuildError` with every iteration."""

    name = "llm"

    def __init__(self, loop: CodeReActLoop) -> None:
        self.loop = loop

    @classmethod
    def from_settings(cls, settings: Settings, model: Model) -> CodeReActStrategy:
        """Web agent from the settings; healing statistics kept in the data directory."""
        store = JsonStatsStore(settings.data_dir / "healing_stats.json")
        return cls(
            CodeReActLoop(
                model,
                web_agent=WebAgent.from_settings(settings),
                healer=Healer(HealingStats(store)),
                max_iterations=settings.build_max_iterations,
                format_retries=settings.build_format_retries,
            )
        )

    async def build(
        self,
        requirement: BuildRequirement,
        workspace: BuildWorkspace,
        on_progress: ProgressCallback,
    ) -> BuildAttempt:
        result = await self.loop.run(requirement, workspace, on_progress)
        on_progress("codereact metrics: " + json.dumps(result.metrics.model_dump(mode="json")))
        if result.attempt is None:
            raise BuildError(
                result.error or "the build loop produced no server",
                phase=result.phase or Phase.GENERATING,
                kind=result.error_class or FailureKind.UNKNOWN,
                details={
                    "specification": result.specification.model_dump(mode="json"),
                    "metrics": result.metrics.model_dump(mode="json"),
                },
                iterations=list(result.iterations),
            )
        return result.attempt
