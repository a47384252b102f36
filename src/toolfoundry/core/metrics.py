"""Prometheus metrics, served at /metrics. Names follow the reference design where it has one."""

from prometheus_client import Counter, Histogram

TOOL_CALLS = Counter(
    "toolfoundry_tool_calls_total", "Tool calls by tool and outcome.", ["tool", "status"]
)
TOOL_CALL_DURATION = Histogram(
    "toolfoundry_tool_call_duration_seconds",
    "Tool call duration, validation to result.",
    ["kind"],
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30),
)
