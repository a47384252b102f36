"""Turn MCP client configuration files and MCP Registry entries into `McpServerConfig`s.

Two formats are read:

- the `mcpServers` object of Claude Desktop and Cursor (`servers` in VS Code):
  `{"mcpServers": {"name": {"command", "args", "env", "cwd"} | {"url", "headers", "type"}}}`;
- the MCP Registry's `server.json` (a single server, a `{"server": ...}` wrapper, or a registry
  listing `{"servers": [...]}`): a package (`pypi` via uvx, `npm` via npx, `oci` via docker) run
  over stdio, or a remote (`streamable-http` / `sse`); remotes of the same kind become failover
  URLs.

Errors are `McpConfigError`s naming the entry and the field at fault.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from toolfoundry.mcp.config import McpServerConfig
from toolfoundry.mcp.errors import McpConfigError

__all__ = ["load_server_configs", "parse_mcp_servers", "parse_server_json"]

_RUNTIMES = {"pypi": "uvx", "npm": "npx", "oci": "docker"}
_REMOTE_KINDS = {"streamable-http": "http", "sse": "sse"}


def load_server_configs(
    source: str | Path | Mapping[str, Any], *, values: Mapping[str, str] | None = None
) -> list[McpServerConfig]:
    """Read a file (or parsed JSON) in either format, detected from its shape."""
    data = _read(source) if isinstance(source, str | Path) else source
    if not isinstance(data, Mapping):
        raise McpConfigError("an MCP server file must hold a JSON object")
    if "mcpServers" in data or isinstance(data.get("servers"), Mapping):
        return parse_mcp_servers(data)
    if "name" in data or "server" in data or isinstance(data.get("servers"), list):
        return parse_server_json(data, values=values)
    raise McpConfigError(
        "unrecognized MCP server file: expected an `mcpServers` object (Claude Desktop, Cursor) "
        "or an MCP Registry server.json (with `name` and `packages` or `remotes`)"
    )


def parse_mcp_servers(data: Mapping[str, Any]) -> list[McpServerConfig]:
    """Parse the `mcpServers` JSON of Claude Desktop / Cursor (or VS Code's `servers`)."""
    servers = data.get("mcpServers", data.get("servers"))
    if not isinstance(servers, Mapping):
        raise McpConfigError("`mcpServers` must be an object mapping server names to settings")
    configs: dict[str, McpServerConfig] = {}
    for key, entry in servers.items():
        where = f"mcpServers[{key!r}]"
        if not isinstance(entry, Mapping):
            raise McpConfigError(f"{where} must be an object")
        if entry.get("disabled") is True:
            continue
        name = _slug(key, where)
        if name in configs:
            raise McpConfigError(f"{where}: another entry already uses the name {name!r}")
        fields: dict[str, Any] = {"name": name}
        kind = entry.get("type", entry.get("transport"))
        if kind is not None:
            fields["transport"] = kind
        elif entry.get("url"):
            fields["transport"] = _guess_url_transport(str(entry["url"]))
        for field in ("command", "args", "env", "cwd", "url", "headers"):
            if entry.get(field) is not None:
                fields[field] = entry[field]
        configs[name] = _build(fields, where)
    return list(configs.values())


def parse_server_json(
    data: Mapping[str, Any],
    *,
    values: Mapping[str, str] | None = None,
    prefer: Literal["package", "remote"] = "package",
) -> list[McpServerConfig]:
    """Parse MCP Registry `server.json` entries: one config per server.

    `values` supplies inputs the entry leaves open — required environment variables, headers
    and positional arguments, by name (or `valueHint`). `prefer` picks a runnable package or a
    remote when a server offers both.
    """
    if isinstance(data.get("servers"), list):
        entries = [item.get("server", item) for item in data["servers"]]
    else:
        entries = [data.get("server", data)]
    return [
        _from_server_json(entry, values or {}, prefer, f"servers[{index}]")
        for index, entry in enumerate(entries)
    ]


# --- server.json ---------------------------------------------------------------------------


def _from_server_json(
    entry: Any, values: Mapping[str, str], prefer: str, where: str
) -> McpServerConfig:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
        raise McpConfigError(f"{where}: a server.json entry needs a string `name`")
    where = f"server {entry['name']!r}"
    # "io.github.owner/weather" -> "weather"
    name = _slug(entry["name"].rsplit("/", 1)[-1], where)
    packages = entry.get("packages") or []
    remotes = entry.get("remotes") or []
    if not packages and not remotes:
        raise McpConfigError(f"{where}: it lists neither `packages` nor `remotes` to connect to")
    problems: list[str] = []
    order = ("package", "remote") if prefer == "package" else ("remote", "package")
    for kind in order:
        try:
            if kind == "package" and packages:
                return _from_packages(name, packages, values, where)
            if kind == "remote" and remotes:
                return _from_remotes(name, remotes, values, where)
        except McpConfigError as exc:
            problems.append(str(exc))
    raise McpConfigError("; ".join(problems))


def _from_packages(
    name: str, packages: list[Any], values: Mapping[str, str], where: str
) -> McpServerConfig:
    problems: list[str] = []
    for index, package in enumerate(packages):
        at = f"{where} packages[{index}]"
        if not isinstance(package, Mapping):
            problems.append(f"{at} must be an object")
            continue
        registry = package.get("registryType")
        transport = (package.get("transport") or {}).get("type", "stdio")
        if registry not in _RUNTIMES:
            problems.append(
                f"{at}: registryType {registry!r} is not supported (use pypi, npm or oci)"
            )
        elif transport != "stdio":
            problems.append(f"{at}: only stdio packages can be started, not {transport!r}")
        else:
            return _build(_package_fields(name, package, values, at), at)
    raise McpConfigError("; ".join(problems))


def _package_fields(
    name: str, package: Mapping[str, Any], values: Mapping[str, str], at: str
) -> dict[str, Any]:
    registry = package["registryType"]
    identifier = package.get("identifier")
    if not isinstance(identifier, str) or not identifier:
        raise McpConfigError(f"{at}: `identifier` is missing")
    version = package.get("version")
    runtime = package.get("runtimeHint") or _RUNTIMES[registry]
    runtime_args = _arguments(package.get("runtimeArguments") or [], values, at)
    package_args = _arguments(package.get("packageArguments") or [], values, at)
    env = _key_values(package.get("environmentVariables") or [], values, at, "environment")
    target = f"{identifier}@{version}" if version else identifier
    if registry == "pypi":
        args = [*runtime_args, target, *package_args]
    elif registry == "npm":
        args = [*(runtime_args or ["-y"]), target, *package_args]
    else:
        # The container only sees variables named on the command line; `-e NAME` passes ours.
        passed_env = [flag for key in env for flag in ("-e", key)]
        args = ["run", "-i", "--rm", *runtime_args, *passed_env, identifier, *package_args]
    return {"name": name, "transport": "stdio", "command": runtime, "args": args, "env": env}


def _from_remotes(
    name: str, remotes: list[Any], values: Mapping[str, str], where: str
) -> McpServerConfig:
    by_kind: dict[str, list[Mapping[str, Any]]] = {"http": [], "sse": []}
    for index, remote in enumerate(remotes):
        at = f"{where} remotes[{index}]"
        kind = remote.get("type") if isinstance(remote, Mapping) else None
        if kind not in _REMOTE_KINDS:
            raise McpConfigError(f"{at}: type {kind!r} is not one of streamable-http, sse")
        if not remote.get("url"):
            raise McpConfigError(f"{at}: `url` is missing")
        by_kind[_REMOTE_KINDS[kind]].append(remote)
    # Streamable HTTP is the current transport; further remotes of one kind are failovers.
    transport, chosen = ("http", by_kind["http"]) if by_kind["http"] else ("sse", by_kind["sse"])
    at = f"{where} remotes"
    return _build(
        {
            "name": name,
            "transport": transport,
            "url": _substitute(chosen[0]["url"], values),
            "failover_urls": [_substitute(remote["url"], values) for remote in chosen[1:]],
            "headers": _key_values(chosen[0].get("headers") or [], values, at, "header"),
        },
        at,
    )


def _arguments(arguments: list[Any], values: Mapping[str, str], at: str) -> list[str]:
    """Render registry `Argument`s as command-line words."""
    words: list[str] = []
    for argument in arguments:
        if not isinstance(argument, Mapping):
            raise McpConfigError(f"{at}: every argument must be an object")
        label = argument.get("name") or argument.get("valueHint")
        value = _input_value(argument, values, label)
        if argument.get("type") == "named":
            if not argument.get("name"):
                raise McpConfigError(f"{at}: a named argument needs `name`")
            words.append(argument["name"])
            if value is not None:
                words.append(value)
        elif value is not None:
            words.append(value)
        elif argument.get("isRequired"):
            raise McpConfigError(
                f"{at}: the required argument {label!r} has no value; pass it in `values`"
            )
    return words


def _key_values(items: list[Any], values: Mapping[str, str], at: str, what: str) -> dict[str, str]:
    """Render registry `KeyValueInput`s (environment variables, headers) as a mapping."""
    result: dict[str, str] = {}
    for item in items:
        if not isinstance(item, Mapping) or not item.get("name"):
            raise McpConfigError(f"{at}: every {what} entry needs a `name`")
        value = _input_value(item, values, item["name"])
        if value is not None:
            result[item["name"]] = value
        elif item.get("isRequired"):
            described = f" ({item['description']})" if item.get("description") else ""
            raise McpConfigError(
                f"{at}: the required {what} {item['name']!r}{described} has no value; "
                "pass it in `values`"
            )
    return result


def _input_value(item: Mapping[str, Any], values: Mapping[str, str], label: Any) -> str | None:
    value = values.get(label) if isinstance(label, str) else None
    if value is None:
        value = item.get("value", item.get("default"))
    if value is None:
        return None
    variables = {
        key: _input_value(variable, values, key)
        for key, variable in (item.get("variables") or {}).items()
    }
    return _substitute(str(value), {**values, **{k: v for k, v in variables.items() if v}})


def _substitute(template: str, values: Mapping[str, str]) -> str:
    # Registry rule: `{name}` is replaced when known and left as it is otherwise.
    return re.sub(r"\{([^{}]+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


# --- shared ----------------------------------------------------------------------------------


def _read(path: str | Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise McpConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise McpConfigError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc


def _slug(key: str, where: str) -> str:
    """A server name the config accepts: lowercase, runs of other characters become '-'."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", key.strip().lower()).strip("-_")[:64]
    if not slug:
        raise McpConfigError(f"{where}: cannot make a server name from {key!r}")
    return slug


def _guess_url_transport(url: str) -> str:
    # Cursor and Claude omit the type for remote servers; an /sse endpoint is the SSE transport.
    return "sse" if url.rstrip("/").endswith("/sse") else "http"


def _build(fields: dict[str, Any], where: str) -> McpServerConfig:
    try:
        return McpServerConfig.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'entry'}: "
            f"{error['msg'].removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        raise McpConfigError(f"{where}: {problems}") from exc
