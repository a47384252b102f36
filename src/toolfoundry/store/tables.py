"""Database tables. Changes here need an Alembic migration in `store/migrations/versions/`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from toolfoundry.core.models import utcnow


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}


class ToolkitRow(Base):
    __tablename__ = "toolkits"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(64), default="general")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ToolRow(Base):
    __tablename__ = "tools"

    id: Mapped[str] = mapped_column(String(256), primary_key=True)
    toolkit_id: Mapped[str] = mapped_column(
        ForeignKey("toolkits.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    tags: Mapped[list[str]] = mapped_column(default=list)
    # Requests the tool serves, in users' words (from @tool(examples=...)): discovery evidence.
    examples: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # Requests a model wrote for the tool (`toolfoundry tools examples`): marked as generated,
    # replaced on request, never mixed with the author's.
    generated_examples: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    deprecated: Mapped[bool] = mapped_column(Boolean, default=False)
    timeout: Mapped[float | None] = mapped_column(Float, nullable=True)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    effectiveness_score: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ToolVersionRow(Base):
    __tablename__ = "tool_versions"
    __table_args__ = (UniqueConstraint("tool_id", "version", name="uq_tool_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tool_id: Mapped[str] = mapped_column(ForeignKey("tools.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    input_schema: Mapped[dict[str, Any]] = mapped_column(default=dict)
    output_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    source: Mapped[str | None] = mapped_column(String(512), nullable=True)
    # sha256 of a function tool's source text: pins the code a version runs (None: MCP tools).
    code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    deprecated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ToolCallRow(Base):
    __tablename__ = "tool_calls"
    __table_args__ = (Index("ix_tool_calls_tool_started", "tool_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # No foreign key: call history outlives a removed tool.
    tool_id: Mapped[str] = mapped_column(String(256))
    version: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    duration_ms: Mapped[float] = mapped_column(Float)
    success: Mapped[bool] = mapped_column(Boolean)
    error_type: Mapped[str | None] = mapped_column(String(128), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)


class McpServerRow(Base):
    __tablename__ = "mcp_servers"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    toolkit_id: Mapped[str] = mapped_column(String(128))
    transport: Mapped[str] = mapped_column(String(16))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    server_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class EmbeddingRow(Base):
    """Embeddings cached by model and text hash: restarts and re-indexing skip the encoder."""

    __tablename__ = "embeddings"

    model: Mapped[str] = mapped_column(String(128), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BuildRow(Base):
    """One build request and its progress: the durable queue's source of truth."""

    __tablename__ = "builds"
    __table_args__ = (Index("ix_builds_queue", "status", "priority_rank", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(8), default="medium")
    priority_rank: Mapped[int] = mapped_column(Integer, default=1)
    requirement: Mapped[dict[str, Any]] = mapped_column(default=dict)
    requirement_hash: Mapped[str] = mapped_column(String(64), index=True)
    context: Mapped[str] = mapped_column(Text, default="")
    timeout: Mapped[float] = mapped_column(Float)
    strategy: Mapped[str | None] = mapped_column(String(64), nullable=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    current_phase: Mapped[str] = mapped_column(String(32), default="queued")
    logs: Mapped[list[str]] = mapped_column(default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(160), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    failure_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    asset_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class McpAssetRow(Base):
    """A built MCP server kept for reuse; its files live in `data_dir/mcp_assets/<id>/`."""

    __tablename__ = "mcp_assets"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text)
    requirement: Mapped[dict[str, Any]] = mapped_column(default=dict)
    requirement_hash: Mapped[str] = mapped_column(String(64), index=True)
    dependencies: Mapped[list[str]] = mapped_column(default=list)
    network: Mapped[bool] = mapped_column(Boolean, default=False)
    provenance: Mapped[str] = mapped_column(String(16), default="built")
    strategy: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(1024))
    files: Mapped[list[str]] = mapped_column(default=list)
    server_name: Mapped[str] = mapped_column(String(64))
    toolkit: Mapped[str] = mapped_column(String(128))
    launch: Mapped[dict[str, Any]] = mapped_column(default=dict)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    embedding_model: Mapped[str | None] = mapped_column(String(128), nullable=True)
    validation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    security: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reuse_count: Mapped[int] = mapped_column(Integer, default=0)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    effectiveness: Mapped[float] = mapped_column(Float, default=0.0)
    build_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BuildFailureRow(Base):
    """Why a build failed, classified, so a healer can pick its strategy from history."""

    __tablename__ = "build_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    build_id: Mapped[str] = mapped_column(String(40), index=True)
    requirement_hash: Mapped[str] = mapped_column(String(64), index=True)
    strategy: Mapped[str | None] = mapped_column(String(64), nullable=True)
    phase: Mapped[str] = mapped_column(String(32))
    error_class: Mapped[str] = mapped_column(String(32), index=True)
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TrajectoryRow(Base):
    """One agent run (the reference design's `agent_trajectories`): the request, what the
    agent made of it and how it ended. Times in seconds, as there."""

    __tablename__ = "agent_trajectories"

    trajectory_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_query: Mapped[str] = mapped_column(Text)
    identified_scenario: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    agent_version: Mapped[str | None] = mapped_column(String(50), nullable=True)
    llm_model: Mapped[str | None] = mapped_column(String(100), nullable=True)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="running")
    start_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    end_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    final_success: Mapped[bool | None] = mapped_column(Boolean, nullable=True, index=True)
    final_result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    total_steps: Mapped[int] = mapped_column(Integer, default=0)
    total_execution_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TrajectoryStepRow(Base):
    """One decision or action of a run, in order; `tool_id` is set for tool steps."""

    __tablename__ = "trajectory_steps"
    __table_args__ = (
        UniqueConstraint("trajectory_id", "step_index", name="uq_trajectory_step"),
        Index("ix_trajectory_steps_tool", "tool_id", "success"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trajectory_id: Mapped[str] = mapped_column(
        ForeignKey("agent_trajectories.trajectory_id", ondelete="CASCADE")
    )
    step_type: Mapped[str] = mapped_column(String(32), index=True)
    step_index: Mapped[int] = mapped_column(Integer)
    tool_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    input_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    output_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    llm_interaction: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    performance_metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    execution_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    success: Mapped[bool] = mapped_column(Boolean, index=True)
    error_type: Mapped[str | None] = mapped_column(String(128), nullable=True)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ToolScenarioMetricsRow(Base):
    """What finished runs taught about a tool in one scenario ("" when none was named): the
    reference design's `tool_effectiveness_metrics`, plus run outcomes."""

    __tablename__ = "tool_effectiveness_metrics"

    tool_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    scenario_type: Mapped[str] = mapped_column(String(100), primary_key=True)
    usage_count: Mapped[int] = mapped_column(Integer, default=0)
    success_count: Mapped[int] = mapped_column(Integer, default=0)
    run_count: Mapped[int] = mapped_column(Integer, default=0)
    run_success_count: Mapped[int] = mapped_column(Integer, default=0)
    total_execution_time: Mapped[float] = mapped_column(Float, default=0.0)
    avg_effectiveness_score: Mapped[float] = mapped_column(Float, default=0.5, index=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ApiTokenRow(Base):
    """An API token: only the SHA-256 of its secret is kept (toolfoundry.auth.tokens)."""

    __tablename__ = "api_tokens"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CatalogChangeRow(Base):
    """The change feed: one row per catalog write, inserted in the writer's transaction, so
    every process can follow what others changed (`store/feed.py`)."""

    __tablename__ = "catalog_changes"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(256))
    origin: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


class IdempotencyKeyRow(Base):
    """A REST call made with an `Idempotency-Key`: the request's hash and, once done, its
    response, so a repeat within the TTL gets the same answer without running again."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """None while the first request is still running."""
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class VirtualServerRow(Base):
    """A virtual server: a named view of the catalog served at /mcp/{name}
    (toolfoundry.registry.views)."""

    __tablename__ = "virtual_servers"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    toolkits: Mapped[list[str]] = mapped_column(default=list)
    tags: Mapped[list[str]] = mapped_column(default=list)
    tools: Mapped[list[str]] = mapped_column(default=list)
    meta_only: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_builds: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
