"""Settings from the environment (prefix `TOOLFOUNDRY_`); the defaults need nothing external."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, PrivateAttr, computed_field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "toolfoundry"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOOLFOUNDRY_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where the embedded SQLite catalog and build artefacts live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL, e.g. postgresql+asyncpg://user:pw@host/db. "
        "Default: SQLite file in the data directory.",
    )
    redis_url: str | None = Field(default=None, description="Optional Redis for catalog events.")
    host: str = "127.0.0.1"
    port: int = 8765
    load_starters: bool = Field(default=True, description="Register the starter toolkits on start.")
    default_timeout: float = Field(default=30.0, gt=0, description="Per-call timeout (s).")
    max_concurrent_calls: int = Field(default=64, ge=1, description="Calls running at once.")
    retry_backoff: float = Field(default=0.2, ge=0, description="First retry delay (s).")
    gateway_meta_only: bool = Field(
        default=False,
        description="Expose only discover_tools and call_tool on the MCP gateway.",
    )
    gateway_safe_names: bool = Field(
        False,
        description="Expose tool names matching ^[a-zA-Z0-9_-]{1,64}$ on the HTTP gateway "
        "(`stats__mean` for `stats.mean`), as OpenAI-style function calling requires. "
        "`toolfoundry mcp serve --stdio` turns it on unless --dotted-names is given.",
    )
    embedder: str = Field(
        default="minilm",
        description="Discovery embedder: minilm (bundled, English, best measured), e5 "
        "(bundled, multilingual: use it for Chinese requests over English tools), static, "
        "none, or openai (an OpenAI-compatible /v1/embeddings endpoint, see embedding_*).",
    )
    embedding_base_url: str | None = None
    embedding_api_key: str | None = None
    embedding_model: str = "text-embedding-3-small"
    discovery_gap_threshold: float = Field(default=0.8, ge=0, le=1)
    discovery_gap_min_absence: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Report a capability gap only when the gap model's probability that a "
        "needed tool is missing reaches this (0 = off: coverage alone decides). 0.38 halves "
        "false gaps on near-duplicate catalogs but misses obvious ones (docs/benchmarks.md).",
    )
    discovery_multilingual_embedder: str = Field(
        default="e5",
        description="Bundled embedder for requests with CJK characters (Chinese), loaded on "
        "the first such request or tool text; 'none' keeps one embedder for every request.",
    )
    discovery_llm_timeout: float = Field(
        default=5.0, gt=0, description="Seconds before LLM discovery falls back to retrieval."
    )
    discovery_generate_examples: bool = Field(
        default=False,
        description="With a model configured, `serve` writes a few example requests for each "
        "tool that has none (stored as generated; they join its discovery text). Off by "
        "default: one model call per tool. `toolfoundry tools examples` does it on demand.",
    )
    discovery_examples_timeout: float = Field(
        default=120.0, gt=0, description="Seconds the model may take to write one tool's examples."
    )
    max_concurrent_builds: int = Field(
        default=2, ge=1, description="Builds run at once by this process's build workers."
    )
    builder_url: str | None = Field(
        default=None,
        description="A remote build service (`toolfoundry builder serve`); default: in process.",
    )
    gap_build_budget: float = Field(
        default=120.0, gt=0, description="Seconds discovery waits for gaps to be built."
    )
    llm_model: str | None = Field(default=None, description="e.g. openai:gpt-4o-mini")
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_temperature: float | None = Field(
        default=None,
        ge=0,
        le=2,
        description="Sampling temperature for model calls that choose none (the agent, code "
        "generation); unset: the server's default. 0 makes a small model's runs repeatable.",
    )
    build_max_iterations: int = Field(
        default=5, ge=1, le=20, description="Generate → check rounds of the LLM build loop."
    )
    build_format_retries: int = Field(
        default=2, ge=0, description="Re-asks when the model's answer is not one block per file."
    )
    github_token: str | None = Field(
        default=None, description="For the build web agent's GitHub repository and code search."
    )
    web_search_url: str | None = Field(
        default=None,
        description="An HTTP search API for the build web agent (GET ?q=…, JSON results); "
        "unset: web search is skipped.",
    )
    web_search_api_key: str | None = None
    log_level: str = "INFO"
    # Build sandbox (docs/security.md, "Build sandbox").
    sandbox_disk_mb: int = Field(
        default=256, ge=1, description="Size of a sandbox's writable work dir (tmpfs), MB."
    )
    sandbox_server_cpu_seconds: int = Field(
        default=300,
        ge=1,
        description="CPU seconds a registered built server process may use before it is killed "
        "(the connection manager restarts it on its next call).",
    )
    sandbox_server_wall_seconds: int = Field(
        default=1800, ge=1, description="Lifetime of a registered built server process (s)."
    )
    sandbox_uids: str = Field(
        default="61000-61999",
        pattern=r"^\d+-\d+$",
        description="Host uids for sandboxes (as root), one per work dir: FIRST-LAST.",
    )
    uv_cache_dir: Path | None = Field(
        default=None, description="uv's cache for build venvs; default: <data_dir>/uv-cache."
    )

    @field_validator("sandbox_uids")
    @classmethod
    def _uid_range(cls, value: str) -> str:
        first, _, last = value.partition("-")
        if not 1000 <= int(first) <= int(last):
            raise ValueError("sandbox_uids must be FIRST-LAST with 1000 <= FIRST <= LAST")
        return value

    # --- security: authentication and request guards (docs/security.md) ---
    auth: bool = Field(
        default=True,
        description="Require a bearer token on every interface; `off` is honoured only on a "
        "loopback bind (and only for loopback clients).",
    )
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a verified token is trusted before the database is asked again "
        "(a revocation by another process takes effect within this time).",
    )
    metrics_public: bool = Field(
        default=False, description="Serve /metrics without a token (default: needs `read`)."
    )
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, description="Largest request body accepted (413 above)."
    )
    allowed_hosts: str | None = Field(
        default=None,
        description="Comma-separated Host header values accepted besides localhost, 127.0.0.1, "
        "::1 and the bind address (`*.example.com` patterns allowed); `*` accepts any.",
    )
    jwt_jwks_url: str | None = Field(
        default=None,
        description="Also accept JWTs from an identity provider, verified with this JWKS URL.",
    )
    jwt_issuer: str | None = Field(default=None, description="Required `iss` of JWTs.")
    jwt_audience: str | None = Field(default=None, description="Required `aud` of JWTs.")
    jwt_scope_prefix: str = Field(
        default="",
        description="JWT scopes granting toolfoundry scopes: with `toolfoundry:`, the IdP "
        "scope `toolfoundry:read` grants `read`.",
    )
    builder_token: str | None = Field(
        default=None,
        description="Bearer token for a remote build service (default: the local admin token).",
    )

    # --- least privilege and bulkheads (docs/security.md) ----------------------------------
    files_root: str | None = Field(
        default=None,
        description="Directories file-reading and -writing tools may touch, separated by "
        f"{os.pathsep!r}; default: the directory the service started in, plus "
        "<data_dir>/files.",
    )
    stdio_commands: str | None = Field(
        default=None,
        description="Allow-list of commands stdio MCP servers may run (names looked up on "
        "PATH, or absolute paths), separated by ',' or the path separator; unset: any "
        "existing command.",
    )
    regex_timeout: float = Field(
        default=0.5,
        gt=0,
        description="CPU seconds a caller's regular expression may run (the `regex` engine "
        "counts the matching thread's CPU time, so a loaded machine takes longer in wall time).",
    )
    max_concurrent_per_server: int = Field(
        default=16, ge=1, description="Calls running at once on one MCP server."
    )
    max_concurrent_per_tool: int = Field(
        default=16, ge=1, description="Calls running at once of one tool."
    )
    bulkhead_wait: float = Field(
        default=0.5,
        ge=0,
        description="Seconds a call waits for a free per-server/per-tool slot before a 503.",
    )
    # The directory the settings were loaded in: the default file root.
    _launch_dir: Path = PrivateAttr(default_factory=Path.cwd)

    @property
    def files_roots(self) -> list[Path]:
        """The configured file roots, or the launch directory and <data_dir>/files."""
        if self.files_root:
            return [Path(p).expanduser() for p in self.files_root.split(os.pathsep) if p]
        return [self._launch_dir, self.data_dir / "files"]

    @property
    def stdio_command_list(self) -> list[str] | None:
        """The stdio command allow-list, or None when any command may run."""
        if self.stdio_commands is None:
            return None
        items = self.stdio_commands.replace(os.pathsep, ",").split(",")
        return [item.strip() for item in items if item.strip()]

    # Automatic fallbacks (the reference design's two alerts, acted on by the service itself).
    discovery_latency_budget: float = Field(
        default=8.0,
        gt=0,
        description="Seconds a discovery may take before the answer comes from the cache of "
        "recent answers or the static tools (an LLM answer falls back to retrieval first, "
        "after discovery_llm_timeout).",
    )
    discovery_static_tools: list[str] = Field(
        default_factory=list,
        description="Tool ids of the static answer; default: the most used enabled tools.",
    )
    auto_build_min_success_rate: float = Field(
        default=0.8,
        ge=0,
        le=1,
        description="build_missing switches itself off while recent builds succeed less often.",
    )
    auto_build_min_builds: int = Field(
        default=5, ge=1, description="Finished builds needed before the rate can switch it off."
    )
    auto_build_window: int = Field(
        default=20, ge=1, description="The most recent finished builds the rate is taken over."
    )
    auto_build_window_s: float = Field(
        default=3600.0,
        gt=0,
        description="Only builds finished this recently count, so building resumes after a pause.",
    )
    # --- reliability (issue 15) ---
    idempotency_ttl: float = Field(
        default=86_400.0, gt=0, le=30 * 86_400, description="Seconds an Idempotency-Key is kept."
    )
    durable_call_records: bool = Field(
        default=True, description="A call answers only once its record is committed."
    )
    call_record_commit_window: float = Field(
        default=0.0, ge=0, le=0.1, description="Seconds to gather calls into one commit."
    )
    max_inflight_requests: int = Field(
        default=64,
        ge=0,
        description="HTTP requests in flight per worker beyond which the service answers 503 "
        "with Retry-After (0: no limit). /health, /ready and /metrics are never refused.",
    )
    workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes.")
    limit_concurrency: int = Field(
        default=0,
        ge=0,
        description="Per worker, connections plus requests beyond which uvicorn itself answers "
        "a bare 503 and closes the connection before the app runs (0: off). A backstop above "
        "max_inflight_requests, for clients that ignore Retry-After.",
    )
    backlog: int = Field(
        default=2048,
        ge=1,
        le=65_535,
        description="Connections the kernel queues before the service accepts them.",
    )
    shutdown_grace: float = Field(
        default=10.0, gt=0, le=600, description="Seconds a stop waits for requests in flight."
    )
    # Tracing (optional, `pip install toolfoundry[otel]`): off unless an endpoint is set.
    otel_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector base URL, e.g. http://collector:4318; unset: no tracing.",
    )
    otel_service_name: str = Field(
        default="toolfoundry", min_length=1, description="`service.name` of exported spans."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'toolfoundry.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
