"""Runs Python function tools in process."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import hashlib
import importlib
import inspect
import json
import logging
import weakref
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

log = logging.getLogger(__name__)


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


# A function object's hash, taken the first time it is seen: `inspect.getsource` reads the file
# as it is *now*, so hashing an old function object after its file changed would give the new
# code's hash.
_HASHES: weakref.WeakKeyDictionary[Any, str | None] = weakref.WeakKeyDictionary()


def code_hash(fn: Callable[..., Any]) -> str | None:
    """sha256 of the function's source text: what pins a version's code. None when Python has
    no source for it (builtins, a REPL): such a version is pinned by its reference only."""
    try:
        return _HASHES[fn]
    except (KeyError, TypeError):
        pass
    try:
        digest: str | None = hashlib.sha256(inspect.getsource(fn).encode()).hexdigest()
    except (OSError, TypeError):
        digest = None
    with contextlib.suppress(TypeError):  # not weak-referenceable: hash again next time
        _HASHES[fn] = digest
    return digest


class FunctionBackend:
    """Holds the Python callables of function tools and runs them.

    Callables are kept per import reference *and code hash*: each version runs the function
    object registered for it in this process, so `tool@1.0.0` keeps running 1.0.0's body after
    1.1.0 changed the module. After a restart only the module's current code can be imported;
    a version whose code is gone then runs the current function, checked against the version's
    own stored schema, and says so in the log (the documented limit of pinning by hash).
    """

    kind = ToolKind.FUNCTION

    def __init__(self, policy: ToolPolicy | None = None, *, threads: int = 64) -> None:
        self._callables: dict[tuple[str, str | None], Callable[..., Any]] = {}
        self._schemas: dict[int, FunctionSchema] = {}
        # What the functions may touch (file roots, regex budget): made current around calls.
        self.policy = policy or current_policy()
        # Sync tools get threads of their own, as many as calls may run at once: the loop's
        # default pool has cpu + 4 threads, so a handful of hung tools would starve the rest
        # (and everything else using to_thread) whatever the per-tool bulkheads allow.
        self._thread_count = threads
        self._threads: ThreadPoolExecutor | None = None

    def remember(self, source: str, fn: Callable[..., Any], digest: str | None) -> None:
        self._callables[(source, digest)] = fn

    def schema_for(
        self, fn: Callable[..., Any], name: str, description: str | None
    ) -> FunctionSchema:
        key = id(fn)
        schema = self._schemas.get(key)
        if schema is None or schema.name != name:
            schema = derive_function_schema(fn, name=name, description=description)
            self._schemas[key] = schema
        return schema

    def _import(self, source: str, digest: str | None) -> tuple[Callable[..., Any], bool]:
        """The function for a version, and whether its code is the version's own."""
        known = self._callables.get((source, digest))
        if known is not None:
            return known, True
        fn = import_reference(source)
        if digest is not None and code_hash(fn) != digest:
            # Another process registered new code under this reference: read the module again.
            fn = import_reference(source, reload=True)
        pinned = digest is None or code_hash(fn) == digest
        if pinned:
            self._callables[(source, digest)] = fn
        return fn, pinned

    def load(self, tool: ToolRow, version: ToolVersionRow) -> ToolEntry:
        source = version.source or ""
        try:
            fn, pinned = self._import(source, version.code_hash)
            if pinned:
                validate = self.schema_for(fn, tool.name, version.description).validator
            else:
                log.warning(
                    "%s@%s: its code is no longer importable from %s; running the current "
                    "code against the version's stored schema",
                    tool.id,
                    version.version,
                    source,
                )
                validate = compile_schema_validator(version.input_schema)
            target, unavailable = fn, None
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


def import_reference(source: str, *, reload: bool = False) -> Any:
    """Import `package.module:Qual.name` (`reload`: re-execute the module to see new code);
    raises ImportError/AttributeError with the cause."""
    module_name, _, qualname = source.partition(":")
    if not qualname:
        raise ImportError(f"{source!r} is not an import reference (expected module:qualname)")
    if "<locals>" in qualname:
        raise ImportError(
            f"{source} is defined inside a function and cannot be re-imported; "
            "move it to module level"
        )
    target: Any = importlib.import_module(module_name)
    if reload:
        target = importlib.reload(target)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target
