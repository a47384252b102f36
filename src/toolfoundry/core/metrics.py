"""Prometheus metrics, served at /metrics. Names follow the reference design where it has one."""

from prometheus_client import Counter, Gauge, Histogram

TOOL_CALLS = Counter(
    "toolfoundry_tool_calls_total", "Tool calls by tool and outcome.", ["tool", "status"]
)
TOOL_CALL_DURATION = Histogram(
    "toolfoundry_tool_call_duration_seconds",
    "Tool call duration, validation to result.",
    ["kind"],
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30),
)

# Reference design name and buckets (seconds).
DISCOVERY_LATENCY = Histogram(
    "tool_discovery_latency",
    "Discovery latency in seconds, by mode (retrieval or llm).",
    ["mode"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 2.0, 5.0),
)

# The build service, with the reference design's names.
BUILD_REQUESTS = Counter(
    "mcp_build_requests_total",
    "Build requests by priority and final status (completed, failed, cancelled, reused).",
    ["priority", "status"],
)
BUILD_DURATION = Histogram(
    "mcp_build_duration_seconds",
    "Duration of builds, queue wait excluded; failure_type is empty on success.",
    ["success", "failure_type"],
    buckets=(1, 5, 10, 20, 30, 60, 120, 300, 600, 1200),
)
ACTIVE_BUILDS = Gauge("mcp_active_builds", "Builds running in this process.")
CODE_GENERATION_SUCCESS_RATE = Gauge(
    "mcp_code_generation_success_rate", "Share of strategy runs that produced a server."
)
ENVIRONMENT_BUILD_SUCCESS_RATE = Gauge(
    "mcp_environment_build_success_rate", "Share of build environments created successfully."
)
TEST_VALIDATION_SUCCESS_RATE = Gauge(
    "mcp_test_validation_success_rate", "Share of sandboxed validations that passed."
)
