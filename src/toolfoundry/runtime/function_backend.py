"""Runs Python function tools in process."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import importlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel

from toolfoundry.core.models import ToolKind
from toolfoundry.core.policy import ToolPolicy, current_policy, use_policy
from toolfoundry.registry.schema import (
    FunctionSchema,
    compile_schema_validator,
    derive_function_schema,
)
from toolfoundry.runtime.backends import ToolOutput
from toolfoundry.runtime.entries import ToolEntry
from toolfoundry.store.tables import ToolRow, ToolVersionRow


def to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple) and value and isinstance(value[0], BaseModel):
        return [to_jsonable(v) for v in value]
    return value


def render_content(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


class FunctionBackend:
    """Holds the Python callables of function tools and runs them.

    Functions registered in this process are kept by their import reference, so tools defined in
    a script or a test still run; after a restart they are re-imported from that reference.
    """

    kind = ToolKind.FUNCTION

    def __init__(self, policy: ToolPolicy | None = None, *, threads: int = 64) -> None:
        self._callables: dict[str, Callable[..., Any]] = {}
        self._schemas: dict[int, FunctionSchema] = {}
        # What the functions may touch (file roots, regex budget): made current around calls.
        self.policy = policy or current_policy()
        # Sync tools get threads of their own, as many as calls may run at once: the loop's
        # default pool has cpu + 4 threads, so a handful of hung tools would starve the rest
        # (and everything else using to_thread) whatever the per-tool bulkheads allow.
        self._thread_count = threads
        self._threads: ThreadPoolExecutor | None = None

    def remember(self, source: str, fn: Callable[..., Any]) -> None:
        self._callables[source] = fn

    def schema_for(
        self, fn: Callable[..., Any], name: str, description: str | None
    ) -> FunctionSchema:
        key = id(fn)
        schema = self._schemas.get(key)
        if schema is None or schema.name != name:
            schema = derive_function_schema(fn, name=name, description=description)
            self._schemas[key] = schema
        return schema

    def load(self, tool: ToolRow, version: ToolVersionRow) -> ToolEntry:
        source = version.source or ""
        try:
            fn = self._callables.get(source) or import_reference(source)
            self._callables[source] = fn
            schema = self.schema_for(fn, tool.name, version.description)
            validate, target, unavailable = schema.validator, fn, None
        except Exception as exc:  # an uninstalled module must not stop the service starting
            # Never called: resolving an unavailable entry raises before validation.
            validate, target = compile_schema_validator(version.input_schema), None
            unavailable = f"cannot load {source}: {type(exc).__name__}: {exc}"
        return ToolEntry(
            tool_id=tool.id,
            version=version.version,
            kind=self.kind,
            validate=validate,
            target=target,
            timeout=tool.timeout,
            retries=tool.retries,
            enabled=version.enabled,
            unavailable=unavailable,
        )

    def close(self) -> None:
        """Stop taking work; threads of calls still running end when their function does."""
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)
            self._threads = None

    async def invoke(self, entry: ToolEntry, arguments: dict[str, Any]) -> ToolOutput:
        fn = entry.target
        with use_policy(self.policy):
            if asyncio.iscoroutinefunction(fn):
                value = await fn(**arguments)
            else:
                # Sync code runs in a worker thread: it must not block the event loop other
                # calls share, and the per-call timeout can only be enforced from outside the
                # thread. The copied context carries the policy along.
                if self._threads is None:
                    self._threads = ThreadPoolExecutor(
                        self._thread_count, thread_name_prefix="toolfoundry-tool"
                    )
                context = contextvars.copy_context()
                value = await asyncio.get_running_loop().run_in_executor(
                    self._threads, functools.partial(context.run, fn, **arguments)
                )
        structured = to_jsonable(value)
        return ToolOutput(content=render_content(structured), structured=structured)


def import_reference(source: str) -> Any:
    """Import `package.module:Qual.name`; raises ImportError/AttributeError with the cause."""
    module_name, _, qualname = source.partition(":")
    if not qualname:
        raise ImportError(f"{source!r} is not an import reference (expected module:qualname)")
    if "<locals>" in qualname:
        raise ImportError(
            f"{source} is defined inside a function and cannot be re-imported; "
            "move it to module level"
        )
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target
