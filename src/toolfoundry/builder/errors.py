"""How a build fails: one `BuildError` with the `Phase` it failed in and a `FailureKind`.

Stages, strategies and the service raise it; the runner records it as the build's result and
failure analysis. Both enums are `StrEnum`s whose values are the strings stored in build records
and returned by the REST API (`failure_type`, `current_phase`), so those shapes do not change.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from toolfoundry.core.errors import ToolfoundryError

if TYPE_CHECKING:
    from toolfoundry.builder.models import SecurityReport, ValidationReport
    from toolfoundry.builder.strategies.base import Iteration


class Phase(StrEnum):
    """Where a build is (its `current_phase`) or failed; in the order a build meets them."""

    STARTING = "starting"
    ANALYSING = "analysing"
    """CodeReAct: the specification is written."""
    RESEARCHING = "researching"
    """CodeReAct: the web agent looks up packages and documentation."""
    ENVIRONMENT = "environment"
    GENERATING = "generating"
    SYNTAX_CHECK = "syntax_check"
    """CodeReAct: the generated files are parsed before anything runs."""
    SECURITY_SCAN = "security_scan"
    VALIDATING = "validating"
    REGISTERING = "registering"


class FailureKind(StrEnum):
    """Why a build (or one attempt of it) failed: the stored `failure_type`/`error_class`."""

    # The environment stage (uv's error, classified).
    DEPENDENCY_NOT_FOUND = "dependency_not_found"
    VERSION_CONFLICT = "version_conflict"
    NO_WHEEL = "no_wheel"
    NETWORK = "network"
    INVALID_REQUIREMENT = "invalid_requirement"
    PYTHON_UNAVAILABLE = "python_unavailable"
    UNKNOWN = "unknown"
    # What a repair can act on (CodeReAct's healing classes).
    DEPENDENCY_RESOLUTION = "dependency_resolution"
    SYNTAX_IMPORT = "syntax_import"
    TEST_FAILURE = "test_failure"
    RUNTIME_ERROR = "runtime_error"
    TIMEOUT = "timeout"
    SECURITY_FINDING = "security_finding"
    # Validation by the service.
    INVALID_SCHEMA = "invalid_schema"
    EXAMPLE_MISMATCH = "example_mismatch"
    VALIDATION_FAILED = "validation_failed"
    # Strategies.
    NO_DEPENDENCY = "no_dependency"
    NO_MATCHING_FUNCTION = "no_matching_function"
    MODEL_UNAVAILABLE = "model_unavailable"
    MALFORMED_ANSWER = "malformed_answer"
    REPEATED_ATTEMPT = "repeated_attempt"
    ABSTRACTION = "abstraction"
    """Not a failure of the server: it passed but hard-codes the examples (a repair round)."""
    # The service.
    SANDBOX_UNAVAILABLE = "sandbox_unavailable"
    UNKNOWN_STRATEGY = "unknown_strategy"
    REGISTRATION_FAILED = "registration_failed"
    CANCELLED = "cancelled"
    """Cancelled between validation and registration: the server is not registered."""
    INTERNAL = "internal"


UV_KINDS: frozenset[FailureKind] = frozenset(
    {
        FailureKind.DEPENDENCY_NOT_FOUND,
        FailureKind.VERSION_CONFLICT,
        FailureKind.NO_WHEEL,
        FailureKind.NETWORK,
        FailureKind.INVALID_REQUIREMENT,
        FailureKind.PYTHON_UNAVAILABLE,
        FailureKind.TIMEOUT,
        FailureKind.UNKNOWN,
    }
)
"""What the environment stage classifies uv's output as."""

HEALABLE: frozenset[FailureKind] = frozenset(
    {
        FailureKind.DEPENDENCY_RESOLUTION,
        FailureKind.SYNTAX_IMPORT,
        FailureKind.TEST_FAILURE,
        FailureKind.RUNTIME_ERROR,
        FailureKind.TIMEOUT,
        FailureKind.SECURITY_FINDING,
    }
)
"""The kinds CodeReAct's healer has repair strategies for."""


class BuildError(ToolfoundryError):
    """A build stage, strategy or the service could not go on; carries what the build's result
    and failure analysis record (the reports and iterations so far)."""

    status_code: ClassVar[int] = 422
    code: ClassVar[str] = "build_failed"
    title: ClassVar[str] = "Build failed"

    def __init__(
        self,
        message: str,
        *,
        phase: Phase | str,
        kind: FailureKind | str,
        details: dict[str, Any] | None = None,
        security: SecurityReport | None = None,
        validation: ValidationReport | None = None,
        iterations: list[Iteration] | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.phase = Phase(phase)
        self.kind = FailureKind(kind)
        self.details = details or {}
        self.security = security
        self.validation = validation
        self.iterations = iterations or []

    @property
    def message(self) -> str:
        return self.detail

    @property
    def error_class(self) -> FailureKind:
        """The name build records store (`failure_type`, `error_class`)."""
        return self.kind

    def _extra_members(self) -> dict[str, Any]:
        return {"phase": self.phase.value, "failure_type": self.kind.value}
