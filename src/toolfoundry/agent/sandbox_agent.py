"""`SandboxAgent`: scenario → discover → close gaps → execute with a model → record, as one run.

The reference design's execution agent, built from the library's parts: discovery picks the
tools, capability gaps are built (optionally), a model calls the tools through the dispatcher,
and the whole run is a trajectory that the library learns from."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field

from toolfoundry.builder import GapResolution, coercion
from toolfoundry.core.errors import (
    ArgumentsError,
    BackendUnavailableError,
    InvalidInputError,
    PathNotAllowedError,
    PatternTimeoutError,
    SaturatedError,
    ToolfoundryError,
)
from toolfoundry.core.models import Tool
from toolfoundry.discovery.results import CapabilityGap, DiscoveryResult
from toolfoundry.llm import describe_model, load_prompt
from toolfoundry.registry.presentation import ToolView, model_names, model_views
from toolfoundry.trajectory.models import StepType

if TYPE_CHECKING:
    from pydantic_ai.models import Model

    from toolfoundry.discovery.service import DiscoverMode
    from toolfoundry.trajectory.run import TrajectoryRun


class AgentAnswer(BaseModel):
    """What the model returns at the end of a run."""

    answer: str = Field(description="The answer to the user's request, from the tools' results.")
    completed: bool = Field(description="True only if the request is fully answered.")


class AgentRunResult(BaseModel):
    trajectory_id: str
    query: str
    model: str
    success: bool
    answer: str
    tools_offered: list[str]
    tools_used: list[str]
    tool_calls: int
    invalid_tool_calls: int = 0
    """Calls the dispatcher refused (arguments that do not fit the schema, after coercion)."""
    repeated_tool_calls: int = 0
    """Identical calls answered from the earlier result instead of being run again."""
    gaps: list[GapResolution] = Field(default_factory=list)
    discovery: DiscoveryResult
    duration_ms: float


@dataclass
class _Counts:
    calls: int = 0
    invalid: int = 0
    repeated: int = 0


_FENCED = re.compile(r"^\s*(?:`{3,}|~{3,})[\w-]*\s*\n(?P<body>.*?)\n\s*(?:`{3,}|~{3,})\s*$", re.S)


# An answer that is only a status line ("completed: true", "Done.") says nothing: small
# models echo the instructions' words instead of the result.
_STATUS_ONLY = re.compile(
    r"^\W*(?:completed|complete|done|finished|success|ok|true)(?:\W*(?:true|yes|1))?\W*$",
    re.IGNORECASE,
)


def _answer(
    output: AgentAnswer | str, *, answered_from_tools: bool, last_result: Any = None
) -> AgentAnswer:
    """The run's answer from a structured output or from text — which may itself be the
    structured answer as (fenced) JSON. A text answer counts as complete when it is not empty
    and rests on tool results (or no tools were offered). An answer that is only a status
    line is replaced by the last tool result, which it claimed answers the request."""
    if isinstance(output, AgentAnswer):
        if _STATUS_ONLY.match(output.answer.strip()) and last_result is not None:
            return AgentAnswer(answer=_shown(last_result), completed=output.completed)
        return output
    text = output.strip()
    if _STATUS_ONLY.match(text) and last_result is not None:
        return AgentAnswer(answer=_shown(last_result), completed=answered_from_tools)
    fenced = _FENCED.match(text)
    body = fenced["body"] if fenced else text
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("answer"), str):
        completed = data.get("completed")
        return _answer(
            AgentAnswer(
                answer=data["answer"],
                completed=completed if isinstance(completed, bool) else answered_from_tools,
            ),
            answered_from_tools=answered_from_tools,
            last_result=last_result,
        )
    return AgentAnswer(answer=text, completed=bool(text) and answered_from_tools)


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


_TOOL_CALL_TAGS = re.compile(r"</?tool_call>")
_BLOCKS = re.compile(r"(?:`{3,}|~{3,})[\w-]*\s*\n(.*?)\n\s*(?:`{3,}|~{3,})", re.S)
_CALL_START = re.compile(r'\{\s*"name"\s*:')
_MAX_BARE_CALLS = 8


def _as_call(data: object) -> tuple[str, dict[str, Any]] | None:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return None
    arguments = data.get("arguments", data.get("parameters", {}))
    if isinstance(arguments, str):  # OpenAI's own wire format: arguments as a JSON string
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return None
    if not isinstance(arguments, dict):
        return None
    return data["name"], arguments


def _text_tool_call(text: str) -> tuple[str, dict[str, Any]] | None:
    """A tool call written as text — `{"name": ..., "arguments": {...}}`, bare, fenced or in
    `<tool_call>` tags, alone or with prose around it, as small models do when their chat
    template's tool format slips — or None when the text holds none. The first call found
    counts; the caller runs it only when it names an offered tool."""
    body = _TOOL_CALL_TAGS.sub("", text).strip()
    candidates = [body, *_BLOCKS.findall(body)]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        try:
            call = _as_call(json.loads(candidate))
        except ValueError:
            call = None
        if call is not None:
            return call
    # A bare object inside prose; the first few candidates only, so a long answer full of
    # '{"name":' fragments cannot make this quadratic.
    for start in itertools.islice(_CALL_START.finditer(body), _MAX_BARE_CALLS):
        try:
            data, _ = decoder.raw_decode(body, start.start())
        except ValueError:
            continue
        if (call := _as_call(data)) is not None:
            return call
    return None


class AgentCatalog(Protocol):
    async def get_tool(self, ref: str) -> Tool: ...


class StartRun(Protocol):
    """Opens a recorded run (`ToolLibrary.trajectory`)."""

    def __call__(
        self, query: str, *, scenario: str | None = ..., llm_model: str | None = ...
    ) -> TrajectoryRun: ...


CloseGap = Callable[[CapabilityGap], Awaitable[GapResolution]]


class SandboxAgent:
    """Runs a request with what it is given: a catalog to read tools from, a way to open a
    recorded run (whose calls go through the dispatcher), a way to close a capability gap,
    and a model."""

    def __init__(
        self,
        catalog: AgentCatalog,
        start_run: StartRun,
        close_gap: CloseGap,
        model: Model | None,
        *,
        top_k: int = 5,
        max_tool_calls: int = 20,
        build_missing: bool = False,
        discover_mode: DiscoverMode = "auto",
    ) -> None:
        self.catalog = catalog
        self.start_run = start_run
        self.close_gap = close_gap
        self.model = model
        self.top_k = top_k
        self.max_tool_calls = max_tool_calls
        self.build_missing = build_missing
        self.discover_mode = discover_mode

    async def run(self, query: str, *, scenario: str | None = None) -> AgentRunResult:
        if self.model is None:
            raise InvalidInputError(
                "running an agent needs a model, and none is configured",
                hint="Set TOOLFOUNDRY_LLM_MODEL (and _BASE_URL/_API_KEY). Without a model, "
                "`toolfoundry discover` still plans which tools to use.",
            )
        started = time.perf_counter()
        async with self.start_run(
            query, scenario=scenario, llm_model=describe_model(self.model)
        ) as run:
            found = await run.discover(query, top_k=self.top_k, mode=self.discover_mode)
            resolutions: list[GapResolution] = []
            if found.gaps and self.build_missing:
                resolutions = await self._close_gaps(run, found)
                if any(r.status in ("built", "reused") for r in resolutions):
                    found = await run.discover(query, top_k=self.top_k, mode=self.discover_mode)
            offered = await self._offered_tools(found)
            answer, used, counts = await self._execute(run, query, found, offered)
            if answer.completed:
                run.succeed({"answer": answer.answer})
            else:
                run.fail({"answer": answer.answer})
        return AgentRunResult(
            trajectory_id=run.id,
            query=query,
            model=describe_model(self.model),
            success=answer.completed,
            answer=answer.answer,
            tools_offered=[t.id for t in offered],
            tools_used=used,
            tool_calls=counts.calls,
            invalid_tool_calls=counts.invalid,
            repeated_tool_calls=counts.repeated,
            gaps=resolutions,
            discovery=found,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )

    async def _close_gaps(self, run: TrajectoryRun, found: DiscoveryResult) -> list[GapResolution]:
        resolutions = []
        for gap in found.gaps:
            began = time.perf_counter()
            resolution = await self.close_gap(gap)
            resolutions.append(resolution)
            await run.step(
                StepType.CAPABILITY_BUILD,
                input_data={"gap": gap.model_dump(mode="json")},
                output_data={"status": resolution.status, "tools": resolution.tools},
                execution_time=time.perf_counter() - began,
                success=resolution.status in ("built", "reused"),
            )
        return resolutions

    async def _offered_tools(self, found: DiscoveryResult) -> list[Tool]:
        """The plan's tools first, then the other ranked tools and backups: a model may need
        an alternative when the first choice fails. A tool whose model-safe name a better
        ranked one already has is left out (the model could not tell them apart)."""
        ids = [s.tool for s in found.tool_filtering.execution_plan.steps if s.tool]
        ids += [t.id for t in found.tools] + [t.id for t in found.tool_filtering.backup_options]
        tools = []
        for tool_id in dict.fromkeys(ids):
            try:
                tools.append(await self.catalog.get_tool(tool_id))
            except ToolfoundryError:  # removed since discovery answered
                continue
        return list(model_names(tools, clash="skip").values())

    async def _execute(
        self, run: TrajectoryRun, query: str, found: DiscoveryResult, offered: list[Tool]
    ) -> tuple[AgentAnswer, list[str], _Counts]:
        from pydantic_ai import Agent, ModelRetry, TextOutput, UsageLimits
        from pydantic_ai.exceptions import AgentRunError, UsageLimitExceeded

        from toolfoundry.agent.toolset import CatalogToolset

        used: list[str] = []
        counts = _Counts()
        results: dict[str, Any] = {}
        last_result: Any = None  # what the answer rests on when it says only "done"
        schemas = {t.id: t.input_schema for t in offered}

        async def invoke(view: ToolView, arguments: dict[str, Any]) -> Any:
            counts.calls += 1
            # A small model's habits: arguments wrapped in {"arguments": ...}, numbers and
            # lists as text. Fitted to the schema where the intent is plain.
            arguments = coercion.arguments_for_schema(arguments, schemas[view.tool_id])
            key = f"{view.tool_id} {json.dumps(arguments, sort_keys=True, default=str)}"
            if key in results:
                # The same call again after its result: answer from that result and take
                # the tools away, so the next turn is the answer.
                counts.repeated += 1
                toolset.withdrawn = True
                return {
                    "result": results[key],
                    "note": "You already made this call; this is its result. Answer the "
                    "request now from the results you have.",
                }
            try:
                result = await run.call(view.tool_id, arguments)
            except ArgumentsError as exc:
                # The model's mistake: it gets the exact paths and fixes its call.
                counts.invalid += 1
                raise ModelRetry(exc.detail) from None
            except (PathNotAllowedError, PatternTimeoutError, SaturatedError) as exc:
                # Refused by policy or load: the model may pick another file, a simpler
                # pattern or another tool, so it hears why instead of the run ending.
                return {"error": f"{exc.detail} {exc.hint or ''}".strip()}
            if view.tool_id not in used:
                used.append(view.tool_id)
            if result.is_error:
                return {"error": result.content}
            value = result.structured if result.structured is not None else result.content
            results[key] = value
            nonlocal last_result
            last_result = value
            return value

        toolset = CatalogToolset(model_views(offered), invoke)
        nudged = False  # reminded once to call a tool instead of answering without one

        async def text_output(text: str) -> str:
            """Plain text is the answer — unless it is a tool call written as text: then the
            call runs like any other and the model hears its result, or, asked again for a
            result it already has, that result is the answer."""
            nonlocal nudged
            call = _text_tool_call(text)
            view = toolset.find(call[0]) if call is not None else None
            if call is None or view is None:
                if counts.calls == 0 and offered and not nudged:
                    # A small model's habit: describing the call in prose, or guessing. One
                    # reminder, then whatever it writes is the answer.
                    nudged = True
                    raise ModelRetry(
                        "No tool has been called, so nothing answers the request yet. Call the "
                        "tool that fits now, as a tool call with arguments matching its schema."
                    )
                return text
            name, arguments = call
            repeated = counts.repeated
            value = await invoke(view, arguments)
            if counts.repeated > repeated:
                return json.dumps(value["result"], ensure_ascii=False, default=str)
            shown = json.dumps(value, ensure_ascii=False, default=str)[:4000]
            raise ModelRetry(
                f"The tool {name} returned: {shown}\nAnswer the request from this result, "
                "in plain text."
            )

        agent = Agent(
            self.model,
            # A structured answer, or plain text: a small model often just writes the answer.
            output_type=[AgentAnswer, TextOutput(text_output)],
            instructions=load_prompt("agent"),
            toolsets=[toolset],
            # Output retries carry the text-call results and the call reminder back to the
            # model, so a small model's run needs a few more of them than its tool calls do.
            retries={"tools": 2, "output": 4},
        )
        plan = [
            {"step": s.order, "tool": s.tool, "purpose": s.purpose}
            for s in found.tool_filtering.execution_plan.steps
        ]
        prompt = f"Request: {query}\n\nSuggested plan: {json.dumps(plan, ensure_ascii=False)}"
        began = time.perf_counter()
        interaction: dict[str, Any] = {"model": describe_model(self.model)}
        try:
            result = await agent.run(
                prompt, usage_limits=UsageLimits(tool_calls_limit=self.max_tool_calls)
            )
        except UsageLimitExceeded as exc:
            output = AgentAnswer(answer=f"stopped: {exc}", completed=False)
        except AgentRunError as exc:
            await run.step(
                StepType.LLM_REASONING,
                input_data={"prompt": prompt, "tools": [t.id for t in offered]},
                output_data={"error": str(exc)},
                llm_interaction=interaction,
                execution_time=time.perf_counter() - began,
                success=False,
                error_type=type(exc).__name__,
            )
            raise BackendUnavailableError(
                f"the model failed during the run: {type(exc).__name__}: {exc}",
                hint="Check TOOLFOUNDRY_LLM_* and the model server; the run is recorded as "
                "failed with the steps so far.",
            ) from exc
        else:
            output = _answer(
                result.output,
                answered_from_tools=bool(used) or not offered,
                last_result=last_result,
            )
            usage = result.usage
            interaction.update(
                requests=usage.requests,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
            )
        await run.step(
            StepType.LLM_REASONING,
            input_data={"prompt": prompt, "tools": [t.id for t in offered]},
            output_data={"answer": output.answer[:10_000], "completed": output.completed},
            llm_interaction=interaction,
            execution_time=time.perf_counter() - began,
            success=output.completed,
        )
        return output, used, counts
