"""The error hierarchy every part of toolfoundry raises.

Each error knows its HTTP status, a short stable `code`, an optional `hint` (what to do next) and
renders itself as an RFC 9457 problem-details object, so the API, the MCP gateway and the Python API
all report the same failure the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, TypedDict


class ArgumentProblem(TypedDict):
    """One invalid argument: where (`items[1].qty`, `$` for the whole object) and why."""

    path: str
    message: str


class ToolfoundryError(Exception):
    """Base class: anything toolfoundry raises on purpose."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal error"
    transient: ClassVar[bool] = False
    """True when the same request may succeed if retried later."""

    def __init__(self, detail: str, *, hint: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.hint = hint

    def to_problem(self) -> dict[str, Any]:
        """RFC 9457 problem details; `type` is a URN so it never pretends to be a web page."""
        problem: dict[str, Any] = {
            "type": f"urn:toolfoundry:problem:{self.code}",
            "title": self.title,
            "status": self.status_code,
            "detail": self.detail,
            "code": self.code,
        }
        if self.hint:
            problem["hint"] = self.hint
        if self.transient:
            problem["transient"] = True
        problem.update(self._extra_members())
        return problem

    def _extra_members(self) -> dict[str, Any]:
        return {}


class NotFoundError(ToolfoundryError):
    status_code = 404
    code = "not_found"
    title = "Not found"


class ToolNotFoundError(NotFoundError):
    code = "tool_not_found"
    title = "Tool not found"

    def __init__(
        self, tool_id: str, suggestions: Sequence[str] = (), *, hint: str | None = None
    ) -> None:
        self.tool_id = tool_id
        self.suggestions = list(suggestions)
        if hint is None and self.suggestions:
            hint = "Did you mean " + ", ".join(f"'{s}'" for s in self.suggestions) + "?"
        super().__init__(f"No tool named '{tool_id}'.", hint=hint)

    def _extra_members(self) -> dict[str, Any]:
        return {"tool": self.tool_id, "suggestions": self.suggestions}


class ConflictError(ToolfoundryError):
    status_code = 409
    code = "conflict"
    title = "Conflict"


class InvalidInputError(ToolfoundryError):
    status_code = 422
    code = "invalid_input"
    title = "Invalid input"


class ArgumentsError(InvalidInputError):
    """Arguments for a tool call do not match the tool's input schema."""

    code = "invalid_arguments"
    title = "Invalid tool arguments"

    def __init__(
        self,
        errors: Sequence[ArgumentProblem],
        *,
        tool: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.errors = list(errors)
        self.tool = tool
        where = f" for tool '{tool}'" if tool else ""
        listed = "; ".join(f"{e['path']}: {e['message']}" for e in self.errors)
        super().__init__(
            f"{len(self.errors)} invalid argument(s){where}: {listed}",
            hint=hint or "Fix the listed arguments to match the tool's input schema and retry.",
        )

    def _extra_members(self) -> dict[str, Any]:
        members: dict[str, Any] = {"errors": self.errors}
        if self.tool:
            members["tool"] = self.tool
        return members


class SchemaError(InvalidInputError):
    """A tool definition (function signature or stored JSON schema) cannot become a schema."""

    code = "invalid_tool_definition"
    title = "Invalid tool definition"


class BackendUnavailableError(ToolfoundryError):
    status_code = 503
    code = "backend_unavailable"
    title = "Backend unavailable"
    transient = True


class OutcomeUnknownError(BackendUnavailableError):
    """A call's backend died mid-call: the tool may have run. Not transient — repeating it
    automatically could repeat its side effects."""

    code = "outcome_unknown"
    title = "Outcome unknown"
    transient = False


class ToolTimeoutError(ToolfoundryError):
    # 504: we acted as a gateway to the tool and it did not answer in time.
    status_code = 504
    code = "tool_timeout"
    title = "Tool timed out"
    transient = True

    def __init__(self, tool_id: str, timeout: float, *, hint: str | None = None) -> None:
        self.tool_id = tool_id
        self.timeout = timeout
        super().__init__(f"Tool '{tool_id}' did not finish within {timeout:g} s.", hint=hint)

    def _extra_members(self) -> dict[str, Any]:
        return {"tool": self.tool_id, "timeout": self.timeout}


class ToolExecutionError(ToolfoundryError):
    """The tool itself raised; `error_type` is the original exception's class name."""

    # 502: the request was valid and dispatched, the tool behind the dispatcher failed.
    status_code = 502
    code = "tool_execution_failed"
    title = "Tool execution failed"

    def __init__(
        self, tool_id: str, error_type: str, message: str, *, hint: str | None = None
    ) -> None:
        self.tool_id = tool_id
        self.error_type = error_type
        super().__init__(f"Tool '{tool_id}' raised {error_type}: {message}", hint=hint)

    def _extra_members(self) -> dict[str, Any]:
        return {"tool": self.tool_id, "error_type": self.error_type}


class TransientError(Exception):
    """Raise this (or a subclass) from a tool to say "try again later": the dispatcher retries
    it up to the tool's `retries`."""


# --- authentication -------------------------------------------------------------------------


class AuthenticationError(ToolfoundryError):
    """No token, or one that is unknown, revoked or expired (401)."""

    status_code = 401
    code = "unauthenticated"
    title = "Authentication required"


class InsufficientScopeError(ToolfoundryError):
    """A valid token without the scope the request needs (403)."""

    status_code = 403
    code = "insufficient_scope"
    title = "Insufficient scope"

    def __init__(self, required: str, granted: Sequence[str], *, hint: str | None = None) -> None:
        self.required = required
        self.granted = list(granted)
        super().__init__(
            f"This request needs the '{required}' scope; the token has "
            f"{', '.join(self.granted) or 'none'}.",
            hint=hint
            or f"Use a token with the '{required}' scope (or 'admin'): "
            f"`toolfoundry auth create-token --name NAME --scope {required}`.",
        )

    def _extra_members(self) -> dict[str, Any]:
        return {"required_scope": self.required, "token_scopes": self.granted}


class PathNotAllowedError(ToolfoundryError):
    """A tool was asked to touch a file outside the configured roots (TOOLFOUNDRY_FILES_ROOT)."""

    status_code = 403
    code = "path_not_allowed"
    title = "Path outside the allowed roots"

    def __init__(self, path: str, roots: Sequence[str]) -> None:
        self.path = path
        self.roots = list(roots)
        super().__init__(
            f"{path!r} is outside the directories tools may use: {', '.join(self.roots)}.",
            hint="Put the file under one of these directories, or add its directory to "
            "TOOLFOUNDRY_FILES_ROOT.",
        )

    def _extra_members(self) -> dict[str, Any]:
        return {"path": self.path, "allowed_roots": self.roots}


class CommandNotAllowedError(ToolfoundryError):
    """A stdio MCP server's command is not on the allow-list (TOOLFOUNDRY_STDIO_COMMANDS)."""

    status_code = 403
    code = "command_not_allowed"
    title = "Command not allowed"

    def __init__(self, command: str, allowed: Sequence[str]) -> None:
        self.command = command
        self.allowed = list(allowed)
        super().__init__(
            f"command {command!r} is not allowed to run as a stdio MCP server; allowed: "
            f"{', '.join(self.allowed) or 'none'}.",
            hint="Use one of the allowed commands, or ask the operator to add it to "
            "TOOLFOUNDRY_STDIO_COMMANDS.",
        )

    def _extra_members(self) -> dict[str, Any]:
        return {"command": self.command, "allowed_commands": self.allowed}


class PatternTimeoutError(InvalidInputError):
    """A caller's regular expression ran past its time budget (catastrophic backtracking)."""

    code = "pattern_timeout"
    title = "Regular expression too slow"

    def __init__(self, pattern: str, timeout: float) -> None:
        self.pattern = pattern
        self.timeout = timeout
        super().__init__(
            f"regular expression {pattern!r} did not finish within {timeout:g} s on this text.",
            hint="Avoid nested or overlapping repetition such as (a+)+ or (a|aa)+; anchor the "
            "pattern or use a possessive quantifier / atomic group (a++, (?>...)).",
        )

    def _extra_members(self) -> dict[str, Any]:
        return {"pattern": self.pattern, "timeout": self.timeout}


class SaturatedError(BackendUnavailableError):
    """Every slot of a bulkhead (one tool, one MCP server) is busy: fail fast, retry later."""

    code = "saturated"
    title = "Too many concurrent calls"

    def __init__(self, what: str, limit: int, *, retry_after: float = 1.0) -> None:
        self.what = what
        self.limit = limit
        self.retry_after = retry_after
        super().__init__(
            f"{what} already runs {limit} calls at once; this call was refused, not queued.",
            hint=f"Retry after {retry_after:g} s, or call fewer at once.",
        )

    def _extra_members(self) -> dict[str, Any]:
        return {"limit": self.limit, "retry_after": self.retry_after}
