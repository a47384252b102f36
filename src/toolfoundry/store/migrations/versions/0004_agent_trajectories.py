"""agent trajectories, their steps and per-scenario tool metrics

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_trajectories",
        sa.Column("trajectory_id", sa.String(length=64), nullable=False),
        sa.Column("user_query", sa.Text(), nullable=False),
        sa.Column("identified_scenario", sa.String(length=100), nullable=True),
        sa.Column("agent_version", sa.String(length=50), nullable=True),
        sa.Column("llm_model", sa.String(length=100), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("final_success", sa.Boolean(), nullable=True),
        sa.Column("final_result", sa.JSON(), nullable=True),
        sa.Column("total_steps", sa.Integer(), nullable=False),
        sa.Column("total_execution_time", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("trajectory_id"),
    )
    for column in ("identified_scenario", "start_time", "final_success"):
        op.create_index(f"ix_agent_trajectories_{column}", "agent_trajectories", [column])
    op.create_table(
        "trajectory_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trajectory_id", sa.String(length=64), nullable=False),
        sa.Column("step_type", sa.String(length=32), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("tool_id", sa.String(length=256), nullable=True),
        sa.Column("input_data", sa.JSON(), nullable=False),
        sa.Column("output_data", sa.JSON(), nullable=False),
        sa.Column("llm_interaction", sa.JSON(), nullable=True),
        sa.Column("performance_metrics", sa.JSON(), nullable=True),
        sa.Column("execution_time", sa.Float(), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("error_type", sa.String(length=128), nullable=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["trajectory_id"], ["agent_trajectories.trajectory_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("trajectory_id", "step_index", name="uq_trajectory_step"),
    )
    op.create_index("ix_trajectory_steps_step_type", "trajectory_steps", ["step_type"])
    op.create_index("ix_trajectory_steps_success", "trajectory_steps", ["success"])
    op.create_index("ix_trajectory_steps_tool", "trajectory_steps", ["tool_id", "success"])
    op.create_table(
        "tool_effectiveness_metrics",
        sa.Column("tool_id", sa.String(length=256), nullable=False),
        sa.Column("scenario_type", sa.String(length=100), nullable=False),
        sa.Column("usage_count", sa.Integer(), nullable=False),
        sa.Column("success_count", sa.Integer(), nullable=False),
        sa.Column("run_count", sa.Integer(), nullable=False),
        sa.Column("run_success_count", sa.Integer(), nullable=False),
        sa.Column("total_execution_time", sa.Float(), nullable=False),
        sa.Column("avg_effectiveness_score", sa.Float(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tool_id", "scenario_type"),
    )
    op.create_index(
        "ix_tool_effectiveness_metrics_avg_effectiveness_score",
        "tool_effectiveness_metrics",
        ["avg_effectiveness_score"],
    )


def downgrade() -> None:
    op.drop_table("tool_effectiveness_metrics")
    op.drop_table("trajectory_steps")
    op.drop_table("agent_trajectories")
