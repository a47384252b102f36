"""Settings from the environment (prefix `TOOLFOUNDRY_`); the defaults need nothing external."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, computed_field, field_validator
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
    discovery_llm_timeout: float = Field(
        default=5.0, gt=0, description="Seconds before LLM discovery falls back to retrieval."
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

    @computed_field  # type: ignore[prop-decorator]
    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'toolfoundry.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
