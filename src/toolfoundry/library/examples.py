"""Example requests a model writes for catalog tools (`toolfoundry tools examples`, or in the
background of `serve` with `TOOLFOUNDRY_DISCOVERY_GENERATE_EXAMPLES=true`). They are stored
apart from the author's examples, marked as generated, and join the tool's discovery text and
its example vector like the author's do."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from pydantic import BaseModel

from toolfoundry.core.errors import InvalidInputError
from toolfoundry.registry.catalog import Catalog, ToolFilter

if TYPE_CHECKING:
    from pydantic_ai.models import Model

log = logging.getLogger(__name__)

Announce = Callable[[str, list[str]], Awaitable[None]]
Progress = Callable[[str], None]


class ExamplesWritten(BaseModel):
    """What happened for one tool: the examples stored, or why none were."""

    tool_id: str
    examples: list[str] = []
    skipped: str | None = None
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0


class ExampleWriter:
    def __init__(
        self, catalog: Catalog, model: Model | None, announce: Announce, *, timeout: float
    ) -> None:
        self._catalog = catalog
        self._model = model
        self._announce = announce
        self._timeout = timeout
        self._pending: asyncio.Queue[str] | None = None
        self._worker: asyncio.Task[None] | None = None

    async def write(
        self,
        tool_ids: list[str] | None = None,
        *,
        replace: bool = False,
        count: int = 3,
        on_progress: Progress | None = None,
    ) -> list[ExamplesWritten]:
        """Write examples for ``tool_ids`` (every tool when None). A tool that already has
        generated examples is skipped unless ``replace``; one tool's failure (the model timed
        out, answered nothing usable) is reported and the others go on."""
        from toolfoundry.discovery.example_writer import write_examples
        from toolfoundry.discovery.service import document

        if self._model is None:
            raise InvalidInputError(
                "writing example requests needs a language model, and none is configured",
                hint="Set TOOLFOUNDRY_LLM_MODEL (and TOOLFOUNDRY_LLM_BASE_URL for a local "
                "OpenAI-compatible server), then run the command again.",
            )
        if not 1 <= count <= 10:
            raise InvalidInputError(
                f"count must be between 1 and 10, got {count}", hint="Use e.g. --count 3."
            )
        if tool_ids is None:
            tools = await self._catalog.list_tools()
        else:
            tools = [await self._catalog.get_tool(t) for t in dict.fromkeys(tool_ids)]
        results: list[ExamplesWritten] = []
        for number, tool in enumerate(tools, start=1):
            prefix = f"[{number}/{len(tools)}] {tool.id}"
            if tool.generated_examples and not replace:
                results.append(ExamplesWritten(tool_id=tool.id, skipped="has examples"))
                _say(on_progress, f"{prefix}: has generated examples (--replace to rewrite)")
                continue
            try:
                written = await asyncio.wait_for(
                    write_examples(self._model, document(tool), count=count), self._timeout
                )
            except TimeoutError:
                results.append(
                    ExamplesWritten(
                        tool_id=tool.id, error=f"the model did not answer in {self._timeout:g} s"
                    )
                )
                _say(on_progress, f"{prefix}: no answer in {self._timeout:g} s")
                continue
            except Exception as exc:  # a model failure is this tool's outcome, not the run's
                error = f"{type(exc).__name__}: {exc}"
                results.append(ExamplesWritten(tool_id=tool.id, error=error))
                _say(on_progress, f"{prefix}: {error}")
                continue
            result = ExamplesWritten(
                tool_id=tool.id,
                examples=written.examples,
                input_tokens=written.input_tokens,
                output_tokens=written.output_tokens,
            )
            if not written.examples:
                result.error = "the model's answer held no usable request"
                results.append(result)
                _say(on_progress, f"{prefix}: no usable request in the answer")
                continue
            await self._catalog.set_generated_examples(tool.id, written.examples)
            await self._announce("upsert", [tool.id])
            results.append(result)
            _say(on_progress, f"{prefix}: {len(written.examples)} examples")
        return results

    # --- in the background of a serving library ----------------------------------------------

    def start_background(self) -> None:
        """Write examples for tools that have none, as they are registered (and once for the
        whole catalog now). Needs a model; one tool at a time, so a slow model is not swamped."""
        if self._model is None or self._worker is not None:
            return
        self._pending = asyncio.Queue()
        self._worker = asyncio.create_task(self._drain(), name="toolfoundry-example-writer")

    def changed(self, event: str, ident: str) -> None:
        """Bus listener: a registered or updated tool may need examples."""
        if self._pending is not None and event == "upsert":
            self._pending.put_nowait(ident)

    async def _drain(self) -> None:
        assert self._pending is not None
        for tool in await self._catalog.list_tools(ToolFilter()):
            if not tool.generated_examples:
                self._pending.put_nowait(tool.id)
        while True:
            tool_id = await self._pending.get()
            try:
                await self.write([tool_id])
            except Exception:  # a removed tool, a database hiccup: log, keep serving
                log.exception("writing example requests for %s failed", tool_id)

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None


def _say(on_progress: Progress | None, message: str) -> None:
    if on_progress is not None:
        on_progress(message)
