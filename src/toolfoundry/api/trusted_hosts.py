"""Only requests naming a trusted Host reach the app: a web page on attacker.example whose DNS
name was rebound to 127.0.0.1 still sends `Host: attacker.example`, and is refused (400)."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from toolfoundry.api.problems import send_problem
from toolfoundry.auth.exposure import LOOPBACK_NAMES
from toolfoundry.core.errors import ToolfoundryError


class UntrustedHostError(ToolfoundryError):
    status_code = 400
    code = "untrusted_host"
    title = "Untrusted Host header"


def host_name(header: str) -> str:
    """`example.com:8765` → `example.com`; `[::1]:8765` → `::1`."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def allowed_hosts(bind_host: str, extra: str | None) -> list[str]:
    """The loopback names, the bind address (unless a wildcard) and the configured extras."""
    hosts = list(LOOPBACK_NAMES)
    if bind_host not in ("0.0.0.0", "::", ""):
        hosts.append(host_name(bind_host) if bind_host.startswith("[") else bind_host.lower())
    hosts += [h.strip().lower() for h in (extra or "").split(",") if h.strip()]
    return list(dict.fromkeys(hosts))


class TrustedHostMiddleware:
    def __init__(self, app: ASGIApp, *, hosts: Iterable[str]) -> None:
        self.app = app
        hosts = list(hosts)
        self.any = "*" in hosts
        self.exact = frozenset(h for h in hosts if not h.startswith("*."))
        self.suffixes = tuple(h[1:] for h in hosts if h.startswith("*."))  # ".example.com"
        self.listed = ", ".join(hosts)

    def trusted(self, header: str) -> bool:
        name = host_name(header)
        return name in self.exact or (bool(self.suffixes) and name.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
        if self.trusted(header):
            await self.app(scope, receive, send)
            return
        error = UntrustedHostError(
            f"Host {header!r} is not one this service answers to.",
            hint=f"Use one of: {self.listed}; or add the name to TOOLFOUNDRY_ALLOWED_HOSTS.",
        )
        await send_problem(scope, receive, send, error)
