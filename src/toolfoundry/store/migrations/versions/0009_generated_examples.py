"""generated examples: requests a model wrote for a tool, kept apart from its author's

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 03:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tools") as batch:
        batch.add_column(
            sa.Column("generated_examples", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("tools") as batch:
        batch.drop_column("generated_examples")
