"""Building MCP servers: `stages/` (environment, sandbox, scanner, validator, workspace),
`strategies/` (`wrap/` without a model, `codereact/` with one) and `service/` (the durable build
service). Exported here is only what other packages use; each name is imported on first use
(PEP 562), so importing `toolfoundry.builder` loads no stage."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolfoundry.builder.errors import BuildError, FailureKind, Phase
    from toolfoundry.builder.models import BuildRequirement, Example
    from toolfoundry.builder.service.auto_gate import AutoBuildGate
    from toolfoundry.builder.service.builds import BuildService
    from toolfoundry.builder.service.events import TERMINAL, BuildStatus
    from toolfoundry.builder.service.gaps import GapResolution, close_gap
    from toolfoundry.builder.service.queue import BuildRecord, BuildRequest, BuildResult
    from toolfoundry.builder.service.status import BuildStatusView
    from toolfoundry.builder.stages.sandbox import sandbox_available, sandbox_fix

_EXPORTS: dict[str, str] = {
    "AutoBuildGate": "service.auto_gate",
    "BuildError": "errors",
    "BuildRecord": "service.queue",
    "BuildRequest": "service.queue",
    "BuildRequirement": "models",
    "BuildResult": "service.queue",
    "BuildService": "service.builds",
    "BuildStatus": "service.events",
    "BuildStatusView": "service.status",
    "Example": "models",
    "FailureKind": "errors",
    "GapResolution": "service.gaps",
    "Phase": "errors",
    "TERMINAL": "service.events",
    "close_gap": "service.gaps",
    "sandbox_available": "stages.sandbox",
    "sandbox_fix": "stages.sandbox",
}

__all__ = [
    "TERMINAL",
    "AutoBuildGate",
    "BuildError",
    "BuildRecord",
    "BuildRequest",
    "BuildRequirement",
    "BuildResult",
    "BuildService",
    "BuildStatus",
    "BuildStatusView",
    "Example",
    "FailureKind",
    "GapResolution",
    "Phase",
    "close_gap",
    "sandbox_available",
    "sandbox_fix",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
