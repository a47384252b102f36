"""Per-server gauges, read from the live connections when Prometheus scrapes.

`toolfoundry_mcp_server_up{server}` is 0 while a server's connection is unhealthy (a stopped,
idle-closed server is not down); `toolfoundry_mcp_breaker_open{server}` is 1 while its circuit
breaker is open. A collector rather than gauges set on each change: the state is already kept
by each connection, and reading it at scrape time cannot go stale.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Protocol

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from toolfoundry.mcp.config import ServerStatus


class ServerStatuses(Protocol):
    """What the collector reads of a connection manager."""

    def statuses(self) -> list[ServerStatus]: ...


_managers: weakref.WeakSet[ServerStatuses] = weakref.WeakSet()


def track(manager: ServerStatuses) -> None:
    """Report `manager`'s servers while it lives."""
    _managers.add(manager)


class _ServerCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "toolfoundry_mcp_server_up",
            "1 unless the server's connection is unhealthy.",
            labels=["server"],
        )
        breaker = GaugeMetricFamily(
            "toolfoundry_mcp_breaker_open",
            "1 while the server's circuit breaker is open.",
            labels=["server"],
        )
        # Several libraries in one process (tests, embedding) may know the same server name.
        ups: dict[str, float] = {}
        opens: dict[str, float] = {}
        for manager in list(_managers):
            for status in manager.statuses():
                down = status.state == "unhealthy"
                is_open = status.breaker == "open"
                ups[status.name] = min(ups.get(status.name, 1.0), 0.0 if down else 1.0)
                opens[status.name] = max(opens.get(status.name, 0.0), 1.0 if is_open else 0.0)
        for name in sorted(ups):
            up.add_metric([name], ups[name])
            breaker.add_metric([name], opens[name])
        yield up
        yield breaker


REGISTRY.register(_ServerCollector())
