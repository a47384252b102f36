"""Where the service may listen without authentication: loopback only."""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # any other name may resolve to a public address


def unsafe_bind(auth: bool, host: str) -> str | None:
    """Why serving on `host` with this auth setting is refused, or None when it is fine."""
    if auth or is_loopback(host):
        return None
    return (
        f"refusing to serve on {host} with TOOLFOUNDRY_AUTH=off: without authentication "
        "anyone who can reach the address can register and run commands. Turn auth on "
        "(the default) or bind a loopback address (127.0.0.1)."
    )


AUTH_OFF_WARNING = (
    "authentication is OFF (TOOLFOUNDRY_AUTH=off): any local process can call, build and "
    "register tools; requests from non-loopback peers still need a token"
)
