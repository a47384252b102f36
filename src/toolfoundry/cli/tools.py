"""`toolfoundry tools ...` and `toolfoundry toolkits ...`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.syntax import Syntax
from rich.table import Table

from toolfoundry.cli.output import (
    JsonOption,
    console,
    err_console,
    fail,
    open_library,
    print_json,
    run,
)

if TYPE_CHECKING:
    from toolfoundry.core.models import Tool

tools_app = typer.Typer(help="List, inspect, call and manage tools.", no_args_is_help=True)
toolkits_app = typer.Typer(help="List and create toolkits.", no_args_is_help=True)


def _tools_table(tools: list[Tool]) -> Table:
    table = Table(show_lines=False)
    for column in ("id", "kind", "version", "state", "calls", "ok %", "description"):
        table.add_column(column, overflow="fold" if column == "description" else "ellipsis")
    for t in tools:
        state = "enabled" if t.enabled else "disabled"
        if t.deprecated:
            state += ", deprecated"
        ok = f"{t.success_rate * 100:.0f}" if t.success_rate is not None else "-"
        table.add_row(
            t.id, t.kind.value, t.version, state, str(t.usage_count), ok, t.description[:80]
        )
    return table


@tools_app.command("list")
@run
async def list_tools(
    toolkit: Annotated[str | None, typer.Option(help="Only this toolkit.")] = None,
    kind: Annotated[
        Literal["function", "mcp"] | None, typer.Option(help="function or mcp.")
    ] = None,
    enabled: Annotated[
        bool | None, typer.Option("--enabled/--disabled", help="Only enabled / disabled.")
    ] = None,
    q: Annotated[str | None, typer.Option("-q", help="Text in id, description or tags.")] = None,
    as_json: bool = JsonOption,
) -> None:
    """List tools with their current version and usage."""
    from toolfoundry.cli.catalog import open_catalog
    from toolfoundry.core.models import ToolKind
    from toolfoundry.registry.catalog import ToolFilter

    async with open_catalog() as catalog:
        flt = ToolFilter(toolkit, ToolKind(kind) if kind else None, enabled, q)
        tools = await catalog.list_tools(flt)
    if as_json:
        print_json(tools)
    else:
        console.print(_tools_table(tools))
        console.print(f"[dim]{len(tools)} tools[/]")


@tools_app.command("show")
@run
async def show_tool(
    tool_id: Annotated[str, typer.Argument(help="toolkit.tool")], as_json: bool = JsonOption
) -> None:
    """Show a tool's description, schemas, versions and usage."""
    async with open_library() as library:
        tool = await library.get_tool(tool_id)
        text = await library.describe(tool_id, "text")
    if as_json:
        print_json(tool)
        return
    console.print(f"[bold]{tool.id}[/] {tool.version} ({tool.kind.value})")
    console.print(text)
    console.print(Syntax(json.dumps(tool.input_schema, indent=2), "json"))
    versions = ", ".join(
        f"{v.version}{'' if v.enabled else ' (disabled)'}{' (deprecated)' if v.deprecated else ''}"
        for v in tool.versions
    )
    console.print(f"versions: {versions}")
    rate = f"{tool.success_rate:.0%}" if tool.success_rate is not None else "n/a"
    console.print(f"calls: {tool.usage_count}, success rate: {rate}")


@tools_app.command("call")
@run
async def call_tool(
    tool_id: Annotated[str, typer.Argument(help="toolkit.tool or toolkit.tool@1.2.0")],
    arguments: Annotated[
        str, typer.Argument(help="Arguments as a JSON object, or - to read it from stdin.")
    ] = "{}",
    as_json: bool = JsonOption,
) -> None:
    """Call a tool: `toolfoundry tools call text.word_count '{"text": "hello world"}'`."""
    raw = sys.stdin.read() if arguments == "-" else arguments
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        fail(f"arguments are not valid JSON: {exc}", """Quote a JSON object: '{"x": 1}'.""")
    if not isinstance(parsed, dict):
        fail("arguments must be a JSON object", """Pass e.g. '{"text": "hi"}'.""")
    async with open_library() as library:
        result = await library.call(tool_id, parsed)
    if as_json:
        print_json(result)
    elif result.is_error:
        fail(result.content)
    else:
        console.print(result.content, markup=False, highlight=False)
    if result.is_error:
        raise typer.Exit(1)


async def _set_state(tool_id: str, **changes: bool) -> None:
    async with open_library() as library:
        tool = await library.set_state(tool_id, **changes)
    console.print(
        f"{tool.id}: {'enabled' if tool.enabled else 'disabled'}"
        f"{', deprecated' if tool.deprecated else ''}"
    )


@tools_app.command("enable")
@run
async def enable(tool_id: Annotated[str, typer.Argument(help="toolkit.tool[@version]")]) -> None:
    """Enable a tool, or one version of it."""
    await _set_state(tool_id, enabled=True)


@tools_app.command("disable")
@run
async def disable(tool_id: Annotated[str, typer.Argument(help="toolkit.tool[@version]")]) -> None:
    """Disable a tool (or one version): calls fail with 404 until enabled again."""
    await _set_state(tool_id, enabled=False)


@tools_app.command("deprecate")
@run
async def deprecate(
    tool_id: Annotated[str, typer.Argument(help="toolkit.tool[@version]")],
    undo: Annotated[bool, typer.Option("--undo", help="Remove the deprecation.")] = False,
) -> None:
    """Mark a tool deprecated: it still runs, and descriptions warn models off it."""
    await _set_state(tool_id, deprecated=not undo)


@tools_app.command("describe")
@run
async def describe(
    tool_ids: Annotated[list[str], typer.Argument(help="One or more toolkit.tool ids.")],
    format: Annotated[
        Literal["openai", "anthropic", "mcp", "text"], typer.Option("--format", "-f")
    ] = "openai",
    learned: Annotated[
        bool, typer.Option("--learned", help="Append usage notes from recorded calls and runs.")
    ] = False,
) -> None:
    """Render tools as a model sees them (OpenAI/Anthropic/MCP JSON or prompt text)."""
    async with open_library() as library:
        rendered = await library.describe(tool_ids, format, learned=learned)
    if isinstance(rendered, str):
        console.print(rendered, markup=False, highlight=False)
    else:
        print_json(rendered)


@tools_app.command("add-module")
@run
async def add_module(
    module: Annotated[str, typer.Argument(help="Importable dotted module name, e.g. mypkg.tools")],
    toolkit: Annotated[
        str | None, typer.Option(help="Toolkit for functions whose decorator names none.")
    ] = None,
    path: Annotated[
        Path | None, typer.Option(help="Directory to add to the import path first.")
    ] = None,
    bump: Annotated[
        Literal["patch", "minor", "major"] | None,
        typer.Option(
            help="A changed function gets the next patch/minor/major version instead of a "
            "conflict (versions are immutable)."
        ),
    ] = None,
    as_json: bool = JsonOption,
) -> None:
    """Register every @tool-decorated function of a module (re-imported on every start).

    A running `toolfoundry serve` picks the tools up within a second."""
    sys.path.insert(0, str(path.resolve()) if path else str(Path.cwd()))
    async with open_library() as library:
        tools = await library.register_module(module, toolkit=toolkit, bump=bump)
    if as_json:
        print_json(tools)
        return
    console.print(f"registered {len(tools)} tools from {module}:")
    for t in tools:
        params = ", ".join(t.input_schema.get("properties", {}))
        console.print(f"  {t.id}@{t.version}({params})")


@toolkits_app.command("list")
@run
async def list_toolkits(
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    as_json: bool = JsonOption,
) -> None:
    """List toolkits with their tool counts."""
    from toolfoundry.cli.catalog import open_catalog

    async with open_catalog() as catalog:
        toolkits = await catalog.list_toolkits(category)
    if as_json:
        print_json(toolkits)
        return
    table = Table()
    for column in ("toolkit", "category", "tools", "description"):
        table.add_column(column)
    for k in toolkits:
        table.add_row(k.id, k.category, str(k.tool_count), k.description)
    console.print(table)


@toolkits_app.command("create")
@run
async def create_toolkit(
    name: str,
    description: Annotated[str, typer.Option(help="What the toolkit is for.")] = "",
    category: Annotated[str, typer.Option(help="A grouping, e.g. data or text.")] = "general",
) -> None:
    """Create an empty toolkit."""
    async with open_library() as library:
        toolkit = await library.create_toolkit(name, description, category)
    console.print(f"created toolkit {toolkit.id}")


@tools_app.command("examples")
@run
async def write_examples(
    tool_ids: Annotated[
        list[str] | None, typer.Argument(help="toolkit.tool ids; none: every tool.")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Rewrite examples a model already wrote.")
    ] = False,
    count: Annotated[int, typer.Option(min=1, max=10, help="Requests per tool.")] = 3,
    as_json: bool = JsonOption,
) -> None:
    """Have the configured model write example requests for tools (Re-Invoke style).

    They are stored as generated (apart from the author's `examples`) and join each tool's
    discovery text, so requests worded like users word them find it. Needs
    TOOLFOUNDRY_LLM_MODEL; one short model call per tool. A running `serve` sees them within
    a second. Example: `toolfoundry tools examples text.slugify --count 5`."""
    async with open_library() as library:
        results = await library.write_examples(
            tool_ids or None,
            replace=replace,
            count=count,
            on_progress=lambda line: err_console.print(line, markup=False, highlight=False),
        )
    if as_json:
        print_json(results)
        return
    for result in results:
        if result.examples:
            console.print(f"[bold]{result.tool_id}[/]")
            for example in result.examples:
                console.print(f"  {example}", markup=False, highlight=False)
    written = sum(bool(r.examples) for r in results)
    failed = [r for r in results if r.error]
    console.print(
        f"[dim]{written} tools got examples, {sum(bool(r.skipped) for r in results)} skipped, "
        f"{len(failed)} failed[/]"
    )
    if failed and not written:
        raise typer.Exit(1)
