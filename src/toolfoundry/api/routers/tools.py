"""/api/v1/tools: list, inspect, switch on/off, describe and call tools."""

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool

from toolfoundry.api.deps import Library
from toolfoundry.api.idempotency import HEADER, IdempotencyStore, request_hash
from toolfoundry.api.problems import PROBLEM, problem_responses
from toolfoundry.core.errors import InvalidInputError, ToolfoundryError
from toolfoundry.core.models import Tool, ToolKind, ToolResult
from toolfoundry.trajectory import ToolInsights

router = APIRouter(
    prefix="/api/v1/tools",
    tags=["tools"],
    responses=problem_responses(400, 404, 409, 422, 502, 503, 504),
)


class ToolPatch(BaseModel):
    enabled: StrictBool | None = None
    deprecated: StrictBool | None = None


class CallBody(BaseModel):
    arguments: dict[str, Any] = Field(default_factory=dict)
    trajectory_id: str | None = Field(
        default=None, description="Record the call as the next tool_execution step of this run."
    )


@router.get("")
async def list_tools(
    library: Library,
    toolkit: str | None = None,
    kind: ToolKind | None = None,
    enabled: bool | None = None,
    q: str | None = None,
) -> list[Tool]:
    """Tools with their current version; filter by toolkit, kind, enabled, or a text query."""
    return await library.list_tools(toolkit=toolkit, kind=kind, enabled=enabled, q=q)


@router.get("/{tool_ref}")
async def get_tool(tool_ref: str, library: Library) -> Tool:
    """A tool's schema, versions and usage."""
    return await library.get_tool(tool_ref)


@router.patch("/{tool_ref}")
async def patch_tool(tool_ref: str, body: ToolPatch, library: Library) -> Tool:
    """Enable, disable or deprecate a tool, or one version with `toolkit.tool@1.2.0`."""
    if body.enabled is None and body.deprecated is None:
        raise InvalidInputError(
            "nothing to change", hint='Send {"enabled": false} and/or {"deprecated": true}.'
        )
    return await library.set_state(tool_ref, enabled=body.enabled, deprecated=body.deprecated)


@router.post("/{tool_ref}/call")
async def call_tool(
    tool_ref: str,
    body: CallBody,
    library: Library,
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            min_length=1,
            max_length=255,
            pattern=r"^[\x21-\x7e]+$",
            description="Run the call at most once per key and caller (token): a repeat with "
            "the same body within the TTL returns the first response; another body is a 422. "
            "Another token's key of the same name is another key.",
        ),
    ] = None,
) -> ToolResult:
    """Call a tool. A failure inside the tool is a 200 with `is_error: true`; bad arguments are
    a 422, an unknown tool a 404, an unreachable backend a 503 (`outcome_unknown` when it died
    mid-call: the tool may have run)."""
    if idempotency_key is None:
        return await _call(tool_ref, body, library)
    principal = request.scope.get("auth")  # None: auth is off for this caller
    store = IdempotencyStore(
        library.sessions,
        timedelta(seconds=library.settings.idempotency_ttl),
        owner=None if principal is None else principal.name,
    )
    stored = await store.begin(
        idempotency_key, request_hash(tool_ref, body.model_dump(mode="json"))
    )
    if stored is not None:
        media = PROBLEM if stored.status_code >= 400 else "application/json"
        return JSONResponse(  # type: ignore[return-value]
            stored.body,
            status_code=stored.status_code,
            media_type=media,
            headers={"Idempotent-Replayed": "true"},
        )
    try:
        result = await _call(tool_ref, body, library)
    except ToolfoundryError as exc:
        if exc.transient:  # nothing ran, or running it again is safe: the key is freed
            await store.abandon(idempotency_key)
        else:
            await store.finish(idempotency_key, exc.status_code, exc.to_problem())
        raise
    except BaseException:
        await store.abandon(idempotency_key)
        raise
    await store.finish(idempotency_key, 200, result.model_dump(mode="json"))
    return result


async def _call(tool_ref: str, body: CallBody, library: Library) -> ToolResult:
    if body.trajectory_id:
        return await library.trajectories.call(body.trajectory_id, tool_ref, body.arguments)
    return await library.call(tool_ref, body.arguments)


@router.get("/{tool_ref}/describe")
async def describe_tool(
    tool_ref: str,
    library: Library,
    format: Literal["openai", "anthropic", "mcp", "text"] = "openai",
    learned: bool = False,
) -> Any:
    """The tool as a model sees it, generated from its schema and docstring; `learned=true`
    appends usage notes from recorded calls and runs."""
    return await library.describe(tool_ref, format, learned=learned)


@router.get("/{tool_ref}/insights")
async def tool_insights(tool_ref: str, library: Library) -> ToolInsights:
    """What usage taught about the tool: success by scenario, common errors, requests it served,
    tools used with it, and notes for a model."""
    return await library.tool_insights(tool_ref)
