"""Registering Python functions as tools: definitions from signatures, immutable versions."""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from types import ModuleType
from typing import Any, Literal

from toolfoundry.core.errors import InvalidInputError
from toolfoundry.core.models import ToolKind
from toolfoundry.registry.catalog import Catalog, ToolDefinition
from toolfoundry.registry.decorator import ToolOptions, tool_options
from toolfoundry.runtime.function_backend import FunctionBackend, code_hash

log = logging.getLogger(__name__)

Bump = Literal["patch", "minor", "major"]
Announce = Callable[[str, list[str]], Awaitable[None]]


class FunctionRegistrar:
    """Stores function tools in the catalog and tells the bus (`announce("upsert", ids)`)."""

    def __init__(self, catalog: Catalog, functions: FunctionBackend, announce: Announce) -> None:
        self._catalog = catalog
        self._functions = functions
        self._announce = announce

    async def register(
        self, fn: Callable[..., Any], *, bump: Bump | None = None, **options: Any
    ) -> str:
        """Store one function (options as `ToolLibrary.register`); returns its tool id."""
        definition = await self._store(fn, bump=bump, **options)
        await self._announce("upsert", [definition.tool_id])
        return definition.tool_id

    async def register_module(
        self, module: str | ModuleType, *, toolkit: str | None = None, bump: Bump | None = None
    ) -> list[str]:
        """Store every `@tool` function of a module; returns their ids. A function's toolkit
        is its decorator's, else `toolkit`, else the module's short name."""
        if isinstance(module, str):
            try:
                module = importlib.import_module(module)
            except ImportError as exc:
                raise InvalidInputError(
                    f"cannot import module {module!r}: {exc}",
                    hint="Check the dotted name and that the module is on PYTHONPATH "
                    "(or installed in this environment).",
                ) from exc
        functions = [
            obj
            for _name, obj in inspect.getmembers(module, callable)
            if tool_options(obj) is not None and getattr(obj, "__module__", None) == module.__name__
        ]
        if not functions:
            raise InvalidInputError(
                f"module {module.__name__!r} has no @tool-decorated functions",
                hint="Decorate functions with `from toolfoundry import tool` and `@tool`.",
            )
        default_toolkit = toolkit or module.__name__.rsplit(".", 1)[-1]
        summary = (inspect.getdoc(module) or "").split("\n", 1)[0]
        ids = []
        for fn in functions:
            options = tool_options(fn)
            kit = (options.toolkit if options else None) or default_toolkit
            await self._catalog.ensure_toolkit(kit, summary)
            definition = await self._store(fn, toolkit=kit, bump=bump)
            ids.append(definition.tool_id)
        await self._announce("upsert", ids)
        return ids

    async def load_starters(self) -> None:
        """The bundled starter toolkits; a starter changed without a new version keeps the
        stored one (logged)."""
        from toolfoundry.starters import STARTER_TOOLKITS

        definitions = []
        for starter in STARTER_TOOLKITS.values():
            await self._catalog.ensure_toolkit(starter.name, starter.description, starter.category)
            module = importlib.import_module(starter.module)
            definitions += [
                self.define(fn, toolkit=starter.name)
                for fn in vars(module).values()
                if tool_options(fn) is not None and fn.__module__ == starter.module
            ]
        for tool_id in await self._catalog.add_versions(definitions):
            log.warning(
                "starter tool %s changed without a new version; keeping the stored one "
                "(bump its @tool(version=...))",
                tool_id,
            )

    async def _store(
        self, fn: Callable[..., Any], *, bump: Bump | None = None, **options: Any
    ) -> ToolDefinition:
        definition = self.define(fn, **options)
        await self._catalog.add_version(definition, bump=bump)
        return definition

    def define(
        self,
        fn: Callable[..., Any],
        *,
        toolkit: str | None = None,
        name: str | None = None,
        version: str | None = None,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        timeout: float | None = None,
        retries: int | None = None,
    ) -> ToolDefinition:
        """The catalog definition of `fn`; the function is remembered so it can run at once."""
        if not callable(fn):
            raise InvalidInputError(f"{fn!r} is not callable", hint="Pass a function.")
        options = tool_options(fn) or ToolOptions()
        toolkit = toolkit or options.toolkit
        if not toolkit:
            raise InvalidInputError(
                f"no toolkit given for {getattr(fn, '__qualname__', fn)!r}",
                hint="Pass toolkit=... or decorate it with @tool(toolkit=...).",
            )
        name = name or options.name or fn.__name__
        schema = self._functions.schema_for(fn, name, description or options.description)
        source = f"{fn.__module__}:{fn.__qualname__}"
        digest = code_hash(fn)
        definition = ToolDefinition(
            toolkit=toolkit,
            name=name,
            kind=ToolKind.FUNCTION,
            version=version or options.version,
            description=schema.description,
            input_schema=schema.input_schema,
            output_schema=schema.output_schema,
            source=source,
            code_hash=digest,
            tags=tuple(tags if tags is not None else options.tags),
            examples=options.examples,
            timeout=timeout if timeout is not None else options.timeout,
            retries=retries if retries is not None else options.retries,
        )
        if "<locals>" in source or fn.__module__ == "__main__":
            log.warning(
                "%s is registered from %s: it works in this process but cannot be re-imported "
                "after a restart; move it to an importable module to persist it",
                definition.tool_id,
                source,
            )
        self._functions.remember(source, fn, digest)
        return definition
