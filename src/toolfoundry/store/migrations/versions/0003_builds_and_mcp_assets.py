"""builds and mcp assets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 13:15:53.376929
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "build_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("build_id", sa.String(length=40), nullable=False),
        sa.Column("requirement_hash", sa.String(length=64), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=True),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("error_class", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("build_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_build_failures_build_id"), ["build_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_build_failures_error_class"), ["error_class"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_build_failures_requirement_hash"), ["requirement_hash"], unique=False
        )

    op.create_table(
        "builds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("priority_rank", sa.Integer(), nullable=False),
        sa.Column("requirement", sa.JSON(), nullable=False),
        sa.Column("requirement_hash", sa.String(length=64), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("timeout", sa.Float(), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=True),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("current_phase", sa.String(length=32), nullable=False),
        sa.Column("logs", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=160), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("failure_type", sa.String(length=32), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("asset_id", sa.String(length=40), nullable=True),
        sa.Column("reused", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.create_index(
            "ix_builds_queue", ["status", "priority_rank", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_builds_requirement_hash"), ["requirement_hash"], unique=False
        )

    op.create_table(
        "mcp_assets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("requirement", sa.JSON(), nullable=False),
        sa.Column("requirement_hash", sa.String(length=64), nullable=False),
        sa.Column("dependencies", sa.JSON(), nullable=False),
        sa.Column("network", sa.Boolean(), nullable=False),
        sa.Column("provenance", sa.String(length=16), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("server_name", sa.String(length=64), nullable=False),
        sa.Column("toolkit", sa.String(length=128), nullable=False),
        sa.Column("launch", sa.JSON(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedding_model", sa.String(length=128), nullable=True),
        sa.Column("validation", sa.JSON(), nullable=False),
        sa.Column("security", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("reuse_count", sa.Integer(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("effectiveness", sa.Float(), nullable=False),
        sa.Column("build_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("mcp_assets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mcp_assets_requirement_hash"), ["requirement_hash"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("mcp_assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mcp_assets_requirement_hash"))

    op.drop_table("mcp_assets")
    with op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_builds_requirement_hash"))
        batch_op.drop_index("ix_builds_queue")

    op.drop_table("builds")
    with op.batch_alter_table("build_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_build_failures_requirement_hash"))
        batch_op.drop_index(batch_op.f("ix_build_failures_error_class"))
        batch_op.drop_index(batch_op.f("ix_build_failures_build_id"))

    op.drop_table("build_failures")
