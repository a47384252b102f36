"""The uvicorn options `serve` and `builder serve` share: bind address, graceful stop, and the
protocol-level overload guards (`limit_concurrency`, `backlog`) from the settings."""

from __future__ import annotations

import copy
import logging
import time
from typing import Any

from toolfoundry.core.settings import Settings

# uvicorn logs this line once per refused request: under a flood that is thousands of lines a
# second, each costing the event loop more than the refusal itself.
OVERLOAD_MESSAGE = "Exceeded concurrency limit."
OVERLOAD_LOG_EVERY_S = 10.0


class OverloadLogFilter(logging.Filter):
    """Counts uvicorn's protocol-level refusals as shed requests and logs one line per
    `OVERLOAD_LOG_EVERY_S` with how many there were, instead of one per refusal."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0
        self.last_logged = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() != OVERLOAD_MESSAGE:
            return True
        from toolfoundry.core import metrics

        metrics.REQUESTS_SHED.inc()
        self.refused += 1
        now = time.monotonic()
        if now - self.last_logged < OVERLOAD_LOG_EVERY_S:
            return False
        record.msg = f"{OVERLOAD_MESSAGE} {self.refused} connections refused (limit_concurrency)"
        record.args = ()
        self.refused = 0
        self.last_logged = now
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging set-up plus the overload filter; a dict, so every worker process
    (which configures its logging from it) gets the filter too."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["overload"] = {"()": f"{__name__}.OverloadLogFilter"}
    config["loggers"]["uvicorn.error"]["filters"] = ["overload"]
    return config


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": "warning",
        "log_config": log_config(),
        # A stop waits this long for requests in flight, then cancels them and shuts down.
        "timeout_graceful_shutdown": int(settings.shutdown_grace) or 1,
        "limit_concurrency": settings.limit_concurrency or None,
        "backlog": settings.backlog,
    }
