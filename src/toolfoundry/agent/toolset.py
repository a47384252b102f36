"""The offered catalog tools as a pydantic-ai toolset.

Each tool is listed as `presentation` shows it to a model (model-safe name, description with
the deprecation marker, the stored input schema); a call goes to `invoke`, which runs it through
the dispatcher. Arguments are validated by the dispatcher against the stored schema, not here:
its errors name the exact paths, which the agent turns into a retry the model can act on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic_ai import RunContext
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets import AbstractToolset
from pydantic_ai.toolsets.abstract import ToolsetTool
from pydantic_core import SchemaValidator, core_schema

from toolfoundry.registry.presentation import ToolView

Invoke = Callable[[ToolView, dict[str, Any]], Awaitable[Any]]

_ANY_ARGUMENTS = SchemaValidator(schema=core_schema.any_schema())


class CatalogToolset(AbstractToolset[Any]):
    def __init__(self, views: Sequence[ToolView], invoke: Invoke, *, max_retries: int = 2) -> None:
        self.views = {view.name: view for view in views}
        self._invoke = invoke
        self._max_retries = max_retries
        self.withdrawn = False
        """Set to take every tool away, so the model's next turn is its answer."""

    @property
    def id(self) -> str | None:
        return "toolfoundry-catalog"

    def find(self, name: str) -> ToolView | None:
        """The view called `name`: its model-safe name, or the tool id a small model wrote."""
        return self.views.get(name) or next(
            (v for v in self.views.values() if v.tool_id == name), None
        )

    async def get_tools(self, ctx: RunContext[Any]) -> dict[str, ToolsetTool[Any]]:
        if self.withdrawn:
            return {}
        return {
            view.name: ToolsetTool(
                toolset=self,
                tool_def=ToolDefinition(
                    name=view.name,
                    description=view.description,
                    parameters_json_schema=view.input_schema,
                ),
                max_retries=self._max_retries,
                args_validator=_ANY_ARGUMENTS,
            )
            for view in self.views.values()
        }

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        return await self._invoke(self.views[name], tool_args)
