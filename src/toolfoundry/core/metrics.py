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

# The LLM build loop (CodeReAct): outcomes, iterations, phases and healing.
CODEREACT_BUILDS = Counter(
    "mcp_codereact_builds_total",
    "LLM build loops by outcome (success, failed) and whether the first iteration passed.",
    ["outcome", "first_try"],
)
CODEREACT_SUCCESS_RATE = Gauge(
    "mcp_codereact_success_rate", "Share of LLM build loops that produced a validated server."
)
CODEREACT_FIRST_TRY_SUCCESS_RATE = Gauge(
    "mcp_codereact_first_try_success_rate", "Share of LLM build loops that passed at iteration 1."
)
CODEREACT_ITERATIONS = Histogram(
    "mcp_codereact_iterations",
    "Iterations an LLM build loop ran.",
    buckets=(1, 2, 3, 4, 5, 7, 10, 20),
)
BUILD_PHASE_DURATION = Histogram(
    "mcp_build_phase_duration_seconds",
    "Time per phase of an LLM build loop iteration.",
    ["phase"],
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
)
HEALING_ATTEMPTS = Counter(
    "mcp_healing_attempts_total",
    "Healing strategies applied, by the error class they answered and whether they helped.",
    ["strategy", "error_class", "outcome"],
)
HEALING_SUCCESS_RATE = Gauge(
    "mcp_healing_strategy_success_rate",
    "Recorded success rate of each healing strategy per error class.",
    ["strategy", "error_class"],
)

# Reference design name and buckets: effectiveness of tools whose score moved, per refresh.
TOOL_EFFECTIVENESS = Histogram(
    "tool_effectiveness_score",
    "Effectiveness (0..1, from recorded calls) of tools when discovery refreshes its priors.",
    buckets=(0.1, 0.3, 0.5, 0.7, 0.9, 1.0),
)

# Trajectories: agent runs recorded step by step.
TRAJECTORIES = Counter(
    "toolfoundry_trajectories_total", "Finished agent runs by outcome.", ["outcome"]
)
TRAJECTORY_STEPS = Counter(
    "toolfoundry_trajectory_steps_total", "Recorded trajectory steps.", ["step_type", "status"]
)

# Automatic fallbacks: discovery past its latency budget, and automatic building switched off.
DISCOVERY_FALLBACKS = Counter(
    "toolfoundry_discovery_fallbacks_total",
    "Discoveries answered from the cache or the static tools past the latency budget.",
    ["reason"],
)
AUTO_BUILD_ENABLED = Gauge(
    "toolfoundry_auto_build_enabled",
    "1 while build_missing may build; 0 while recent builds succeed too rarely.",
)
BUILD_RECENT_SUCCESS_RATE = Gauge(
    "toolfoundry_build_recent_success_rate",
    "Share of recent finished builds that succeeded (NaN before any).",
)
# Reliability: requests refused by load shedding (api/shedding.py).
REQUESTS_SHED = Counter(
    "toolfoundry_requests_shed_total", "Requests answered 503 because too many were in flight."
)
