"""The package-wrapper strategy: no model, wrap functions of the requirement's PyPI dependencies."""

from __future__ import annotations

import time

from toolfoundry.builder.errors import BuildError, FailureKind, Phase
from toolfoundry.builder.models import BuildRequirement, ProgressCallback
from toolfoundry.builder.stages.workspace import BuildWorkspace
from toolfoundry.builder.strategies.base import BuildAttempt, Iteration
from toolfoundry.builder.strategies.wrap.models import Embed, PackageWrapError
from toolfoundry.builder.strategies.wrap.wrapper import PackageWrapper


class PackageWrapperStrategy:
    """No model: wrap functions of the requirement's PyPI dependencies (see `package_wrapper`)."""

    name = "package-wrapper"

    def __init__(self, *, embed: Embed | None = None) -> None:
        self.wrapper = PackageWrapper(embed=embed)

    async def build(
        self,
        requirement: BuildRequirement,
        workspace: BuildWorkspace,
        on_progress: ProgressCallback,
    ) -> BuildAttempt:
        if not requirement.dependencies:
            raise BuildError(
                "the package-wrapper strategy needs a dependency naming the PyPI package to wrap "
                "(e.g. dependencies: ['markdown']); configure TOOLFOUNDRY_LLM_MODEL to generate "
                "code instead",
                phase=Phase.GENERATING,
                kind=FailureKind.NO_DEPENDENCY,
            )
        env = await workspace.create_environment()
        started = time.monotonic()
        with workspace.phase(Phase.GENERATING):
            try:
                wrapped = await self.wrapper.build(
                    requirement, env, workspace.sandbox, workspace.root, on_progress=on_progress
                )
            except PackageWrapError as exc:
                raise BuildError(
                    f"{exc}. Check the examples, or name a package whose functions do this",
                    phase=Phase.GENERATING,
                    kind=FailureKind.NO_MATCHING_FUNCTION,
                    iterations=[
                        Iteration(
                            number=1,
                            strategy=self.name,
                            decision="introspect, rank and probe the package's functions",
                            outcome="failed",
                            error=str(exc),
                            error_class="no_matching_function",
                            duration_s=round(time.monotonic() - started, 3),
                        )
                    ],
                ) from exc
        iteration = Iteration(
            number=1,
            strategy=self.name,
            decision="wrapped "
            + ", ".join(f"{t.candidate.path} as {t.name}" for t in wrapped.tools),
            files=sorted(wrapped.files.files),
            duration_s=round(time.monotonic() - started, 3),
        )
        return BuildAttempt(files=wrapped.files, environment=env, iterations=[iteration])
